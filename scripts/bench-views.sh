#!/usr/bin/env bash
# Measures what a director, a regional manager and a coordinator download: each
# dashboard page and report answer, its time and its gzip-compressed size, as a
# browser or client asking for gzip gets it (docs/benchmarks.md "Views at the
# head of sales' scale").
#
#   scripts/bench-views.sh BASE_URL [RUNS]
#
# BASE_URL is a running server (fieldsync serve) holding the demo logins
# (fieldsync seed --demo). Each URL is asked RUNS times (default 5) after one
# warm-up; the line shows the median and the largest time, and the size.
# Override the logins with DIRECTOR, MANAGER, COORDINATOR as email:password.
set -euo pipefail
base=${1:?usage: scripts/bench-views.sh BASE_URL [RUNS]}
runs=${2:-5}
director=${DIRECTOR:-director@demo.fieldsync.dev:demo-director-pass}
manager=${MANAGER:-manager@demo.fieldsync.dev:demo-manager-pass}
coordinator=${COORDINATOR:-coordinator@demo.fieldsync.dev:demo-coordinator-pass}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

token() { # email:password -> bearer token
  curl -sf "$base/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"email\":\"${1%%:*}\",\"password\":\"${1#*:}\",\"device_id\":\"bench-views\"}" |
    sed -n 's/.*"token":"\([^"]*\)".*/\1/p'
}

session() { # email:password jar -> signs the dashboard in, cookies in jar
  local csrf
  csrf=$(curl -sf -c "$2" "$base/dashboard" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1)
  curl -sf -b "$2" -c "$2" -o /dev/null "$base/dashboard/login" \
    --data-urlencode "csrf=$csrf" --data-urlencode "email=${1%%:*}" --data-urlencode "password=${1#*:}"
}

measure() { # label curl-auth-args... -- url
  local label=$1; shift
  local args=() times=() size code
  while [ "$1" != "--" ]; do args+=("$1"); shift; done
  local url=$2
  curl -s -o /dev/null --compressed "${args[@]}" "$url" # warm-up
  for _ in $(seq "$runs"); do
    read -r code size t < <(curl -s -o "$tmp/body" -H 'Accept-Encoding: gzip' \
      -w '%{http_code} %{size_download} %{time_total}\n' "${args[@]}" "$url")
    times+=("$t")
  done
  local sorted median maxt
  sorted=$(printf '%s\n' "${times[@]}" | sort -n)
  median=$(echo "$sorted" | sed -n "$(( (runs + 1) / 2 ))p")
  maxt=$(echo "$sorted" | tail -1)
  printf '%-44s %3s %9.1f KB gz %7.0f ms median %7.0f ms max\n' "$label" "$code" \
    "$(echo "$size / 1024" | bc -l)" "$(echo "$median * 1000" | bc -l)" "$(echo "$maxt * 1000" | bc -l)"
}

q="from=${FROM:-$(date -u -d '27 days ago' +%F)}&to=${TO:-$(date -u +%F)}"
for who in director manager coordinator; do
  cred=${!who}
  tok=$(token "$cred")
  jar="$tmp/$who.jar"
  session "$cred" "$jar"
  auth=(-H "Authorization: Bearer $tok")
  if [ "$who" != coordinator ]; then
    measure "$who dashboard" -b "$jar" -- "$base/dashboard?$q"
    # One level down: the first sub-territory the page links to, then the
    # first rep's accounts.
    page=$(curl -s -b "$jar" "$base/dashboard?$q")
    sub=$(grep -o 'territory_id=[0-9a-f-]*" data-testid="territory-link"' <<<"$page" | head -1 | cut -d'"' -f1 | cut -d= -f2 || true)
    if [ -n "$sub" ]; then
      measure "$who dashboard, one level down" -b "$jar" -- "$base/dashboard?$q&territory_id=$sub"
    fi
    rep=$(grep -o 'rep_id=[0-9a-f-]*" data-testid="rep-link"' <<<"$page" | head -1 | cut -d'"' -f1 | cut -d= -f2 || true)
    if [ -n "$rep" ]; then
      measure "$who dashboard, a rep's accounts" -b "$jar" -- "$base/dashboard?$q&rep_id=$rep"
    fi
    for r in coverage overdue sync-health; do
      measure "$who /v1/reports/$r" "${auth[@]}" -- "$base/v1/reports/$r?$q"
    done
    measure "$who /v1/reports/kpis" "${auth[@]}" -- "$base/v1/reports/kpis"
  else
    measure "$who desk" -b "$jar" -- "$base/dashboard/desk"
  fi
  measure "$who /v1/reports/orders" "${auth[@]}" -- "$base/v1/reports/orders?$q"
done
