#!/usr/bin/env bash
# Start a private PostgreSQL and Redis for the tests and print the variables they read.
#
#   eval "$(bash .ci/services.sh start /tmp/tiles-services)"   # exports TILES_TEST_*_URL
#   bash .ci/services.sh stop /tmp/tiles-services
#
# Both listen on 127.0.0.1 only, on free ports, with their files in the given folder. Needs
# Debian's postgresql and redis-server packages; run as root (PostgreSQL runs as `postgres`)
# or as any user who may run initdb.
set -euo pipefail
action=${1:?start or stop}
dir=${2:?a folder for the services\' files}

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case "$action" in
start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    pg_port=$(free_port)
    as_pg "$pg_bin/initdb" -D "$dir/pg" -A trust -U postgres >"$dir/initdb.log"
    as_pg "$pg_bin/pg_ctl" -D "$dir/pg" -l "$dir/pg.log" -w \
        -o "-p $pg_port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off" \
        start >/dev/null
    redis_port=$(free_port)
    redis-server --port "$redis_port" --bind 127.0.0.1 --daemonize yes --save '' \
        --appendonly no --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir"
    echo "export TILES_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:$pg_port/postgres"
    echo "export TILES_TEST_REDIS_URL=redis://127.0.0.1:$redis_port/0"
    ;;
stop)
    if [ -f "$dir/pg/postmaster.pid" ]; then
        as_pg "$pg_bin/pg_ctl" -D "$dir/pg" -m fast -w stop >/dev/null || true
    fi
    if [ -f "$dir/redis.pid" ]; then
        kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
