#!/usr/bin/env bash
# The system packages behind sdfn's optional parts, on Debian/Ubuntu (run as root or with sudo).
# Node alone runs sdfn and `npm test` (tests needing a missing part skip); these add:
#   libtorch-dev g++ make  the native torch backend (`npm run build:native`)
#   libgloo-dev            its distributed ops (c10d's ProcessGroupGloo headers)
#   python3-torch python3-numpy  the PyTorch reference (bench/reference, parity tests)
#   python3-torchvision    real torchvision weight files for the .pth reader's tests
#   chromium               renders report.html in a test;  tmux  the live-dashboard test
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  echo "install-system-deps: run as root (sudo $0)" >&2
  exit 2
fi
if ! command -v apt-get >/dev/null; then
  echo "install-system-deps: apt-get not found; this script covers Debian/Ubuntu. Install the packages it lists by hand." >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  libtorch-dev libgloo-dev g++ make python3-torch python3-numpy python3-torchvision chromium tmux >/dev/null
