# Depot — every command a developer or CI needs. `make test` installs what it
# uses (pinned): Go modules from go.sum, Python tools into .venv from
# tools/requirements.txt with every transitive version in tools/constraints.txt.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
VENV_STAMP := $(VENV)/.installed
GO ?= go
FUNCTIONS := $(notdir $(wildcard functions/*))

.PHONY: run token test vet unit integration integration-moto template-lint sam-build build sizes bench clean help

include build/images.mk
include build/invoke.mk

help:
	@echo "make run     - local API on http://127.0.0.1:3000 (PORT overrides), embedded DynamoDB and S3"
	@echo "make token ROLE=editor EMAIL=you@example.com - a bearer token for make run"
	@echo "make test    - everything CI runs: vet, unit + integration (embedded and moto), template checks, sam build"
	@echo "make bench   - handler overhead vs DynamoDB time, and function binary sizes"
	@echo "make invoke FN=CreateItem [EVENT=events/create-item.json] - one function under the Lambda emulator, no Docker"
	@echo "make bench-images - thumbnails vs ImageMagick: time and peak memory"

run:
	$(GO) run ./cmd/depot-local

# A token from the local issuer (the key make run uses), printed alone:
#   make token ROLE=editor EMAIL=alice@example.com
ROLE ?= editor
EMAIL ?= developer@example.com
token:
	@$(GO) run ./cmd/depot-token -role '$(ROLE)' -email '$(EMAIL)'

test: vet unit integration-moto template-lint sam-build

vet:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.venv/*')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi

# Unit tests and the integration suite on the embedded engines.
unit:
	$(GO) test -race -count=1 ./...

# The same integration suite against a moto server on a loopback port.
integration-moto: $(VENV_STAMP)
	VENV=$(VENV) tools/with-moto.sh $(GO) test -race -count=1 ./internal/itest/...

$(VENV_STAMP): tools/requirements.txt tools/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tools/requirements.txt -c tools/constraints.txt
	touch $@

template-lint: $(VENV_STAMP)
	$(VENV)/bin/cfn-lint template.yaml
	$(VENV)/bin/sam validate --lint --region us-east-1

# SAM's Go builder (BuildMethod go1.x) builds each function in place and takes
# no flags but GOFLAGS. The first line fills Go's build cache once so the
# parallel per-function builds share it. Never use `sam build --cached`: its
# cache only looks at functions/<dir>/, not at internal/.
SAM_GOFLAGS := -buildvcs=false -trimpath -tags=lambda.norpc -ldflags=-s
sam-build: $(VENV_STAMP)
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 GOFLAGS='$(SAM_GOFLAGS)' $(GO) build ./functions/...
	CGO_ENABLED=0 GOFLAGS='$(SAM_GOFLAGS)' SAM_CLI_TELEMETRY=0 $(VENV)/bin/sam build --region us-east-1

# Stripped arm64 Lambda binaries, as deployed, and their sizes.
build:
	@mkdir -p bin
	@for fn in $(FUNCTIONS); do \
	  CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags='-s -w' -tags lambda.norpc -o bin/$$fn/bootstrap ./functions/$$fn; \
	done

sizes: build
	@for fn in $(FUNCTIONS); do stat -c '%s' bin/$$fn/bootstrap | awk -v fn=$$fn '{printf "%-22s %6.2f MB\n", fn, $$1/1048576}'; done

# Handler overhead: per operation, the median time of a request through the
# local gateway and inside the function vs. the same DynamoDB calls made raw
# with the SDK (internal/itest/bench_test.go; goal: the function adds < 10 %),
# on the embedded engines, then on moto (slow, and slower as its tables
# grow, so fewer requests); before that, the function sizes (goal < 12 MB).
BENCH_GO_TEST = $(GO) test -run '^$$' -bench '^BenchmarkOperations$$' -count 1
BENCHTIME ?= 200x
BENCHTIME_MOTO ?= 30x
SIZE_GOAL_MB := 12
bench: sizes $(VENV_STAMP)
	@for fn in $(FUNCTIONS); do stat -c '%s %n' bin/$$fn/bootstrap; done | sort -n | tail -1 | \
	  awk -v goal=$(SIZE_GOAL_MB) '{mb=$$1/1048576; printf "largest: %s %.2f MB (goal < %d MB: %s)\n\n", $$2, mb, goal, mb < goal ? "ok" : "OVER"}'
	$(BENCH_GO_TEST) -benchtime $(BENCHTIME) ./internal/itest/
	VENV=$(VENV) tools/with-moto.sh $(BENCH_GO_TEST) -benchtime $(BENCHTIME_MOTO) ./internal/itest/

clean:
	rm -rf bin .aws-sam
