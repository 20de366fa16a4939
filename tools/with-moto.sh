#!/usr/bin/env bash
# Runs a command against a moto server started for it on a free loopback
# port, with AWS_ENDPOINT_URL pointing there; stops moto afterwards.
set -euo pipefail
venv=${VENV:-.venv}
port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$(mktemp)
"$venv/bin/python" tools/moto_serial.py 127.0.0.1 "$port" >"$log" 2>&1 &
moto=$!
stop() { kill $moto 2>/dev/null || true; wait $moto 2>/dev/null || true; rm -f "$log"; }
trap stop EXIT
for _ in $(seq 1 100); do
  if "$venv/bin/python" -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" 2>/dev/null; then
    break
  fi
  if ! kill -0 $moto 2>/dev/null; then cat "$log"; echo "moto server did not start" >&2; exit 1; fi
  sleep 0.1
done
echo "moto server on http://127.0.0.1:$port" >&2
rc=0
AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 "$@" || rc=$?
stop
trap - EXIT
exit $rc
