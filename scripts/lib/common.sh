# Shared settings for mptcp-rs scripts. Sourced, not run.
# shellcheck shell=bash

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Everything big lives outside the clone so a fresh clone reuses it.
CACHE_DIR=${MPTCP_RS_CACHE:-$HOME/.cache/mptcp-rs}
export PATH="/usr/lib/llvm-22/bin:$HOME/.cargo/bin:$PATH"
export LIBCLANG_PATH=/usr/lib/llvm-22/lib

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
