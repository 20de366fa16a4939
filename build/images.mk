# `make bench-images`: thumbnail.Make against ImageMagick on generated 12 MP
# and 24 MP photo-like JPEGs (and a progressive copy of the 24 MP one).
# Included by the Makefile. Prints the Go benchmark (ns/op, peak heap, peak
# heap / decoded size), then medians over BENCH_IMAGES_RUNS interleaved runs
# of ImageMagick (convert-im6.q16 -define jpeg:size=2Sx2S -thumbnail SxS,
# per size and both sizes in one command) and of a Go CLI running
# thumbnail.Make once, with wall time and max RSS from /usr/bin/time -v, and
# the ratios Go/IM (time) and Go/decoded, IM/decoded (peak memory).
# Installs imagemagick and time with apt-get if missing (this target only).
# About a minute on 2 cores.

GO ?= go
BENCH_IMAGES_DIR ?= $(or $(TMPDIR),/tmp)/depot-bench-images
BENCH_IMAGES_RUNS ?= 5
BENCH_IMAGES_APT := $(if $(filter 0,$(shell id -u)),,sudo )env DEBIAN_FRONTEND=noninteractive apt-get

.PHONY: bench-images
bench-images:
	@command -v convert-im6.q16 >/dev/null 2>&1 && test -x /usr/bin/time || { \
	  echo "bench-images: installing imagemagick and time (apt-get)"; \
	  $(BENCH_IMAGES_APT) update -qq && $(BENCH_IMAGES_APT) install -y -qq imagemagick time >/dev/null; }
	$(GO) test -run '^$$' -bench '^BenchmarkMake' -benchtime 5x -count 1 ./internal/thumbnail/
	@mkdir -p '$(BENCH_IMAGES_DIR)'
	$(GO) build -o '$(BENCH_IMAGES_DIR)/thumbtool' ./internal/thumbnail/cmd/thumbtool
	'$(BENCH_IMAGES_DIR)/thumbtool' compare -dir '$(BENCH_IMAGES_DIR)' -runs $(BENCH_IMAGES_RUNS) -progressive
