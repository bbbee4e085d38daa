#!/usr/bin/env bash
# The "no regression" check: a revision against the work tree, in one process per workload (tools/RevisionAB: both
# builds loaded side by side, called in alternating slices, so the VM's drift hits both alike), at the widest width
# and with AVX-512 off (kernels at 256 bits). Prints A (the revision) and B (the work tree) per call and A/B
# (> 1: the work tree is faster). Not part of CI (timings).
#
#   bash scripts/revision-ab.sh REVISION [rounds]
#
# SIMDRNN_AB_WORKLOADS="batch gru 64x128;sequence lstm 512x512 BFloat16" runs only those (a workload without a weight
# format runs fp32; cells gru, gru0 = linear_before_reset 0, lstm; workloads step, sequence, batch, train, parallel =
# T = 100, B = 2 on two threads); SIMDRNN_AB_MODES="default" only that mode.
set -euo pipefail
cd "$(dirname "$0")/.."
revision=${1:?usage: scripts/revision-ab.sh REVISION [rounds]} rounds=${2:-41}
old=$(mktemp -d)
trap 'git worktree remove --force "$old" >/dev/null 2>&1 || rm -rf "$old"' EXIT
git worktree add --detach "$old" "$revision" >/dev/null
dotnet build "$old/src/SimdRnn" -c Release -v q -nologo >/dev/null
dotnet build src/SimdRnn -c Release -v q -nologo >/dev/null
dotnet build tools/RevisionAB -c Release -v q -nologo >/dev/null
a=$old/src/SimdRnn/bin/Release/net10.0/SimdRnn.dll b=src/SimdRnn/bin/Release/net10.0/SimdRnn.dll
tool=tools/RevisionAB/bin/Release/net10.0/RevisionAB.dll
echo "A = $revision ($(git rev-parse --short "$revision")), B = work tree ($(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes')); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | xargs), model $(grep -m1 '^model' /proc/cpuinfo | cut -d: -f2 | xargs)"
workloads=${SIMDRNN_AB_WORKLOADS:-step gru 64x128;step lstm 64x128;sequence gru 64x128;sequence lstm 64x128;sequence gru 512x512;sequence lstm 512x512;batch gru 64x128;batch lstm 64x128}
IFS=';' read -r -a list <<<"$workloads"
for mode in ${SIMDRNN_AB_MODES:-default avx512-off}; do
  case $mode in default|avx512-off) ;; *) echo "unknown mode '$mode' (default, avx512-off)" >&2; exit 2 ;; esac
  echo "== $mode"
  for w in "${list[@]}"; do
    read -r -a words <<<"$w"
    [ ${#words[@]} -ge 4 ] || words+=(fp32)
    if [ "$mode" = avx512-off ]; then DOTNET_EnableAVX512=0 dotnet "$tool" "$a" "$b" "${words[@]}" "$rounds"
    else dotnet "$tool" "$a" "$b" "${words[@]}" "$rounds"; fi
  done
done
