#!/usr/bin/env bash
# Builds the console into console/dist/ (make console; make run and make e2e
# through it): npm ci when package-lock.json is newer than the last install,
# then npm run build (client types from ../openapi.yaml, the type check, vite).
# One build at a time (flock): make run and the tests may start one at once.
# Quiet unless it fails; CONSOLE_VERBOSE=1 shows npm's output.
set -euo pipefail
cd "$(dirname "$0")"
command -v npm >/dev/null || { echo "console/build.sh: npm not found: the console needs Node.js 20.19 or later" >&2; exit 1; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if command -v flock >/dev/null; then # util-linux; not on macOS, where builds are not serialised
  exec 9>.build.lock
  flock 9
fi
# Another build may have finished while this one waited for the lock (make
# run and make e2e at once on a fresh clone): then there is nothing to do,
# and building again would empty dist/ under a server that is using it.
fresh() {
  [ -f dist/index.html ] && [ -f node_modules/.installed ] && [ ! package-lock.json -nt node_modules/.installed ] &&
    [ -z "$(find src index.html vite.config.ts tsconfig.json package.json package-lock.json build.sh ../openapi.yaml \
      -newer dist/index.html ! -name api.d.ts -print -quit)" ]
}
if fresh; then
  exit 0
fi
build() {
  if [ ! -f node_modules/.installed ] || [ package-lock.json -nt node_modules/.installed ]; then
    npm ci --no-audit --no-fund || return
    touch node_modules/.installed
  fi
  npm run build
}
if [ "${CONSOLE_VERBOSE:-0}" != 0 ]; then
  build
else
  build >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
fi
