#!/usr/bin/env bash
# The dashboard at scale: a fresh database filled through keydesk's own front
# doors (keys through the Create New Key form, leads through the API), then
# the server time of every dashboard page as a signed-in admin.
# Usage: bench/scale.sh   (SCALE_KEYS=1000 SCALE_LEADS=1000000 SCALE_CONCURRENCY=32 SCALE_FETCHES=200 PORT=18090;
#                          SCALE_ONLY=Integrations measures only the pages whose name holds that;
#                          SCALE_REQUESTS=10000000 also fills the request log through the store's writer)
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-18090}
work=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "building keydesk and the scale program…"
go build -o "$work/keydesk" .
go build -o "$work/scale" ./bench/scale

export KEYDESK_DB=$work/scale.db
export KEYDESK_ADDR=127.0.0.1:$PORT
export KEYDESK_MASTER_KEY=$(head -c 32 /dev/urandom | base64)
export KEYDESK_ADMIN_EMAIL=admin@scale.test
export KEYDESK_ADMIN_PASSWORD=scale-benchmark-password
export KEYDESK_ACCOUNT_NAME="Scale Motors"

"$work/keydesk" serve >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do curl -fsS "http://$KEYDESK_ADDR/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "http://$KEYDESK_ADDR/healthz" >/dev/null || { cat "$work/server.log" >&2; exit 1; }

"$work/scale"
echo "database: $(du -h "$KEYDESK_DB" | cut -f1) (+ WAL $(du -h "$KEYDESK_DB-wal" 2>/dev/null | cut -f1))"
