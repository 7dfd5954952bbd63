#!/usr/bin/env bash
# make load: serve a fresh embedded database (or DATABASE_URL if set) with a
# limit high enough not to throttle, fund the demo employer, and put it under
# load with atsload. Only loopback traffic; bounded by LOAD_TIME.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
go build -o "$dir/atsgate" ./cmd/atsgate
go build -o "$dir/atsload" ./cmd/atsload
export DATABASE_URL="${DATABASE_URL:-sqlite://$dir/load.db}" ATSGATE_RATE_LIMIT=100000000 \
  ATSGATE_ADDR=127.0.0.1:0 ATSGATE_ADMIN_ADDR=127.0.0.1:0
key=""
case "$DATABASE_URL" in
postgres*)
  # PostgreSQL is never seeded: provision a country, an employer and a key.
  # Use an empty database (DATABASE_URL=postgres://…/atsgate_load).
  "$dir/atsgate" migrate >/dev/null
  "$dir/atsgate" country add --code ng --name Nigeria --host ng.localhost --currency NGN \
    --timezone Africa/Lagos --price 5000 >/dev/null
  emp=$("$dir/atsgate" employer add --country ng --name "Load Test Ltd" --json | sed -n 's/^  "id": \([0-9]*\),/\1/p')
  key=$("$dir/atsgate" key issue --employer "$emp" --json | sed -n 's/.*"key": "\(.*\)".*/\1/p')
  ;;
esac
"$dir/atsgate" serve >"$dir/out" 2>"$dir/err" &
pid=$!
for _ in $(seq 1 100); do grep -q '"atsgate serving"' "$dir/err" 2>/dev/null && break; sleep 0.1; done
if [ -z "$key" ]; then
  key=$(grep -o 'mjm_ng_[A-Za-z0-9]*' "$dir/out" | head -1)
  emp=1
fi
url="http://$(sed -n 's/.*"atsgate serving","addr":"\([^"]*\)".*/\1/p' "$dir/err" | head -1)"
"$dir/atsgate" wallet topup --employer "$emp" --amount 1000000000 --note "load test" >/dev/null
for op in ${LOAD_OPS:-create replay get list}; do
  "$dir/atsload" -url "$url" -host ng.localhost -key "$key" -op "$op" -c "${LOAD_CONCURRENCY:-16}" -d "${LOAD_TIME:-10s}"
done
