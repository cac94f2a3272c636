# rokflow — build, test and benchmark.
GO       ?= go
BIN      := bin/rokflow
# rokflow's release, and the commit it was built from after a +, so that
# requires_rokflow is checked against the release.
RELEASE  := 0.1.0
VERSION  ?= $(RELEASE)+$(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.Version=$(VERSION)
PLAYBOOK := playbooks/rok-v0.11
export NO_COLOR := 1

.PHONY: all build test torture test-ganeti bench fuzz fmt lint demo dist dist-check clean

all: build

build: ## Build bin/rokflow and the simulator's program beside it, bin/rokflow-sim
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/rokflow
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)-sim ./cmd/rokflow-sim

test: ## Vet, then run every test (the CI job)
	$(GO) vet ./...
	$(GO) test -count=1 ./...

# The fault matrix of playbooks/rok-v0.11 on both simulated platforms:
# make test runs a sample of its cells; this runs every one (minutes).
torture: ## Kill apply at every once step, handle and undo of the v0.11 playbook; resume and check
	ROKFLOW_TORTURE=1 $(GO) test -count=1 -timeout 60m -run '^TestFaultMatrix$$' -v ./cmd/rokflow

# The Ganeti lab (shared/labs/ganeti): a real 2-node Ganeti 3.0 cluster on
# this machine. Needs root; setup.sh installs the Debian packages it lacks.
SHARED     ?= ../shared
GANETI_LAB := $(SHARED)/labs/ganeti

test-ganeti: ## Bring up the Ganeti lab, run the lab tests against it, tear it down
	@lab='$(GANETI_LAB)'; \
	trap 'st=$$?; "$$lab/teardown.sh" || echo "test-ganeti: teardown.sh failed" >&2; exit $$st' EXIT; \
	trap 'exit 130' INT; trap 'exit 143' TERM; \
	"$$lab/setup.sh" || exit $$?; \
	set -a; . "$${ROKGNT_DIR:-/var/lib/rokgnt}/out/env" || exit $$?; set +a; \
	$(GO) test -count=1 -run Lab -v ./steps/ganeti/

bench: ## Run the benchmarks (6 runs each, for benchstat)
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./...

FUZZTIME ?= 5m
fuzz: ## Run each fuzz target for FUZZTIME
	$(GO) test ./lang -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 10s
	$(GO) test ./runtime -run '^$$' -fuzz '^FuzzPlan$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 10s

fmt: ## Format Go code and playbooks
	gofmt -w $$(git ls-files '*.go')
	$(GO) run ./cmd/rokflow fmt playbooks examples

lint: ## Check formatting of Go code and playbooks, and vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) run ./cmd/rokflow fmt --check playbooks examples
	$(GO) vet ./...

demo: build ## The main job: the v0.11 upgrade against the simulator, both platforms
	./scripts/demo.sh

# Release files for linux/amd64 and linux/arm64 in dist/: a tarball per
# architecture (rokflow_$(VERSION)_linux_ARCH.tar.gz: the static binaries
# rokflow and rokflow-sim, README, docs, examples and playbooks), a Debian package per architecture
# and SHA256SUMS; reproducible from a commit. The .deb is staged and built
# with dpkg-deb (scripts/dist.sh): a static binary and some documents need
# no packaging tool beyond the one Debian has, so nothing is downloaded and
# go.mod gains nothing. A Debian version cannot hold the - of a dirty
# tree's VERSION: it becomes ~.
DIST_ARCHS ?= amd64 arm64

dist: ## Build the release tarballs, .deb packages and SHA256SUMS in dist/
	GO='$(GO)' VERSION='$(VERSION)' LDFLAGS='$(LDFLAGS)' ARCHS='$(DIST_ARCHS)' ./scripts/dist.sh

dist-check: ## Check what make dist built: contents, checksums, package fields, the binary runs
	VERSION='$(VERSION)' ARCHS='$(DIST_ARCHS)' ./scripts/check-dist.sh

clean:
	rm -rf bin dist
