# Fieldsync developer targets. `make check` is the fast inner loop (SQLite only,
# no race detector); `make test` is the full gate: the whole suite with -race on
# SQLite and on a throwaway Postgres (scripts/test.sh); `.ci/run` is what CI runs.

GO          ?= go
BIN         := bin/fieldsync
IMAGE       ?= fieldsync:dev
FUZZTIME    ?= 30s
# staticcheck 2026.1 (v0.7.0) is the first release that reads Go 1.26 code.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.7.0

.PHONY: build run check test test-fleet lint lint-openapi fuzz-seeds fuzz bench docker clean

build:
	CGO_ENABLED=1 $(GO) build -o $(BIN) ./cmd/fieldsync

# Seeds the demo organisation (printing its logins; a no-op but for the logins
# when it is already there), then serves it. Database: FIELDSYNC_DATABASE_URL,
# else fieldsync.db in this directory (seed creates it). The demo's passwords
# are published, so it listens on loopback unless FIELDSYNC_ADDR says otherwise.
run: build
	$(BIN) seed --demo
	FIELDSYNC_ADDR="$${FIELDSYNC_ADDR:-127.0.0.1:8080}" $(BIN) serve

# The fast inner loop: every test on SQLite only (the Postgres half skips
# itself), without the race detector. `make test` stays the gate.
check:
	FIELDSYNC_TEST_POSTGRES_URL= FIELDSYNC_REQUIRE_POSTGRES= $(GO) test -count=1 ./...

test:
	scripts/jstest-check.sh
	scripts/test.sh

# The fleet test (scripts/fleet-test.sh, docs/operations.md): a primary and a
# streaming standby, three instances behind HAProxy, devices syncing through
# restarts, a kill -9 and a stopped instance. Needs postgresql-15 and haproxy.
# FLEET_OUTAGE (default 60s) is how long one instance stays stopped.
test-fleet:
	scripts/fleet-test.sh

lint:
	@unformatted=$$(gofmt -l .); \
	if [ -n "$$unformatted" ]; then echo "gofmt: these files need formatting:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# Lints server/openapi.json with Spectral's OpenAPI rules (tools/openapi-lint,
# pinned by its package-lock.json; needs node >= 18.18 and npm). CI runs it.
lint-openapi:
	cd tools/openapi-lint && npm ci --no-audit --no-fund --silent && npm run -s lint

# Fuzz targets run their seed corpora as plain tests (also part of `make test`).
fuzz-seeds:
	scripts/test.sh -count=1 -run '^Fuzz' ./...

# Runs every Fuzz* target for FUZZTIME each (go test fuzzes one target at a time).
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$target"; \
			$(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

# Go benchmarks, on SQLite and the throwaway Postgres like the tests.
bench:
	scripts/test.sh -run '^$$' -bench . -benchmem -count=1 -timeout 60m ./...

docker:
	docker build -t $(IMAGE) .

clean:
	rm -rf bin
