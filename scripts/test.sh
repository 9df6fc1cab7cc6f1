#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs Bun if missing and the dependencies,
# type-checks, then runs every test (unit, contract suites, API, end-to-end).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v bun >/dev/null 2>&1 || npm install -g bun
bun install --frozen-lockfile
bun run typecheck
bun run test
