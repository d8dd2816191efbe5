#!/usr/bin/env bash
# The fleet test (docs/operations.md): a Postgres 15 primary and a streaming
# standby (pg_basebackup -R), three `fieldsync serve` instances reading
# reports from the standby, and HAProxy (Debian's package) in front with
# health checks on /readyz, all on loopback. Devices (the Go device SDK,
# internal/fleet) push and pull through HAProxy while the instances are
# restarted one after another with SIGTERM, one is killed with kill -9, and
# one is stopped for FLEET_OUTAGE (default 60s; shorten it for your own runs).
# Then internal/fleet checks every write stored exactly once, every device
# converged and no request failed that the client did not retry, and prints
# the figures. Exit status 0 only if every check passed.
#
#   FLEET_OUTAGE=60s          how long one instance stays stopped
#   FLEET_PORT_BASE=54403     primary; standby +1, instances +2..+4, HAProxy +5
#   FLEET_DIR=/tmp/fieldsync-fleet
set -euo pipefail
cd "$(dirname "$0")/.."

OUTAGE=${FLEET_OUTAGE:-60s}
BASE=${FLEET_PORT_BASE:-54403}
DIR=${FLEET_DIR:-/tmp/fieldsync-fleet}
PRIMARY_PORT=$BASE
STANDBY_PORT=$((BASE + 1))
INSTANCE_PORTS=($((BASE + 2)) $((BASE + 3)) $((BASE + 4)))
LB_PORT=$((BASE + 5))
PRIMARY_URL="postgres://postgres@127.0.0.1:$PRIMARY_PORT/postgres?sslmode=disable"
STANDBY_URL="postgres://postgres@127.0.0.1:$STANDBY_PORT/postgres?sslmode=disable"
LB_URL="http://127.0.0.1:$LB_PORT"

say() { printf '== fleet %s: %s\n' "$(date -u +%T)" "$*"; }
die() { printf 'fleet-test: %s\n' "$*" >&2; exit 1; }

command -v haproxy >/dev/null 2>&1 || die "haproxy is not installed (apt-get install haproxy)"
command -v curl >/dev/null 2>&1 || die "curl is not installed"
find_pg() {
  local p
  p=$(command -v "$1" 2>/dev/null || true)
  [ -z "$p" ] && for c in /usr/lib/postgresql/15/bin/"$1" /usr/lib/postgresql/*/bin/"$1"; do [ -x "$c" ] && p=$c && break; done
  [ -n "$p" ] || die "$1 not found (install postgresql-15)"
  printf '%s' "$p"
}
PG_CTL=$(find_pg pg_ctl)
PG_BASEBACKUP=$(find_pg pg_basebackup)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

declare -A PIDS=()
LB_PID=""
cleanup() {
  local rc=$?
  set +e
  for i in "${!PIDS[@]}"; do kill -TERM "${PIDS[$i]}" 2>/dev/null; done
  [ -n "$LB_PID" ] && kill "$LB_PID" 2>/dev/null
  for i in "${!PIDS[@]}"; do wait "${PIDS[$i]}" 2>/dev/null; done
  [ -d "$DIR/standby" ] && as_pg "$PG_CTL" -D "$DIR/standby" -m immediate -w stop >/dev/null 2>&1
  FIELDSYNC_PG_DIR=$DIR/primary FIELDSYNC_PG_PORT=$PRIMARY_PORT scripts/pgtest.sh stop >/dev/null 2>&1
  if [ $rc != 0 ]; then
    echo "fleet-test: FAILED (exit $rc); logs in $DIR" >&2
  fi
  exit $rc
}
trap cleanup EXIT

rm -rf "$DIR"
mkdir -p "$DIR/devices"

say "primary on :$PRIMARY_PORT"
# Durable settings (fsync, full_page_writes): a base backup needs full pages.
FIELDSYNC_PG_DURABLE=1 FIELDSYNC_PG_DIR=$DIR/primary FIELDSYNC_PG_PORT=$PRIMARY_PORT scripts/pgtest.sh start >/dev/null

say "standby on :$STANDBY_PORT (pg_basebackup -R)"
mkdir -p "$DIR/standby" "$DIR/pglog"
[ "$(id -u)" = 0 ] && chown postgres "$DIR/standby" "$DIR/pglog"
chmod 700 "$DIR/standby"
as_pg "$PG_BASEBACKUP" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$DIR/standby" -R -X stream -c fast
cat >>"$DIR/standby/postgresql.conf" <<CONF
port = $STANDBY_PORT
unix_socket_directories = '$DIR/standby'
hot_standby = on
CONF
as_pg "$PG_CTL" -D "$DIR/standby" -l "$DIR/pglog/standby.log" -w -t 60 start >/dev/null || { cat "$DIR/pglog/standby.log" >&2; exit 1; }

say "building fieldsync and the fleet devices"
go build -o "$DIR/fieldsync" ./cmd/fieldsync
go build -o "$DIR/fleet-devices" ./internal/fleet
FIELDSYNC_DATABASE_URL=$PRIMARY_URL "$DIR/fieldsync" seed --demo >"$DIR/seed.log"

# Each instance: the primary, the standby for reports, a drain delay longer
# than HAProxy's check interval, a small pool (four processes on two cores).
start_instance() {
  local i=$1
  FIELDSYNC_DATABASE_URL=$PRIMARY_URL FIELDSYNC_REPLICA_URL=$STANDBY_URL \
    FIELDSYNC_ADDR=127.0.0.1:${INSTANCE_PORTS[$i]} FIELDSYNC_DRAIN_DELAY=1500ms \
    FIELDSYNC_DB_MAX_CONNS=8 FIELDSYNC_SHUTDOWN_TIMEOUT=20s FIELDSYNC_LOG_LEVEL=warn \
    FIELDSYNC_BLOB_DIR=$DIR/blobs FIELDSYNC_UPLOAD_DIR=$DIR/uploads-$i \
    "$DIR/fieldsync" serve >>"$DIR/instance-$i.log" 2>&1 &
  PIDS[$i]=$!
}
wait_ready() {
  local i=$1 n=0
  until curl -fsS "http://127.0.0.1:${INSTANCE_PORTS[$i]}/readyz" >/dev/null 2>&1; do
    n=$((n + 1))
    [ $n -gt 600 ] && die "instance $i never became ready (see $DIR/instance-$i.log)"
    kill -0 "${PIDS[$i]}" 2>/dev/null || die "instance $i exited (see $DIR/instance-$i.log)"
    sleep 0.1
  done
}
stop_instance() { # $1 index, $2 signal
  kill -"$2" "${PIDS[$1]}"
  wait "${PIDS[$1]}" 2>/dev/null || true
}

for i in 0 1 2; do start_instance $i; done
for i in 0 1 2; do wait_ready $i; done
say "instances on :${INSTANCE_PORTS[*]}"

# The HAProxy configuration docs/operations.md shows, on these ports.
cat >"$DIR/haproxy.cfg" <<CFG
global
    maxconn 2000

defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout queue 10s
    # A request that could not reach an instance (refused, reset before an
    # answer) goes to another; pushes are idempotent by mutation id, so a
    # resend is safe (docs/protocol.md).
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response 503
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 500ms fall 1 rise 2

frontend fieldsync
    bind 127.0.0.1:$LB_PORT
    default_backend instances

backend instances
    balance leastconn
    server a 127.0.0.1:${INSTANCE_PORTS[0]} check
    server b 127.0.0.1:${INSTANCE_PORTS[1]} check
    server c 127.0.0.1:${INSTANCE_PORTS[2]} check
CFG
haproxy -c -f "$DIR/haproxy.cfg" >/dev/null || die "haproxy rejects $DIR/haproxy.cfg"
haproxy -db -f "$DIR/haproxy.cfg" >"$DIR/haproxy.log" 2>&1 &
LB_PID=$!
n=0
until curl -fsS "$LB_URL/readyz" >/dev/null 2>&1; do
  n=$((n + 1)); [ $n -gt 300 ] && die "HAProxy never answered"; sleep 0.1
done
say "HAProxy on :$LB_PORT"

"$DIR/fleet-devices" -url "$LB_URL" -primary "$PRIMARY_URL" -dir "$DIR/devices" \
  -ready-file "$DIR/ready" -stop-file "$DIR/stop" >"$DIR/devices.log" 2>&1 &
DEVICES_PID=$!
until [ -e "$DIR/ready" ]; do
  kill -0 $DEVICES_PID 2>/dev/null || { cat "$DIR/devices.log"; die "the devices exited before the load began"; }
  sleep 0.1
done
say "devices syncing through HAProxy"

# Restarts under load. A restarted instance must be ready before the next
# goes, as a rolling deploy does.
for i in 0 1 2; do
  say "rolling restart: SIGTERM instance $i"
  stop_instance $i TERM
  start_instance $i
  wait_ready $i
done
say "kill -9 instance 1"
stop_instance 1 KILL
start_instance 1
wait_ready 1
say "instance 2 stopped for $OUTAGE"
stop_instance 2 TERM
sleep "$OUTAGE"
start_instance 2
wait_ready 2
say "instance 2 back"

# The standby serves reports: its lag as each instance measures it.
for i in 0 1 2; do
  lag=$(curl -fsS "http://127.0.0.1:${INSTANCE_PORTS[$i]}/metrics" | grep '^fieldsync_replica_lag_seconds ' || echo "none")
  ready=$(curl -fsS "http://127.0.0.1:${INSTANCE_PORTS[$i]}/readyz" || echo "unready")
  say "instance $i: $lag; readyz $ready"
done

touch "$DIR/stop"
rc=0
wait $DEVICES_PID || rc=$?
cat "$DIR/devices.log"
for i in 0 1 2; do
  if grep -q '"level":"ERROR"' "$DIR/instance-$i.log"; then
    echo "fleet-test: instance $i logged errors:" >&2
    grep '"level":"ERROR"' "$DIR/instance-$i.log" | head -20 >&2
    rc=1
  fi
done
exit $rc
