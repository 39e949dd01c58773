# Two commands set everything up on a fresh Debian machine:
#   make run    build everything and serve the sample layers on http://127.0.0.1:8080/
#   make test   install what the tests need, start a throwaway PostGIS, run every test
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
ADDR ?= 127.0.0.1:8080
DATA ?= ./data
FUZZTIME ?= 30s

.PHONY: all build web run test deps vet bench fuzz clean

all: build

# The viewer's npm packages are installed at build time and copied into
# web-map/static/vendor, which go:embed puts into the binary.
web: web-map/static/vendor/maplibre-gl.js

web-map/static/vendor/maplibre-gl.js: web-map/package.json web-map/package-lock.json web-map/build.mjs
	cd web-map && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build

build: web
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/csdi ./cmd/csdi

run: build
	./bin/csdi serve --addr $(ADDR) --data $(DATA) --seed testdata/sample

deps:
	.ci/deps

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...

test: deps build vet
	.ci/with-postgis $(GO) test -count=1 -timeout 30m ./...

# Every benchmark against a throwaway PostGIS, one package at a time so that
# no two share the CPU. tiles.BenchmarkVsPostGIS drives the tile server with
# wrk (installed here: .ci/deps does not) and takes about 6 minutes; set
# CSDI_BENCH_SCALE=0.05 CSDI_BENCH_DURATION=2s for a quick run. CI=true makes
# a missing tool fail the run instead of skipping. See BENCHMARKS.md.
bench: deps build
	@command -v wrk >/dev/null || { SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends wrk >/dev/null; }
	CI=true .ci/with-postgis $(GO) test -p 1 -run '^$$' -bench . -benchmem -timeout 60m ./...

# Every parser's fuzz target, each for FUZZTIME (not part of make test).
fuzz:
	@for t in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
	  for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$t/*_test.go | cut -d' ' -f2); do \
	    echo "== $$t $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 2s $$t || exit 1; \
	  done; \
	done

clean:
	rm -rf bin web-map/node_modules web-map/static/vendor/*.js web-map/static/vendor/*.css
