# atsgate — two commands matter on a fresh machine:
#   make run   build and serve on the embedded database (needs only Go)
#   make test  every test, against real PostgreSQL and Redis

GO      ?= go
BIN     := bin/atsgate
PKGS    := ./...

.PHONY: run build test test-short vet fmt fuzz bench load screenshots clean

run: build
	./$(BIN) serve

build:
	$(GO) build -o $(BIN) ./cmd/atsgate

# CI=true turns "PostgreSQL/Redis missing" from a loud skip into a failure.
test: vet
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

test-short:
	$(GO) test -short -count=1 $(PKGS)

vet:
	@unformatted=$$(gofmt -l cmd internal config migrations pkg 2>/dev/null); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)

fmt:
	gofmt -w cmd internal config migrations pkg

# Run each fuzzer for a while; new interesting inputs land in testdata/fuzz.
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzDecodeJob -fuzztime=$(FUZZTIME) -fuzzminimizetime=5s ./internal/web/ats/
	$(GO) test -run='^$$' -fuzz=FuzzDecodeExternalID -fuzztime=$(FUZZTIME) -fuzzminimizetime=5s ./internal/web/ats/

bench:
	$(GO) test -run='^$$' -bench=. -benchmem $(PKGS)

# atsgate beside pgbench on PostgreSQL, then alone on SQLite (.ci/load.sh,
# docs/performance.md); needs pgbench, psql and sqlite3.
load:
	bash .ci/load.sh

# Rewrite the screenshots in docs/img from the real pages, in Debian's
# headless chromium (the back office's, then the public sites').
screenshots:
	ATSGATE_SCREENSHOTS=1 $(GO) test -count=1 -run 'TestBackOfficeInBrowser|TestSiteInBrowser' ./internal/web/

clean:
	rm -rf bin var
