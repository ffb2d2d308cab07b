#!/usr/bin/env bash
# Runs the tests as on a machine with Node alone: the native addon, python3-torch, chromium, tmux and
# the real annotation files are hidden (env vars and a PATH holding only node), so every test that
# needs one must skip with its reason. Usage: scripts/test-node-only.sh [vitest args, e.g. test/backend]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
ln -s "$(command -v node)" "$bin/node"
PATH="$bin" SDFN_TORCH_ADDON=/nonexistent/sdfn_torch.node SDFN_PYTHON=/nonexistent/python3 SDFN_SHARED_DATA=/nonexistent/data \
  node node_modules/vitest/vitest.mjs run "$@"
