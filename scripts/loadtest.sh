#!/usr/bin/env bash
# Load test of samples/StreamScoring: builds the service and the load generator, and for each engine starts the
# service on 127.0.0.1 (a free port chosen by the service), drives it from a second process over loopback with an
# open-loop constant rate (samples/LoadGenerator), reads its GC counts from /stats before and after, and stops it.
# Writes <out>/<engine>.json, <engine>-percentiles.csv, summary.csv, summary.md and latency.png.
#
#   bash scripts/loadtest.sh [--engine simdrnn|onnx|both] [--seconds N] [--rate R] [--streams S] [--warmup W] [--out DIR]
#
# Exits non-zero if a build fails, a service does not start or any request fails; missed latency/GC targets are
# reported in summary.md, not turned into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

engine=both seconds=60 rate=2000 streams=1000 warmup="" out=artifacts/loadtest
while [ $# -gt 0 ]; do
  case "$1" in
    --engine) engine="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    --streams) streams="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
case "$engine" in
  simdrnn|onnx) engines=("$engine") ;;
  both) engines=(simdrnn onnx) ;;
  *) echo "--engine must be simdrnn, onnx or both" >&2; exit 2 ;;
esac
# Warm-up (JIT tiers, connection pool, per-stream states) before the measured phase: 5 s, 1 s for short runs.
if [ -z "$warmup" ]; then
  if [ "${seconds%.*}" -ge 10 ]; then warmup=5; else warmup=1; fi
fi

service_pid=""
logdir=$(mktemp -d)
cleanup() {
  if [ -n "$service_pid" ] && kill -0 "$service_pid" 2>/dev/null; then
    kill "$service_pid" 2>/dev/null || true
    wait "$service_pid" 2>/dev/null || true
  fi
  rm -rf "$logdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

dotnet build samples/StreamScoring -c Release -nologo -v q
dotnet build samples/LoadGenerator -c Release -nologo -v q
service=samples/StreamScoring/bin/Release/net10.0/StreamScoring.dll
generator=samples/LoadGenerator/bin/Release/net10.0/LoadGenerator.dll

mkdir -p "$out"
rm -f "$out"/*.json "$out"/*-percentiles.csv "$out"/summary.* "$out"/latency.png "$out"/loadavg.txt
status=0
for e in "${engines[@]}"; do
  log="$logdir/$e.log"
  dotnet "$service" --engine "$e" --port 0 >"$log" 2>&1 &
  service_pid=$!
  url=""
  for _ in $(seq 1 300); do
    url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$log" | head -n 1 || true)
    [ -n "$url" ] && break
    kill -0 "$service_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$url" ]; then
    echo "[$e] the service did not start:" >&2
    cat "$log" >&2
    status=1
  else
    echo "[$e] service pid $service_pid at $url"
    # The machine's load before and after: other processes on the same cores show up in the tail latencies.
    echo "$e before: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/loadavg.txt"
    # 1.5 × the scheduled time + 60 s bounds the whole run even if the service stalls.
    limit=$(awk -v s="$seconds" -v w="$warmup" 'BEGIN { printf "%d", 1.5 * (s + w) + 60 }')
    timeout "$limit" dotnet "$generator" run --url "$url" --label "$e" --seconds "$seconds" --rate "$rate" \
      --streams "$streams" --warmup "$warmup" --out "$out" || status=1
    echo "$e after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/loadavg.txt"
  fi
  kill "$service_pid" 2>/dev/null || true
  wait "$service_pid" 2>/dev/null || true
  service_pid=""
done

dotnet "$generator" report --out "$out" || status=1
cat "$out/loadavg.txt" 2>/dev/null || true
echo "results in $out (summary.csv, summary.md, latency.png, loadavg.txt)"
exit "$status"
