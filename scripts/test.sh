#!/usr/bin/env bash
# Runs the Go test suite on both databases: SQLite always, Postgres on the
# cluster named by FIELDSYNC_TEST_POSTGRES_URL or, when that is unset, on a
# throwaway cluster started here (scripts/pgtest.sh) and stopped on exit.
#
#   scripts/test.sh                 -> go test -race -count=1 -timeout 15m ./...
#   scripts/test.sh ARGS...         -> go test ARGS... (e.g. -run '^$' -bench . ./...)
#
# Without a Postgres server installed, only the SQLite half runs, under a loud
# banner. With FIELDSYNC_REQUIRE_POSTGRES=1 (CI) a missing Postgres is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

args=("$@")
if [ ${#args[@]} -eq 0 ]; then
  args=(-race -count=1 -timeout 15m ./...)
fi

banner() {
  cat >&2 <<'BANNER'

##########################################################################
##                                                                      ##
##   POSTGRES HALF SKIPPED: no Postgres server could be started.        ##
##   Only the SQLite half of the suite ran. Install postgresql-15       ##
##   (apt-get install postgresql-15) to run the whole suite.            ##
##                                                                      ##
##########################################################################

BANNER
}

# free_port finds a loopback port nobody listens on, so the throwaway cluster
# never collides with a developer's own (or another run's) cluster.
free_port() {
  local p
  for p in $(seq 55432 55532); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
  echo "test.sh: no free port in 55432-55532" >&2
  return 1
}

skipped=0
if [ -n "${FIELDSYNC_TEST_POSTGRES_URL:-}" ]; then
  echo "test.sh: Postgres half on the cluster at FIELDSYNC_TEST_POSTGRES_URL" >&2
else
  export FIELDSYNC_PG_DIR="/tmp/fieldsync-test-$$"
  FIELDSYNC_PG_PORT=$(free_port)
  export FIELDSYNC_PG_PORT
  trap 'scripts/pgtest.sh stop' EXIT
  rc=0
  url=$(scripts/pgtest.sh start) || rc=$?
  if [ "$rc" -eq 0 ]; then
    export FIELDSYNC_TEST_POSTGRES_URL="$url"
    echo "test.sh: throwaway Postgres at $url" >&2
  elif [ "${FIELDSYNC_REQUIRE_POSTGRES:-}" = 1 ]; then
    echo "test.sh: FIELDSYNC_REQUIRE_POSTGRES=1 but Postgres could not be started (pgtest exit $rc)" >&2
    exit 1
  else
    skipped=1
    banner
  fi
fi

node_banner() {
  cat >&2 <<'BANNER'

##########################################################################
##                                                                      ##
##   RXDB TESTS SKIPPED: node/npm not found, so jstest/rxdb (RxDB 17    ##
##   against a real server) did not run. Install nodejs and npm.        ##
##                                                                      ##
##########################################################################

BANNER
}

# The real-library tests (jstest/*) need node and npm; without them they skip,
# and on CI (CI=true) they fail.
no_node=0
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  no_node=1
  node_banner
fi

rc=0
go test "${args[@]}" || rc=$?
if [ "$skipped" = 1 ]; then
  banner
fi
if [ "$no_node" = 1 ]; then
  node_banner
fi
exit "$rc"
