#!/usr/bin/env bash
# Publishes the CLI with Native AOT (x86-64-v3, see src/SimdRnn.Cli/SimdRnn.Cli.csproj), fails on any trim or AOT
# warning, checks that the native binary prints the same `demo` and writes the same `run` output as the JIT build, and
# prints the kernel width each build runs at (`simdrnn bench`'s runtime line: x86-64-v3 has no AVX-512, so the AOT
# binary's kernels run Vector<T> at 8 lanes while the JIT on an AVX-512 machine runs 16). With --v4 it also publishes
# for x86-64-v4 (AVX-512: 16 lanes) and checks that binary the same way, where the CPU has AVX-512. With --bench it
# also times a streaming step in both builds.
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

# The kernel width of each build (a short `bench` of a fixture; only its runtime line is kept).
width() { "$@" bench --model "$fixture" --steps 10 --seq 2 | grep '^runtime' | sed 's/^runtime *//'; }
echo "aot-check: AOT x86-64-v3: $(width "$aot")"
echo "aot-check: JIT:           $(width "${jit[@]}")"

for arg in "$@"; do
  [ "$arg" = "--v4" ] || continue
  if ! grep -qw avx512f /proc/cpuinfo; then echo "aot-check: no AVX-512 here, x86-64-v4 not checked"; continue; fi
  dotnet publish src/SimdRnn.Cli -c Release -r linux-x64 -p:PublishAot=true -p:IlcInstructionSet=x86-64-v4 -o "$out/aot4" >"$log" 2>&1 || { cat "$log"; exit 1; }
  if grep -E "warning (IL|CS|NU)[0-9]+" "$log"; then echo "aot-check: x86-64-v4 publish produced warnings"; exit 1; fi
  "$out/aot4/SimdRnn.Cli" demo >"$out/demo-aot4.txt"
  diff "$out/demo-aot4.txt" "$out/demo-jit.txt"
  echo "aot-check: AOT x86-64-v4: $(width "$out/aot4/SimdRnn.Cli"); demo identical to the JIT build"
done

if [[ " $* " == *" --bench "* ]]; then
  model=$(mktemp --suffix=.safetensors)
  "${jit[@]}" train --model tests/fixtures/training/gru_bce_sum_sgd.safetensors --data tests/fixtures/training/gru_bce_sum_sgd.safetensors \
    --output "$model" --epochs 1 >/dev/null
  for build in aot jit; do
    if [ $build = aot ]; then "$aot" bench --model "$model" --steps 100000; else "${jit[@]}" bench --model "$model" --steps 100000; fi
  done
  rm -f "$model"
fi
