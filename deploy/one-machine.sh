#!/usr/bin/env bash
# One machine: N server processes on one port (one per CPU by default), sharing layers,
# jobs and workflows through one SQLite file (WAL mode, safe with several writers), and
# tiles through a private folder in /dev/shm (TILES_CACHE names another, or a Redis).
#
#   TILES_TOKEN=$(python -c "import secrets; print(secrets.token_urlsafe(32))") \
#       bash deploy/one-machine.sh            # listens on 0.0.0.0:8000
#
# Variables: PORT (8000), WORKERS (CPUs), TILES_REGISTRY (~/.cache/tiles/registry.sqlite),
# TILES_CATALOG (~/.cache/tiles/catalog.sqlite), TILES_TOKEN (needed off loopback).
set -euo pipefail
export TILES_REGISTRY=${TILES_REGISTRY:-$HOME/.cache/tiles/registry.sqlite}
exec python -m tiles serve --host "${HOST:-0.0.0.0}" --port "${PORT:-8000}" \
    --workers "${WORKERS:-$(nproc)}" ${TILES_TOKEN:+--token "$TILES_TOKEN"}
