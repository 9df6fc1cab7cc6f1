#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs Bun, Redis, Postgres and Debian's
# Chromium when missing (the tests start throwaway servers from these binaries unless
# AOB_TEST_REDIS_URL and AOB_TEST_DATABASE_URL are given; the web UI's tests drive Chromium with
# playwright-core, never a downloaded browser), the dependencies, then checks formatting
# (Biome), type-checks and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need_apt+=(postgresql)
if [ -n "${AOB_TEST_REDIS_URL:-}${AOB_TEST_DATABASE_URL:-}" ]; then need_apt=(); fi
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
command -v bun >/dev/null 2>&1 || npm install -g bun
bun install --frozen-lockfile
bun run format:check
bun run typecheck
bun run test
