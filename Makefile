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
# Where binaries go (make run's, make invoke's, make build's); a test points
# it at a temporary directory.
BIN ?= bin

# `make` alone prints the help; the included fragments define targets of
# their own and must not become the default.
.DEFAULT_GOAL := help

.PHONY: help run seed token audit load test vet unit fuzz integration integration-moto contract template-lint sam-build build sizes bench bench-csv clean

include build/images.mk
include build/invoke.mk
include build/console.mk

# Every public target (build/make_test.go checks that each .PHONY target of
# the Makefile and build/*.mk is listed here and exists).
help:
	@echo 'Depot. Local:'
	@echo '  make run          the API on http://127.0.0.1:3000 (PORT overrides), embedded DynamoDB and S3; Ctrl-C stops'
	@echo '                    its data stays in .local/data/ from run to run; make run FRESH=1 starts empty'
	@echo '  make seed         sample data through make run'"'"'s API: 3 warehouses, ~200 items, groups, photos, history'
	@echo '  make token ROLE=viewer|editor|admin EMAIL=you@example.com'
	@echo '                    a bearer token for make run, printed alone'
	@echo '  make invoke FN=<LogicalId> [EVENT=events/<file>.json]'
	@echo '                    one function under the Lambda emulator, no Docker; its response alone on stdout'
	@echo '  make rie          build the pinned Lambda Runtime Interface Emulator (make invoke does it when needed)'
	@echo '  make console      build the console (console/, npm ci + vite) into console/dist/; make run serves it at /'
	@echo '  make console-deploy [STACK=depot]  the console onto a deployed stack: its bucket, config.json from'
	@echo '                    the outputs, a CloudFront invalidation (AWS CLI v2); then open the ConsoleUrl output'
	@echo '  make audit        audit make run'"'"'s table and bucket (or AWS_ENDPOINT_URL*'"'"'s), as AuditStock does daily:'
	@echo '                    the JSON report; exit 1 on drift (AUDIT_FLAGS: cmd/depot-audit'"'"'s flags)'
	@echo '  make load [DURATION=20s] [WORKERS=8]'
	@echo '                    a bounded mixed workload against make run: req/s and p50/p95/p99 per operation,'
	@echo '                    errors by status, then the audit; exit 1 on a 5xx or drift'
	@echo 'Checks:'
	@echo '  make test         everything CI runs, in two lanes at once: vet, unit, integration; and integration-moto,'
	@echo '                    contract, template-lint, sam-build, e2e'
	@echo '  make vet          go vet and the gofmt check'
	@echo '  make unit         unit tests (go test -race, every package but the integration suite)'
	@echo '  make fuzz [FUZZTIME=10s]  every fuzz target (FuzzXxx) for FUZZTIME each, one at a time: the execs of'
	@echo '                    each and a table; fails on a crash (make unit runs their seed corpora only)'
	@echo '  make integration  the integration suite (internal/itest) on the embedded engines, under the race'
	@echo '                    detector, ITEST_PARALLEL (4) tests at a time'
	@echo '  make integration-moto  the same suite against a moto server started for the run (no race detector)'
	@echo '  make contract     schemathesis (every check, 50+ examples an operation) against make run'"'"'s API and its /openapi.yaml'
	@echo '  make template-lint     cfn-lint, sam validate --lint and checkov (pinned; every finding fixed or skipped'
	@echo '                    in template.yaml with its reason) on template.yaml'
	@echo '  make sam-build    sam build, as a deploy would'
	@echo '  make e2e          the console in Chromium (apt-get installs it if missing) against bin/depot-local:'
	@echo '                    every flow, screenshots (console/e2e/out/), axe-core with 0 serious violations'
	@echo 'Measure:'
	@echo '  make bench        handler overhead vs DynamoDB time per operation, DynamoDB cost vs the floors of'
	@echo '                    docs/data-model.md §7, one hot level vs 100 levels, function binary sizes, and'
	@echo '                    each function'"'"'s cold start vs a hello aws-lambda-go function (goal ≤ 1.5×, < 30 ms)'
	@echo '  make build        the stripped arm64 bootstraps, as deployed, into $(BIN)/<function>/'
	@echo '  make sizes        their sizes'
	@echo '  make bench-images thumbnails vs ImageMagick: time and peak memory (apt-get installs ImageMagick if missing)'
	@echo '  make bench-csv    CSV export of 100k and 1M synthetic items, a process each: rows/s, peak RSS, and'
	@echo '                    peak RSS(1M)/peak RSS(100k) (goal < 1.3); BENCH_CSV_SIZES, _RUNS, _INCLUDE override;'
	@echo '                    then an import of 100k rows (created, unchanged, updated: rows/s each) and its'
	@echo '                    DynamoDB calls, RCU and WCU per row (BenchmarkImportWriteUnits, embedded engines)'
	@echo 'Other:'
	@echo '  make clean        remove $(BIN)/ and .aws-sam/'
	@echo '  make help         this list (also what `make` alone prints)'

# Built into $(BIN)/ and then run, not `go run`: the first build downloads
# the modules and compiles, which can take minutes, so it says so first; and Ctrl-C
# reaches depot-local alone, which hands make a clean exit status
# (internal/dev/tty). Its data stays in .local/data/ from run to run;
# FRESH=1 empties it first.
run: $(CONSOLE_DIST)
	@if [ -x '$(BIN)/depot-local' ]; then \
	  echo 'make run: building $(BIN)/depot-local' >&2; \
	else \
	  echo 'make run: building $(BIN)/depot-local. The first build downloads the Go modules and compiles them: up to a few minutes (later builds take seconds)' >&2; \
	fi
	@$(GO) build -o '$(BIN)/depot-local' ./cmd/depot-local
	@'$(BIN)/depot-local' $(if $(filter-out 0,$(FRESH)),-fresh)

# Sample data for make run (cmd/depot-seed), through its public API, with
# tokens from the same local issuer; running it again adds nothing. The API
# is $API, else the running make run's (.local/run.json).
seed:
	@$(GO) run ./cmd/depot-seed

# A token from the local issuer (the key make run uses), printed alone:
#   make token ROLE=editor EMAIL=alice@example.com
ROLE ?= editor
EMAIL ?= developer@example.com
token:
	@$(GO) run ./cmd/depot-token -role '$(ROLE)' -email '$(EMAIL)'

# The audit AuditStock runs every day (cmd/depot-audit, dynamo.Audit) on
# make run's engines, found through the run.json make run keeps in .local/
# (or $DEPOT_STATE_DIR), or on the engines AWS_ENDPOINT_URL* name: its JSON
# report on stdout, a verdict on stderr; exit 1 on drift.
#   make audit AUDIT_FLAGS='-table depot-local -bucket depot-local-images -single-pass'
AUDIT_FLAGS ?=
audit:
	@mkdir -p '$(BIN)'
	@$(GO) build -o '$(BIN)/depot-audit' ./cmd/depot-audit
	@'$(BIN)/depot-audit' $(AUDIT_FLAGS)

# A bounded mixed workload (cmd/depot-load) against make run's API ($API
# overrides), WORKERS clients for DURATION, then the audit of its engines;
# exit 1 on any 5xx or drift. Start make run in another terminal first.
#   make load DURATION=60s WORKERS=32
DURATION ?= 20s
WORKERS ?= 8
LOAD_FLAGS ?=
load:
	@mkdir -p '$(BIN)'
	@$(GO) build -o '$(BIN)/depot-load' ./cmd/depot-load
	@'$(BIN)/depot-load' -duration '$(DURATION)' -workers '$(WORKERS)' $(LOAD_FLAGS)

# make test runs in two lanes at once, each in order: the Go lane (vet,
# unit, integration: compiling and the race detector, CPU-bound) and the
# tools lane (the Python tools' install, the moto run, whose server takes
# one request at a time, contract, template-lint, sam-build, e2e: much of it
# waiting on a server, a download or a browser). Each lane's output is
# printed whole when it ends; make test fails if either fails.
TEST_GO_LANE := vet unit integration
TEST_TOOLS_LANE := integration-moto contract template-lint sam-build e2e
test:
	@$(MAKE) --no-print-directory -j2 --output-sync=recurse test-lane-go test-lane-tools
test-lane-go:
	@$(MAKE) --no-print-directory -j1 $(TEST_GO_LANE)
test-lane-tools:
	@$(MAKE) --no-print-directory -j1 $(TEST_TOOLS_LANE)

vet:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.venv/*')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi

# Every package but the integration suite, which `integration` runs. The
# list is expanded only when unit's recipe is (so `make -n test` shows it).
ITEST_PKGS := ./internal/itest/...
# go test's default 10 minutes is too short for the suite on a busy machine
# (the fault workload, the workers killed at every call, the audit's plants).
ITEST_TIMEOUT ?= 30m
UNIT_PKGS = $(shell $(GO) list -f '.{{slice .ImportPath (len .Module.Path)}}' ./... | grep -v '^./internal/itest\(/\|$$\)')
unit:
	$(GO) test -race -count=1 $(UNIT_PKGS)

# Fuzzing (issue 11): every native fuzz target (func FuzzXxx, in the
# *_fuzz_test.go files) for FUZZTIME each, one at a time, found by
# `go test -list` over the unit packages (the integration suite has none,
# and its TestMain starts engines), so a new target needs no edit here.
# Per target the execs of go's last "fuzz: elapsed" line, then a table; it
# fails if any target fails, its input written to
# <package>/testdata/fuzz/<target>/ (tools/fuzz.sh). Each new interesting
# input is minimized for FUZZMINIMIZETIME at most (go's default, 60 s,
# would take a short run's whole budget). go test, as make unit runs it,
# runs the seed corpora only.
#   make fuzz FUZZTIME=60s
FUZZTIME ?= 10s
FUZZMINIMIZETIME ?= 5s
fuzz:
	GO='$(GO)' tools/fuzz.sh '$(FUZZTIME)' '$(FUZZMINIMIZETIME)' $(UNIT_PKGS)

# The integration suite (HTTP -> gateway -> handlers -> SDK -> engine) on the
# embedded engines, under the race detector. Its tests run ITEST_PARALLEL at
# a time (each has a table and a bucket of its own). The embedded DynamoDB
# runs in a process of its own (cmd/depot-dynamodb, tools/with-dynamodb.sh),
# built without the detector, which slowed minidyn's table scans and copies
# several times over: the detector watches Depot's code, the engine runs at
# full speed; the suite's S3 and its notifications stay in process.
ITEST_PARALLEL ?= 4
integration:
	$(GO) build -o '$(BIN)/depot-dynamodb' ./cmd/depot-dynamodb
	tools/with-dynamodb.sh '$(BIN)/depot-dynamodb' $(GO) test -race -count=1 -parallel $(ITEST_PARALLEL) -timeout $(ITEST_TIMEOUT) $(ITEST_PKGS)

# The same integration suite against a moto server on a loopback port. A
# race does not depend on the engine, so the detector runs once, above:
# here the suite checks the engines agree.
integration-moto: $(VENV_STAMP)
	VENV=$(VENV) tools/with-moto.sh $(GO) test -count=1 -parallel $(ITEST_PARALLEL) -timeout $(ITEST_TIMEOUT) $(ITEST_PKGS)

# The spec and the server must agree: schemathesis against the API as make
# run serves it (tools/schemathesis.sh), with an admin token.
contract: $(VENV_STAMP)
	$(GO) build -o '$(BIN)/depot-local' ./cmd/depot-local
	$(GO) build -o '$(BIN)/depot-token' ./cmd/depot-token
	VENV=$(VENV) tools/schemathesis.sh '$(BIN)/depot-local' '$(BIN)/depot-token'

$(VENV_STAMP): tools/requirements.txt tools/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tools/requirements.txt -c tools/constraints.txt
	touch $@

# checkov lives in a venv of its own (tools/checkov-requirements.txt says
# why), inside .venv so that one folder holds the Python tools. It runs
# offline (--skip-download; BC_SKIP_MAPPING keeps it from fetching its
# guidelines) and fails on any finding: each remaining one is skipped in
# template.yaml's Metadata with its reason.
CHECKOV_VENV := $(VENV)/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
$(CHECKOV_STAMP): tools/checkov-requirements.txt tools/checkov-constraints.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r tools/checkov-requirements.txt -c tools/checkov-constraints.txt
	touch $@

template-lint: $(VENV_STAMP) $(CHECKOV_STAMP)
	$(VENV)/bin/cfn-lint template.yaml
	$(VENV)/bin/sam validate --lint --region us-east-1
	BC_SKIP_MAPPING=TRUE $(CHECKOV_VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation -f template.yaml

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
	@mkdir -p '$(BIN)'
	@for fn in $(FUNCTIONS); do \
	  CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags='-s -w' -tags lambda.norpc -o '$(BIN)'/$$fn/bootstrap ./functions/$$fn; \
	done

sizes: build
	@for fn in $(FUNCTIONS); do stat -c '%s' '$(BIN)'/$$fn/bootstrap | awk -v fn=$$fn '{printf "%-22s %6.2f MB\n", fn, $$1/1048576}'; done

# Handler overhead: per operation, the median time of a request through the
# local gateway and inside the function vs. the same DynamoDB calls made raw
# with the SDK (internal/itest/bench_test.go; goal: the function adds < 10 %),
# on the embedded engines, then on moto (slow, and slower as its tables
# grow, so fewer requests); before that, the function sizes (goal < 12 MB).
# DynamoDB cost: per stock and location operation, its calls, RCU and WCU
# vs the floors of docs/data-model.md §7 (internal/itest/bench_stock_test.go;
# goal ≤ 1.2×). Contention: adjustments/s on one hot level vs 100 independent
# ones; an iteration is 2 × 400 adjustments (2 × 48 on moto), so only a few.
BENCH_GO_TEST = $(GO) test -run '^$$' -bench '^(BenchmarkOperations|BenchmarkStock)$$' -count 1
BENCH_CONTENTION = $(GO) test -run '^$$' -bench '^BenchmarkStockContention$$' -count 1
BENCHTIME ?= 200x
BENCHTIME_MOTO ?= 30x
BENCHTIME_CONTENTION ?= 5x
BENCHTIME_CONTENTION_MOTO ?= 2x
# Shipments (issue 13, internal/itest/bench_shipment_test.go): ready, ship
# and receive at 10, 100 and 500 lines (DEPOT_SHIPMENT_BENCH_SIZES), per
# transition and per line: calls, RCU, WCU and time, beside the per-line
# floors of docs/data-model.md §7; an iteration is a whole shipment.
BENCHTIME_SHIPMENT ?= 2x
SIZE_GOAL_MB := 12
# Cold start (issue 11 §6): cmd/depot-coldstart builds every function for
# this machine, a hello aws-lambda-go function with the same flags and
# hello with the SDK's DynamoDB and S3 clients (the SDK's share), starts
# each BENCH_COLDSTART_RUNS times (interleaved) against a fake Runtime API
# on loopback, and prints per function the median and p90 time from
# process start to the first GET /next, the ratio to hello's median (goal
# ≤ 1.5× and < 30 ms) and its package inits (GODEBUG=inittrace=1); a
# function whose init makes a network call fails it.
BENCH_COLDSTART_RUNS ?= 15
bench: sizes $(VENV_STAMP)
	@for fn in $(FUNCTIONS); do stat -c '%s %n' '$(BIN)'/$$fn/bootstrap; done | sort -n | tail -1 | \
	  awk -v goal=$(SIZE_GOAL_MB) '{mb=$$1/1048576; printf "largest: %s %.2f MB (goal < %d MB: %s)\n\n", $$2, mb, goal, mb < goal ? "ok" : "OVER"}'
	$(GO) build -o '$(BIN)/depot-coldstart' ./cmd/depot-coldstart
	'$(BIN)/depot-coldstart' -runs '$(BENCH_COLDSTART_RUNS)' -out '$(BIN)/coldstart'
	$(BENCH_GO_TEST) -benchtime $(BENCHTIME) ./internal/itest/
	$(BENCH_CONTENTION) -benchtime $(BENCHTIME_CONTENTION) ./internal/itest/
	VENV=$(VENV) tools/with-moto.sh $(BENCH_GO_TEST) -benchtime $(BENCHTIME_MOTO) ./internal/itest/
	VENV=$(VENV) tools/with-moto.sh $(BENCH_CONTENTION) -benchtime $(BENCHTIME_CONTENTION_MOTO) ./internal/itest/
	DEPOT_SEARCH_BENCH_SIZES=$${DEPOT_SEARCH_BENCH_SIZES:-500,2000} $(GO) test -run '^$$' -bench '^BenchmarkSearch$$' -benchtime 1x -count 1 ./internal/itest/
	$(GO) test -run '^$$' -bench '^BenchmarkShipment$$' -benchtime $(BENCHTIME_SHIPMENT) -count 1 ./internal/itest/

# CSV jobs at scale (issue 10): cmd/depot-bench-csv exports a synthetic
# catalogue (items made from their position, none held in memory) into a
# multipart sink that checks and hashes the parts and keeps nothing, once
# per size and run, each run a process of its own (so each peak RSS, VmHWM,
# is its own); then per size the median rows/s and peak RSS, and the ratio
# of the largest size's median peak RSS to the smallest's (goal < 1.3: what
# an export holds must not grow with the catalogue). Peak RSS varies by a
# few MiB from run to run (GC timing), hence the medians. Each run stops by
# itself within BENCH_CSV_TIMEOUT (1M items take seconds).
# Then the import (issue 10: rows/s and write units per row): depot-bench-csv
# -mode import imports a file of BENCH_CSV_IMPORT_ROWS rows three times on
# the in-memory ports (every row created, then unchanged, then updated: a
# JSON line each, the counts checked), within BENCH_CSV_IMPORT_TIMEOUT
# (memstore's ListLevels scans every level of every item, so the unchanged
# and updated passes take minutes at 100k rows; BENCH_CSV_IMPORT_FLAGS=
# -index-levels reads levels by key instead); and BenchmarkImportWriteUnits
# (internal/itest) imports 200 rows through ImportItems' worker on the
# embedded engines, each pass once: DynamoDB calls, RCU and WCU per row
# against the computed floor, within BENCH_CSV_WCU_TIMEOUT.
#   make bench-csv BENCH_CSV_SIZES=100000,1000000 BENCH_CSV_RUNS=5 BENCH_CSV_INCLUDE=stock,groups
BENCH_CSV_SIZES ?= 100000,1000000
BENCH_CSV_RUNS ?= 5
BENCH_CSV_INCLUDE ?=
BENCH_CSV_TIMEOUT ?= 5m
BENCH_CSV_IMPORT_ROWS ?= 100000
BENCH_CSV_IMPORT_TIMEOUT ?= 40m
BENCH_CSV_IMPORT_FLAGS ?=
BENCH_CSV_WCU_TIMEOUT ?= 30m
bench-csv:
	@mkdir -p '$(BIN)'
	$(GO) build -o '$(BIN)/depot-bench-csv' ./cmd/depot-bench-csv
	'$(BIN)/depot-bench-csv' -mode export-ratio -sizes '$(BENCH_CSV_SIZES)' -runs '$(BENCH_CSV_RUNS)' \
	  -include '$(BENCH_CSV_INCLUDE)' -timeout '$(BENCH_CSV_TIMEOUT)'
	'$(BIN)/depot-bench-csv' -mode import -rows '$(BENCH_CSV_IMPORT_ROWS)' -timeout '$(BENCH_CSV_IMPORT_TIMEOUT)' $(BENCH_CSV_IMPORT_FLAGS)
	$(GO) test -run '^$$' -bench '^BenchmarkImportWriteUnits$$' -benchtime 1x -count 1 -timeout '$(BENCH_CSV_WCU_TIMEOUT)' ./internal/itest/

clean:
	rm -rf '$(BIN)' .aws-sam
