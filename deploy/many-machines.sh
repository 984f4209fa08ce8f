#!/usr/bin/env bash
# Many machines, one role per call. Every tile server and Dask worker needs the same
# settings (put them in deploy/tiles.env and source it) and the same raster files at the
# same paths (a shared filesystem), or COGs over HTTP / STAC products.
#
#   bash deploy/many-machines.sh database    # PostgreSQL: role and database `tiles`
#   bash deploy/many-machines.sh cache       # Redis, 2 GB, least recently used evicted
#   bash deploy/many-machines.sh scheduler   # Dask scheduler on :8786
#   bash deploy/many-machines.sh worker      # a Dask worker (one per machine, any number)
#   bash deploy/many-machines.sh server      # a tile server (--workers = CPUs) on :8000
#   bash deploy/many-machines.sh balancer    # nginx on :80 in front of the servers
#
# Debian packages: postgresql, redis-server, nginx; Python: pip install 'tiles-workflows[scale]'.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null
[ -f "$here/tiles.env" ] && . "$here/tiles.env"

case "${1:?database, cache, scheduler, worker, server or balancer}" in
database)
    sudo -u postgres psql -v ON_ERROR_STOP=1 <<SQL
CREATE ROLE tiles LOGIN PASSWORD '${TILES_DB_PASSWORD:?set TILES_DB_PASSWORD}';
CREATE DATABASE tiles OWNER tiles;
SQL
    echo "allow the servers in pg_hba.conf and listen_addresses, then restart PostgreSQL"
    ;;
cache)
    exec redis-server --bind 0.0.0.0 --port 6379 --maxmemory "${REDIS_MAXMEMORY:-2gb}" \
        --maxmemory-policy allkeys-lru --save '' --appendonly no \
        ${REDIS_PASSWORD:+--requirepass "$REDIS_PASSWORD"}
    ;;
scheduler)
    exec dask scheduler --port 8786
    ;;
worker)
    exec dask worker "${TILES_DASK_SCHEDULER:?set TILES_DASK_SCHEDULER}" \
        --nworkers "${DASK_PROCESSES:-$(nproc)}" --nthreads 1
    ;;
server)
    : "${TILES_REGISTRY:?set TILES_REGISTRY=postgresql://tiles:...@db/tiles}"
    exec python -m tiles serve --host 0.0.0.0 --port "${PORT:-8000}" \
        --workers "${WORKERS:-$(nproc)}" --token "${TILES_TOKEN:?set TILES_TOKEN}" \
        --public-url "${TILES_PUBLIC_URL:?set TILES_PUBLIC_URL (the balancer address)}"
    ;;
balancer)
    exec nginx -c "$here/nginx.conf" -g 'daemon off;'
    ;;
*)
    echo "unknown role $1" >&2
    exit 2
    ;;
esac
