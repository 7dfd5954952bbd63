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
  ATSGATE_ADDR=127.0.0.1:0 ATSGATE_ADMIN_ADDR=127.0.0.1:0 ATSGATE_LOG_LEVEL=warn
"$dir/atsgate" serve >"$dir/out" 2>"$dir/err" &
pid=$!
for _ in $(seq 1 100); do grep -q "curl -i" "$dir/out" 2>/dev/null && break; sleep 0.1; done
key=$(grep -o 'mjm_ng_[A-Za-z0-9]*' "$dir/out" | head -1)
url=$(grep -o 'http://127.0.0.1:[0-9]*' "$dir/out" | head -1)
"$dir/atsgate" wallet topup --employer 1 --amount 1000000000 --note "load test" >/dev/null
for op in ${LOAD_OPS:-create replay get list}; do
  "$dir/atsload" -url "$url" -host ng.localhost -key "$key" -op "$op" -c "${LOAD_CONCURRENCY:-16}" -d "${LOAD_TIME:-10s}"
done
