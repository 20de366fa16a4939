#!/usr/bin/env bash
# Runs every native Go fuzz target (func FuzzXxx) of the given packages for
# FUZZTIME each, one at a time (make fuzz):
#
#   tools/fuzz.sh <fuzztime> <minimizetime> <package>...
#
# The targets are found with `go test -list '^Fuzz'`, so a new one needs no
# edit here. Each runs as `go test -run '^$' -fuzz '^Name$' -fuzztime T
# -fuzzminimizetime M <package>` (go fuzzes one target of one package at a
# time), with as many workers as GOMAXPROCS. Minimizing each new interesting
# input for go's default 60 s would eat the whole budget of a short run,
# hence M. Per target it prints the execs of go's last "fuzz: elapsed: …,
# execs: N" line and their rate over the elapsed time; then a table of all
# of them; it exits 1 if any target failed (go writes the failing input to
# <package>/testdata/fuzz/<Name>/, where go test then runs it as a seed).
# GO names the go command.
set -euo pipefail

if [ $# -lt 3 ]; then
  echo "usage: $0 <fuzztime> <minimizetime> <package>..." >&2
  exit 2
fi
fuzztime=$1 minimize=$2
shift 2
GO=${GO:-go}

# "<package> <target>" lines: go test -list prints a package's matching
# names, then "ok <package> <time>" (or "? <package> [no test files]").
list=$("$GO" test -list '^Fuzz' "$@")
targets=$(awk '/^Fuzz/ { names[n++] = $1; next } /^ok / { for (i = 0; i < n; i++) print $2, names[i] } { n = 0 }' <<<"$list")
if [ -z "$targets" ]; then
  echo "fuzz: no fuzz targets in $*" >&2
  exit 1
fi
count=$(wc -l <<<"$targets")
module=$("$GO" list -m)
echo "fuzz: $count targets, $fuzztime each"

# seconds DURATION: a Go duration (1h2m3.5s, 59s, 850ms) in seconds.
seconds() {
  awk -v d="$1" 'BEGIN {
    s = 0
    while (match(d, /^[0-9.]+(h|ms|m|s)/)) {
      tok = substr(d, 1, RLENGTH); d = substr(d, RLENGTH + 1)
      unit = tok; sub(/^[0-9.]+/, "", unit); v = substr(tok, 1, length(tok) - length(unit))
      s += v * (unit == "h" ? 3600 : unit == "m" ? 60 : unit == "ms" ? 0.001 : 1)
    }
    print s
  }'
}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
table=() failed=0
while read -r pkg name; do
  short=${pkg#"$module"/}
  echo "fuzz: $short $name ($fuzztime)"
  status=0
  "$GO" test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize" "$pkg" >"$log" 2>&1 || status=$?
  last=$(grep -E '^fuzz: elapsed: [^,]+, execs: [0-9]+' "$log" | tail -1 || true)
  execs=- rate=-
  if [ -n "$last" ]; then
    elapsed=$(sed -E 's/^fuzz: elapsed: ([^,]+),.*/\1/' <<<"$last")
    execs=$(sed -E 's/.*execs: ([0-9]+).*/\1/' <<<"$last")
    rate=$(awk -v n="$execs" -v s="$(seconds "$elapsed")" 'BEGIN { printf "%d", (s > 0 ? n / s : 0) }')
  fi
  result=ok
  if [ "$status" -ne 0 ]; then
    result=FAILED failed=$((failed + 1))
    grep -vE '^fuzz: elapsed: ' "$log" | sed 's/^/    /'
  fi
  printf '      %s execs (%s/s): %s\n' "$execs" "$rate" "$result"
  table+=("$(printf '%-34s %-22s %12s %10s  %s' "$short" "$name" "$execs" "$rate" "$result")")
done <<<"$targets"

echo
printf '%-34s %-22s %12s %10s  %s\n' package target execs execs/s result
printf '%s\n' "${table[@]}"
if [ "$failed" -gt 0 ]; then
  echo "fuzz: $failed of $count targets failed" >&2
  exit 1
fi
