#!/usr/bin/env bash
# Where the time goes in the ONNX Runtime comparison workloads: runs one workload per engine in a loop
# (`SimdRnn.Benchmarks profile`, the same setup as the BenchmarkDotNet classes) under `perf record` (cpu-clock
# sampling; JIT-compiled frames are named through DOTNET_PerfMapEnabled=1) and prints the symbols that take at least
# 1% of the samples, SimdRnn first, then ONNX Runtime. The results are discussed in docs/profiles.md.
#
#   bash scripts/profile.sh step|sequence|batch gru|lstm [IxH] [seconds] [fp32|bf16|int8|int8-int16]
#
# The last argument is SimdRnn's weight format (ONNX Runtime always runs fp32); SIMDRNN_PROFILE_ENGINES="simdrnn"
# skips ONNX Runtime; SIMDRNN_PROFILE_THREADS=2 runs both engines on two threads (default one).
#
# Needs Debian's linux-perf (perf). Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
workload=${1:-step} cell=${2:-gru} size=${3:-64x128} seconds=${4:-5} weights=${5:-fp32}
dotnet build benchmarks/SimdRnn.Benchmarks -c Release -v q -nologo >/dev/null
dll=benchmarks/SimdRnn.Benchmarks/bin/Release/net10.0/SimdRnn.Benchmarks.dll
data=$(mktemp)
trap 'rm -f "$data" "$data.old"' EXIT
for engine in ${SIMDRNN_PROFILE_ENGINES:-simdrnn ort}; do
  # W^X off: otherwise JIT code runs from a double-mapped memfd that perf cannot name.
  DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 perf record -q -e cpu-clock -F 2000 -o "$data" -- \
    dotnet "$dll" profile "$workload" "$cell" "$engine" "$size" "$seconds" "$weights"
  # Per symbol; addresses without a symbol (libonnxruntime.so ships stripped) are summed per library.
  perf report -i "$data" --stdio --no-children --sort dso,symbol 2>/dev/null | grep -v '^#' | grep -v '^$' \
    | awk '{
        pct = $1; sub(/%/, "", pct); line = $0; sub(/^ *[0-9.]+% +/, "", line)
        at = index(line, "[.] "); dso = substr(line, 1, at - 1); sym = substr(line, at + 4)
        sub(/ +$/, "", dso); sub(/ tid [0-9]+$/, "", dso); sub(/ +[0-9]+$/, "", dso)
        sub(/( +-)+ *$/, "", sym); sub(/\(.*$/, "", sym); sub(/^.*\] /, "", sym)
        if (sym ~ /^0x[0-9a-f]+$/) {
          # No symbol: count the library as a whole, and each 256-byte block of code (a hot loop shows as one block).
          sum[dso "  (no symbols: all)"] += pct
          sym = "(no symbols) code block " substr(sym, 1, length(sym) - 2) "00"
        }
        sum[dso "  " sym] += pct }
      END { for (k in sum) if (sum[k] >= 1) printf "%6.2f%%  %s\n", sum[k], k }' \
    | sort -rn
  echo
done
