#!/usr/bin/env bash
# ONNX Runtime against SimdRnn on issue 10's and 11's comparison workloads, each in one process, in alternating slices
# (`SimdRnn.Benchmarks versus`, EngineVersus.cs): a ratio the VM's drift hits on both sides alike, to read beside the
# BenchmarkDotNet runs, which time one engine after the other. Timings only; not part of CI.
#
#   bash scripts/versus.sh [rounds]
#
# SIMDRNN_VERSUS_WORKLOADS="step gru 64x128 1 bf16;batch lstm 64x128 2" runs only those (workload, cell, IxH,
# threads, SimdRnn's weight format; ONNX Runtime always runs fp32).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-15}
dotnet build benchmarks/SimdRnn.Benchmarks -c Release -v q -nologo >/dev/null
tool=benchmarks/SimdRnn.Benchmarks/bin/Release/net10.0/SimdRnn.Benchmarks.dll
echo "$(date -u '+%F %H:%M UTC'), $(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes'); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | xargs), model $(grep -m1 '^model' /proc/cpuinfo | cut -d: -f2 | xargs)"
workloads=${SIMDRNN_VERSUS_WORKLOADS:-step gru 64x128 1;step lstm 64x128 1;sequence gru 64x128 1;sequence lstm 64x128 1;sequence gru 512x512 1;sequence lstm 512x512 1;batch gru 64x128 1;batch lstm 64x128 1;batch gru 64x128 2;batch lstm 64x128 2;step gru 64x128 1 bf16;step lstm 64x128 1 bf16;sequence gru 64x128 1 bf16;sequence lstm 64x128 1 bf16;sequence gru 512x512 1 bf16;sequence lstm 512x512 1 bf16;sequence gru 512x512 1 int8-int16;sequence lstm 512x512 1 int8-int16}
IFS=';' read -r -a list <<<"$workloads"
for w in "${list[@]}"; do
  read -r -a words <<<"$w"
  dotnet "$tool" versus "${words[0]}" "${words[1]}" "${words[2]}" "$rounds" "${words[3]:-1}" "${words[4]:-fp32}"
done
