#!/usr/bin/env bash
# Runs a command with the embedded DynamoDB in a process of its own
# (cmd/depot-dynamodb, built without the race detector), named in
# DEPOT_DYNAMODB_URL; it stops when this script ends (its stdin closes).
#   tools/with-dynamodb.sh bin/depot-dynamodb go test -race ./internal/itest/...
set -euo pipefail
bin=$1
shift
coproc ENGINE { exec "$bin"; }
# bash unsets ENGINE and ENGINE_PID once the process ends: keep them.
pid=$ENGINE_PID out=${ENGINE[0]} in=${ENGINE[1]}
read -r url <&"$out" || { echo "depot-dynamodb did not start" >&2; exit 1; }
echo "embedded DynamoDB in its own process on $url" >&2
rc=0
DEPOT_DYNAMODB_URL="$url" "$@" || rc=$?
exec {in}>&-
wait "$pid" 2>/dev/null || true
exit $rc
