#!/usr/bin/env bash
# Same bits as a revision? Hashes the outputs of a fixed set of runs (tools/OutputHashes: every cell, sizes, stacks,
# directions, readouts, weight formats, batches with and without lengths, streaming steps) with the revision's
# SimdRnn.dll and with the work tree's, at every vector width this machine has, and compares them line by line.
# Exits 1 at the first width whose hashes differ (and prints the runs that differ). Not part of CI.
#
#   bash scripts/bits-ab.sh REVISION
set -euo pipefail
cd "$(dirname "$0")/.."
revision=${1:?usage: scripts/bits-ab.sh REVISION}
old=$(mktemp -d) tool_old=$(mktemp -d) out=$(mktemp -d)
trap 'git worktree remove --force "$old" >/dev/null 2>&1 || rm -rf "$old"; rm -rf "$tool_old" "$out"' EXIT
git worktree add --detach "$old" "$revision" >/dev/null
dotnet build "$old/src/SimdRnn" -c Release -v q -nologo >/dev/null
# The tool's sources, built once against each library (a copy for the revision, so the two builds' outputs stay apart).
cp tools/OutputHashes/OutputHashes.csproj tools/OutputHashes/Program.cs "$tool_old/"
dotnet build "$tool_old" -c Release -v q -nologo -p:SimdRnnDll="$old/src/SimdRnn/bin/Release/net10.0/SimdRnn.dll" >/dev/null
dotnet build tools/OutputHashes -c Release -v q -nologo >/dev/null
echo "A = $revision ($(git rev-parse --short "$revision")), B = work tree ($(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes'))"
for width in 512 256 128 1; do
  SIMDRNN_VECTOR_WIDTH=$width dotnet "$tool_old/bin/Release/net10.0/OutputHashes.dll" "$out/a$width" >/dev/null
  SIMDRNN_VECTOR_WIDTH=$width dotnet tools/OutputHashes/bin/Release/net10.0/OutputHashes.dll "$out/b$width" >/dev/null
  # Runs only the work tree has (a weight format the revision lacks) are listed apart, not compared.
  cut -d: -f1 "$out/a$width" | sort >"$out/names"
  awk -F: 'NR == FNR { known[$1] = 1; next } !($1 in known)' "$out/names" "$out/b$width" >"$out/new$width"
  awk -F: 'NR == FNR { known[$1] = 1; next } ($1 in known)' "$out/names" "$out/b$width" >"$out/common$width"
  [ -s "$out/new$width" ] && echo "SIMDRNN_VECTOR_WIDTH=$width: $(wc -l <"$out/new$width") runs only in the work tree (not compared)"
  if diff "$out/a$width" "$out/common$width" >"$out/diff"; then
    echo "SIMDRNN_VECTOR_WIDTH=$width: the same bits in all $(wc -l <"$out/a$width") runs"
  else
    echo "SIMDRNN_VECTOR_WIDTH=$width: the bits differ:"; cat "$out/diff"; exit 1
  fi
done
