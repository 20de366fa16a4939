# The console (console/, issue 12): a Vite + Preact + TypeScript app over the
# public API, its client types generated from openapi.yaml. Included by the
# Makefile. make run builds it and serves console/dist/ at / (depot-local,
# internal/dev/console); nothing built is committed.
#
# make e2e: the browser tests (console/e2e/run.mjs) in Debian's chromium,
# driven by playwright-core (pinned in console/package-lock.json; no browser
# download), against bin/depot-local on a free loopback port with a fresh
# state directory: each flow of the issue, screenshots of the main screens
# into console/e2e/out/screenshots/, and axe-core on each (0 serious or
# critical violations). Installs chromium with apt-get when it is missing.

GO ?= go
BIN ?= bin
CHROMIUM ?= /usr/bin/chromium
CONSOLE_APT := $(if $(filter 0,$(shell id -u)),,sudo )env DEBIAN_FRONTEND=noninteractive apt-get
CONSOLE_DIST := console/dist/index.html
# What a build reads (api.d.ts is generated from openapi.yaml by the build).
CONSOLE_SRC = $(shell find console/src -type f ! -name api.d.ts) console/index.html console/vite.config.ts \
  console/tsconfig.json console/package.json console/package-lock.json console/build.sh openapi.yaml

.PHONY: console e2e console-deploy

console: $(CONSOLE_DIST)

$(CONSOLE_DIST): $(CONSOLE_SRC)
	@echo 'make: building the console into console/dist/ (npm ci the first time)' >&2
	@console/build.sh

e2e: $(CONSOLE_DIST)
	@test -x '$(CHROMIUM)' || { echo 'e2e: installing chromium (apt-get)' >&2; \
	  $(CONSOLE_APT) update -qq && $(CONSOLE_APT) install -y -qq chromium >/dev/null; }
	$(GO) build -o '$(BIN)/depot-local' ./cmd/depot-local
	cd console && CHROMIUM='$(CHROMIUM)' node e2e/run.mjs --local '$(abspath $(BIN))/depot-local'

# The console on a deployed stack (README, Deploy the console): the built
# files to its bucket, with the config.json made from the stack's outputs
# (console/deploy.sh; the AWS CLI v2, as docs/auth.md's steps).
STACK ?= depot
console-deploy: $(CONSOLE_DIST)
	STACK='$(STACK)' console/deploy.sh
