#!/usr/bin/env bash
# Runs schemathesis (pinned in tools/requirements.txt) against the API as
# `make run` serves it: the built depot-local on a free loopback port, with
# a state folder of its own, and an admin token from its issuer. Every check
# but unsupported_method (API Gateway itself answers 404 to a method no route
# has) and ignored_auth (the local gateway checks tokens as API Gateway's
# authorizer does; internal/itest/auth_test.go covers it route by route).
# tools/schemathesis.toml states the answer of the API's contract no schema
# can express (412 to a stale If-Match); tools/schemathesis_hooks.py makes
# the test client send a fresh Idempotency-Key with every new request, as a
# client must.
#   usage: tools/schemathesis.sh path/to/depot-local path/to/depot-token [extra st run flags]
set -euo pipefail
venv=${VENV:-.venv}
local_bin=$1 token_bin=$2
shift 2
state=$(mktemp -d)
log=$state/depot-local.log
port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PORT=$port DEPOT_STATE_DIR=$state "$local_bin" </dev/null >"$log" 2>&1 &
server=$!
stop() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$state"; }
trap stop EXIT
url=http://127.0.0.1:$port
for _ in $(seq 1 200); do
  if curl -fsS "$url/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then cat "$log"; echo "depot-local did not start" >&2; exit 1; fi
  sleep 0.05
done
token=$(DEPOT_STATE_DIR=$state "$token_bin" -role admin -email schemathesis@example.com)
echo "schemathesis against $url" >&2
rc=0
SCHEMATHESIS_HOOKS=tools/schemathesis_hooks.py "$venv/bin/st" --config-file tools/schemathesis.toml run "$url/openapi.yaml" --url "$url" \
  -H "Authorization: Bearer $token" \
  --checks all --exclude-checks unsupported_method,ignored_auth \
  --max-examples 50 --output-sanitize false "$@" || rc=$?
if [ $rc -ne 0 ]; then echo "--- depot-local's log (last 40 lines)" >&2; tail -40 "$log" >&2; fi
exit $rc
