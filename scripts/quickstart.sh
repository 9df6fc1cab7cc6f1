#!/usr/bin/env bash
# Installs what aob needs, starts the whole platform in one process (`aob dev`, embedded
# backend, state in .aob/), runs an example workflow, follows it live to completion, and
# leaves the platform running until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v bun >/dev/null 2>&1 || npm install -g bun
bun install --frozen-lockfile >/dev/null
port="${AOB_PORT:-7070}"
bun run --silent aob dev --port "$port" &
dev=$!
trap 'kill $dev 2>/dev/null || true; wait $dev 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 100); do
  bun -e "process.exit((await fetch('http://127.0.0.1:$port/health').catch(() => null))?.ok ? 0 : 1)" && break
  sleep 0.1
done
sleep 0.2
echo
echo "== running examples/branch-join.json, following its events =="
bun run --silent aob run start examples/branch-join.json --input '{"items":[{"price":40},{"price":85}]}' -f
echo
echo "== starting examples/watch.json (about 10 s): watch its graph light up in the web UI =="
bun run --silent aob run start examples/watch.json
echo
echo "aob dev is running on http://127.0.0.1:$port (token saved for the CLI). Ctrl-C to stop."
echo "Web UI: open http://127.0.0.1:$port/ and sign in with the admin token printed above;"
echo "        bun run aob run start examples/watch.json  starts another run to watch."
wait $dev
