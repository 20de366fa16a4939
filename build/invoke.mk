# make invoke: a Docker-free `sam local invoke` (cmd/depot-invoke). Included
# from the Makefile, which defines GO and BIN.
#
#   make invoke FN=CreateItem [EVENT=events/create-item.json] [INVOKE_FLAGS='-env LOG_LEVEL=debug']
#
# Builds the function's bootstrap for this machine (linux, host GOARCH, CGO
# off, -tags lambda.norpc) into $(BIN)/invoke/<dir>/bootstrap, runs it under
# the AWS Lambda Runtime Interface Emulator on loopback and posts the event
# (default events/<dir>.json) to it. The response payload, and nothing else,
# is printed on stdout (every recipe line here is silent and sends its own
# output, go install's and go build's included, to stderr), so
# `make -s invoke FN=Health > out.json` is JSON even on the first run; the
# function's logs and the progress lines go to stderr. The exit status is 1
# if the function failed. Storage: the engines AWS_ENDPOINT_URL* name (e.g. a moto server), or
# else an embedded DynamoDB and S3 with an empty table and bucket, for this
# one invocation. INVOKE_FLAGS: -table, -bucket, -env NAME=value,
# -rie-log-level, -timeout (bin/depot-invoke -h).

# The Runtime Interface Emulator, pinned, built from the Go module proxy with
# go install (not a go.mod dependency). internal/dev/invoke pins the same version
# (RIEVersion; a test keeps them equal) and installs it itself when missing.
RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d
RIE_PKG := github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie
BIN ?= bin
RIE := $(BIN)/aws-lambda-rie
RIE_STAMP := $(BIN)/.aws-lambda-rie-$(RIE_VERSION)

.PHONY: invoke rie

rie: $(RIE_STAMP)

# For this machine whatever GOOS/GOARCH the caller exports. GOBIN must be
# absolute.
$(RIE_STAMP):
	@mkdir -p '$(BIN)'
	@echo 'make invoke: installing the Lambda Runtime Interface Emulator $(RIE_VERSION) into $(BIN)/ (once)' >&2
	@GOBIN="$$(cd '$(BIN)' && pwd)" GOOS= GOARCH= CGO_ENABLED=0 $(GO) install -trimpath $(RIE_PKG)@$(RIE_VERSION) >&2
	@rm -f '$(BIN)'/.aws-lambda-rie-*
	@touch '$@'

# Built, not `go run`, so that its exit status (1: the function failed,
# 2: it could not be invoked) reaches make.
invoke: $(RIE_STAMP)
	@if [ -z '$(FN)' ]; then echo 'usage: make invoke FN=<LogicalId> [EVENT=events/<file>.json]' >&2; exit 2; fi
	@$(GO) build -o '$(BIN)/depot-invoke' ./cmd/depot-invoke >&2
	@GO='$(GO)' '$(BIN)/depot-invoke' -rie '$(RIE)' -out '$(BIN)/invoke' $(if $(EVENT),-event '$(EVENT)') $(INVOKE_FLAGS) '$(FN)'
