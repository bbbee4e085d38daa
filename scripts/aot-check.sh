#!/usr/bin/env bash
# Publishes the CLI with Native AOT (x86-64-v3, see src/SimdRnn.Cli/SimdRnn.Cli.csproj), fails on any trim or AOT
# warning, and checks that the native binary prints the same `demo` and writes the same `run` output as the JIT build.
# With --bench it also times a streaming step in both builds (`simdrnn bench`).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
log="$out/publish.log"
dotnet publish src/SimdRnn.Cli -c Release -r linux-x64 -p:PublishAot=true -o "$out/aot" >"$log" 2>&1 || { cat "$log"; exit 1; }
if grep -E "warning (IL|CS|NU)[0-9]+" "$log"; then echo "aot-check: publish produced warnings"; exit 1; fi
aot="$out/aot/SimdRnn.Cli"
jit=(dotnet src/SimdRnn.Cli/bin/Release/net10.0/SimdRnn.Cli.dll)
[ -f src/SimdRnn.Cli/bin/Release/net10.0/SimdRnn.Cli.dll ] || dotnet build src/SimdRnn.Cli -c Release >/dev/null

"$aot" demo >"$out/demo-aot.txt"
"${jit[@]}" demo >"$out/demo-jit.txt"
diff "$out/demo-aot.txt" "$out/demo-jit.txt"

fixture=tests/fixtures/pytorch/lstm_bi2.safetensors
"$aot" run --model "$fixture" --input "$fixture" --output "$out/run-aot.safetensors" >/dev/null
"${jit[@]}" run --model "$fixture" --input "$fixture" --output "$out/run-jit.safetensors" >/dev/null
cmp "$out/run-aot.safetensors" "$out/run-jit.safetensors"
echo "aot-check: publish clean; demo and run outputs identical to the JIT build"

if [ "${1:-}" = "--bench" ]; then
  model=$(mktemp --suffix=.safetensors)
  "${jit[@]}" train --model tests/fixtures/training/gru_bce_sum_sgd.safetensors --data tests/fixtures/training/gru_bce_sum_sgd.safetensors \
    --output "$model" --epochs 1 >/dev/null
  for build in aot jit; do
    if [ $build = aot ]; then "$aot" bench --model "$model" --steps 100000; else "${jit[@]}" bench --model "$model" --steps 100000; fi
  done
  rm -f "$model"
fi
