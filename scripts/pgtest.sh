#!/usr/bin/env bash
# Starts or stops a throwaway Postgres 15 cluster on a loopback port for tests.
#   scripts/pgtest.sh start   -> prints the URL to stdout (export it as
#                                FIELDSYNC_TEST_POSTGRES_URL); exit 3 when no
#                                Postgres server is installed
#   scripts/pgtest.sh stop    -> stops the cluster and removes its files
# Postgres refuses to run as root, so as root the cluster runs as `postgres`.
# FIELDSYNC_PG_DIR, FIELDSYNC_PG_PORT choose where and on which port;
# FIELDSYNC_PG_BINDIR pins the directory of initdb/pg_ctl (nothing else is searched).
set -euo pipefail

DIR=${FIELDSYNC_PG_DIR:-/tmp/fieldsync-pgtest}
PORT=${FIELDSYNC_PG_PORT:-54329}

find_bin() {
  local name=$1 p
  if [ -n "${FIELDSYNC_PG_BINDIR:-}" ]; then
    [ -x "$FIELDSYNC_PG_BINDIR/$name" ] && printf '%s' "$FIELDSYNC_PG_BINDIR/$name"
    return 0
  fi
  p=$(command -v "$name" 2>/dev/null || true)
  if [ -z "$p" ]; then
    for cand in /usr/lib/postgresql/*/bin/"$name"; do
      [ -x "$cand" ] && p=$cand
    done
  fi
  if [ -z "$p" ] && command -v dpkg >/dev/null 2>&1; then
    p=$(dpkg -L postgresql-15 2>/dev/null | grep "bin/$name\$" | head -1 || true)
  fi
  printf '%s' "$p"
}

as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start() {
  local initdb pg_ctl
  initdb=$(find_bin initdb)
  pg_ctl=$(find_bin pg_ctl)
  if [ -z "$initdb" ] || [ -z "$pg_ctl" ]; then
    echo "pgtest: no Postgres server found (install postgresql-15)" >&2
    exit 3
  fi
  if [ -f "$DIR/data/postmaster.pid" ] && as_pg "$pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
    echo "postgres://postgres@127.0.0.1:$PORT/postgres?sslmode=disable"
    return
  fi
  rm -rf "$DIR"
  mkdir -p "$DIR"
  [ "$(id -u)" = 0 ] && chown postgres "$DIR"
  as_pg "$initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 --no-locale >"$DIR/initdb.log" 2>&1 || {
    cat "$DIR/initdb.log" >&2; exit 1; }
  # Throwaway cluster: durability is irrelevant, speed and headroom for
  # concurrent test databases are not. FIELDSYNC_PG_DURABLE=1 keeps Postgres's
  # defaults (fsync on), as docs/benchmarks.md's raw baselines are measured.
  cat >>"$DIR/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DIR'
max_connections = 300
CONF
  if [ "${FIELDSYNC_PG_DURABLE:-}" != 1 ]; then
    cat >>"$DIR/data/postgresql.conf" <<CONF
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 256MB
CONF
  fi
  as_pg "$pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 start >/dev/null || {
    cat "$DIR/server.log" >&2; exit 1; }
  echo "postgres://postgres@127.0.0.1:$PORT/postgres?sslmode=disable"
}

stop() {
  local pg_ctl
  pg_ctl=$(find_bin pg_ctl)
  if [ -n "$pg_ctl" ] && [ -d "$DIR/data" ]; then
    as_pg "$pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$DIR"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
