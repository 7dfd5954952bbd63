#!/usr/bin/env bash
# make load: atsgate's hot paths measured side by side with pgbench on the
# same machine (SPEC section 10, issue 11).
#
# On PostgreSQL, each scenario alternates pgbench and atsgate so a slow
# stretch of a shared machine hits both: pgbench for half the time, atsgate
# for the time, pgbench for the other half; the ratio is atsgate's requests
# per second over the mean of the two pgbench runs.
#
#   create  vs pgbench's builtin tpcb-like (a five-statement transaction)
#   get     vs select-only
#   replay  vs select-only (an idempotent create of an existing job)
#   list    LOAD_LIST_JOBS jobs per employer, 50 a page
#   deep    list of one employer holding LOAD_DEEP jobs (1,000,000)
#
# Then atsgate alone on SQLite (create, get, replay, list). LOAD_CLIENTS
# clients (16), one employer (auto-publish) and key per client, a 1 KiB HTML
# description; server CPU per request and peak RSS come from the server
# process's /proc entries. Knobs: LOAD_TIME (10s), LOAD_CLIENTS (16),
# LOAD_LIST_JOBS (2000), LOAD_DEEP (1000000), LOAD_DB (both|postgres|sqlite),
# LOAD_PG (postgres://postgres@127.0.0.1:5432), LOAD_REDIS
# (redis://127.0.0.1:6379/11), LOAD_PROFILE (a directory: CPU profiles of
# serve under each PostgreSQL scenario, taken after its measured run).
# Only loopback traffic; the databases atsgate_load and pgbench_load are
# dropped and recreated.
set -euo pipefail
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
cd "$(dirname "$0")/.."
T=${LOAD_TIME:-10s}
C=${LOAD_CLIENTS:-16}
LIST_JOBS=${LOAD_LIST_JOBS:-2000}
DEEP=${LOAD_DEEP:-1000000}
WHICH=${LOAD_DB:-both}
PG=${LOAD_PG:-postgres://postgres@127.0.0.1:5432}
REDIS=${LOAD_REDIS:-redis://127.0.0.1:6379/11}
secs=${T%s}
half=$(( (secs + 1) / 2 ))

if [ "$WHICH" != sqlite ] && ! command -v pgbench >/dev/null; then
  echo "load: pgbench missing; installing postgresql-client" >&2
  (apt-get install -y postgresql-client >/dev/null 2>&1 || sudo apt-get install -y postgresql-client >/dev/null) ||
    { echo "load: install pgbench (Debian: postgresql-client)" >&2; exit 1; }
fi

dir=$(mktemp -d)
pid=""
stop_server() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""; fi
}
trap 'stop_server; rm -rf "$dir"' EXIT
go build -o "$dir/atsgate" ./cmd/atsgate
go build -o "$dir/atsload" ./cmd/atsload
export ATSGATE_RATE_LIMIT=100000000 ATSGATE_ADDR=127.0.0.1:0 ATSGATE_ADMIN_ADDR=127.0.0.1:0
cli() { "$dir/atsgate" "$@"; }
json_field() { sed -n "s/^ *\"$1\": \\([^,]*\\),\\{0,1\\}\$/\\1/p" "$2" | head -1 | tr -d '"'; }

# provision: a country, $C auto-publish employers with a key and money each,
# and one more employer for the deep list. Leaves keys in $dir/keys, the
# deep key in $dir/deepkey, employer IDs in $dir/emps and $dir/deepemp.
provision() {
  cli migrate >/dev/null
  cli country add --code ng --name Nigeria --host ng.localhost --currency NGN \
    --timezone Africa/Lagos --price 5000 >/dev/null
  : >"$dir/keys"
  : >"$dir/emps"
  for i in $(seq 1 "$C"); do
    emp=$(cli employer add --country ng --name "Load Client $i Ltd" --auto-publish --json | json_field id /dev/stdin)
    cli key issue --employer "$emp" --json | json_field key /dev/stdin >>"$dir/keys"
    cli wallet topup --employer "$emp" --amount 1000000000 --note "load test" >/dev/null
    echo "$emp" >>"$dir/emps"
  done
  emp=$(cli employer add --country ng --name "Deep List Ltd" --auto-publish --json | json_field id /dev/stdin)
  cli key issue --employer "$emp" --json | json_field key /dev/stdin >"$dir/deepkey"
  echo "$emp" >"$dir/deepemp"
}

# seed_sql EMPLOYER N: N closed jobs for an employer, as one INSERT … SELECT
# (closed: the list shows them like any other, and the public search index
# of published jobs is not what is measured here).
seed_sql() {
  local emp=$1 n=$2 series
  if [ "$DB" = postgres ]; then
    series="generate_series(1, $n) AS g(n)"
  else
    series="(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < $n) SELECT n FROM s) AS g"
  fi
  cat <<SQL
INSERT INTO jobs (employer_id, country_id, external_id, dialect, state, title, description,
  deadline, amount_charged_minor, public_path, received_at, updated_at, published_at, closed_at)
SELECT $emp, e.country_id, 'seed-' || g.n, 'ats', 'closed', 'Seeded job ' || g.n, '<p>Seeded.</p>',
  '2030-12-31', 500000, '/jobs/seed-$emp-' || g.n, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
FROM employers e CROSS JOIN $series WHERE e.id = $emp;
SQL
}

seed() {
  local sql="$dir/seed.sql"
  : >"$sql"
  while read -r emp; do seed_sql "$emp" "$LIST_JOBS" >>"$sql"; done <"$dir/emps"
  if [ "$DB" = postgres ] || [ "${LOAD_DEEP_SQLITE:-0}" = 1 ]; then
    seed_sql "$(cat "$dir/deepemp")" "$DEEP" >>"$sql"
  fi
  local t0=$SECONDS
  if [ "$DB" = postgres ]; then
    # The checkpoint writes the seed's pages out now, not during the
    # measured runs (a million jobs is about a gigabyte of dirty buffers).
    printf 'VACUUM ANALYZE jobs;\nCHECKPOINT;\n' >>"$sql"
    psql -q -v ON_ERROR_STOP=1 "$PG/atsgate_load" -f "$sql" >/dev/null
  else
    echo "ANALYZE;" >>"$sql"
    sqlite3 "$dir/load.db" <"$sql"
  fi
  echo "seeded $(( $(wc -l <"$dir/emps") * LIST_JOBS )) jobs for $C employers and the deep list in $((SECONDS - t0)) s" >&2
}

start_server() {
  "$dir/atsgate" serve >"$dir/out" 2>"$dir/err" &
  pid=$!
  for _ in $(seq 1 100); do grep -q '"atsgate serving"' "$dir/err" 2>/dev/null && break; sleep 0.1; done
  url="http://$(sed -n 's/.*"atsgate serving","addr":"\([^"]*\)".*/\1/p' "$dir/err" | head -1)"
}

# ats OP KEYS NAME: one atsload run; its JSON report in $dir/NAME.json.
ats() {
  "$dir/atsload" -url "$url" -host ng.localhost -key "$2" -op "$1" -c "$C" -d "$T" -pid "$pid" -json >"$dir/$3.json"
}

# bench MODE SECS SCENARIO: pgbench's tps for MODE (tpcb-like or
# select-only) over SECS. One transaction in ten has its latency logged
# (-l; a line for every one would weigh on pgbench) into $dir/lat-SCENARIO,
# so the table can show pgbench's own p50/p99 next to atsgate's: the floor
# this machine sets under the same 16 clients.
bench() {
  rm -f "$dir"/pgb.*
  (cd "$dir" && pgbench -n -b "$1" -c "$C" -j 2 -T "$2" -l --sampling-rate=0.1 --log-prefix=pgb "$PG/pgbench_load" 2>/dev/null) |
    sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1
  cat "$dir"/pgb.* 2>/dev/null | awk '{ print $3 }' >>"$dir/lat-$3"
}

# pct SCENARIO: pgbench's p50 / p99 latency next to SCENARIO (both halves).
pct() {
  sort -n "$dir/lat-$1" 2>/dev/null |
    awk '{ a[NR] = $1 } END { if (NR) printf "%.2f / %.2f ms", a[int(NR * 0.5) + 1] / 1000, a[int(NR * 0.99) + 1] / 1000; else printf "—" }'
}

row() { # row NAME PGBENCH_TPS TARGET
  local f="$dir/$1.json" rps ratio lat="—"
  rps=$(json_field requests_per_second "$f")
  if [ -n "$2" ]; then ratio=$(awk -v a="$rps" -v b="$2" 'BEGIN { printf "%.3f", a / b }'); else ratio="—"; fi
  [ -n "$2" ] && lat=$(pct "$1")
  printf "| %s | %s | %s | %.0f/s | %s | %s | %.2f ms | %.2f ms | %.3f ms | %s | %.0f |\n" "$1" "${2:-—}" "$lat" "$rps" "$ratio" "$3" \
    "$(json_field p50_ms "$f")" "$(json_field p99_ms "$f")" "$(json_field server_cpu_ms_per_request "$f")" \
    "$(json_field status_summary "$f")" "$(json_field server_peak_rss_mib "$f")"
}

header() {
  echo
  echo "## $1 ($C clients, $T per run, $(nproc) CPUs, $(date -u +%FT%TZ))"
  echo
  echo "| scenario | pgbench tps | pgbench p50 / p99 | atsgate | ratio | target | p50 | p99 | server CPU/req | statuses | peak RSS MiB |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
}

run_postgres() {
  DB=postgres
  for db in atsgate_load pgbench_load; do
    psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
  done
  pgbench -i -q -s "$C" "$PG/pgbench_load" >/dev/null 2>&1
  export DATABASE_URL="$PG/atsgate_load" REDIS_URL="$REDIS"
  if [ -n "${LOAD_PROFILE:-}" ]; then export ATSGATE_DEBUG_ADDR=${DEBUG_ADDR:=127.0.0.1:6061}; fi
  provision
  seed
  start_server
  keys=$(paste -sd, "$dir/keys")
  declare -A tps
  local a b
  for sc in create get replay; do
    mode=select-only
    [ "$sc" = create ] && mode=tpcb-like
    a=$(bench "$mode" "$half" "$sc")
    ats "$sc" "$keys" "$sc"
    b=$(bench "$mode" "$half" "$sc")
    tps[$sc]=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.0f", (a + b) / 2 }')
    [ -n "${LOAD_PROFILE:-}" ] && profile "$sc"
  done
  ats list "$keys" list
  ats list "$(cat "$dir/deepkey")" deep
  header "PostgreSQL + Redis"
  row create "${tps[create]}" "≥ 0.6, p99 ≤ 15 ms"
  row get "${tps[get]}" "≥ 0.3"
  row replay "${tps[replay]}" "≥ get"
  row list "" "—"
  row deep "" "p99 ≤ 10 ms"
  stop_server
  unset REDIS_URL ATSGATE_DEBUG_ADDR
}

# profile OP: a 10 s CPU profile of serve under OP through its debug
# listener (ATSGATE_DEBUG_ADDR), saved as $LOAD_PROFILE/OP.pprof; a
# separate run, so it does not weigh on the measured one.
profile() {
  mkdir -p "$LOAD_PROFILE"
  "$dir/atsload" -url "$url" -host ng.localhost -key "$keys" -op "$1" -c "$C" -d 11s >/dev/null &
  local lp=$!
  curl -s -o "$LOAD_PROFILE/$1.pprof" "http://$DEBUG_ADDR/debug/pprof/profile?seconds=10" || true
  wait "$lp" || true
}

run_sqlite() {
  DB=sqlite
  export DATABASE_URL="sqlite://$dir/load.db"
  provision
  seed
  start_server
  keys=$(paste -sd, "$dir/keys")
  for sc in create get replay list; do ats "$sc" "$keys" "$sc"; done
  header "SQLite alone"
  row create "" "—"
  row get "" "—"
  row replay "" "—"
  row list "" "—"
  stop_server
}

case "$WHICH" in
both) run_postgres; run_sqlite ;;
postgres) run_postgres ;;
sqlite) run_sqlite ;;
*) echo "LOAD_DB is both, postgres or sqlite" >&2; exit 2 ;;
esac
