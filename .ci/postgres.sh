#!/usr/bin/env bash
# Start a throwaway PostgreSQL + PostGIS server for the store tests and say how to reach it.
#
# Usage:
#   eval "$(bash .ci/postgres.sh)"   # start (or reuse) the server; sets DATABASE_URL in this shell
#   bash .ci/postgres.sh stop        # stop the server and delete its folder
#
# What it does, each step skipped when already done (so running it twice is harmless):
#   1. installs PostgreSQL and PostGIS from Debian's packages if they are missing (needs root);
#   2. initialises a cluster in $ICS_PG_DIR (default ${TMPDIR:-/tmp}/ics-provider-map-postgres),
#      owned by the `postgres` user when run as root, because postgres refuses to run as root;
#   3. starts it on 127.0.0.1 on a free port (fsync off: the data are throwaway);
#   4. creates the database `ics_test` with the postgis extension;
#   5. writes the URL to $ICS_PG_DIR/database_url and `export DATABASE_URL=...` to
#      $ICS_PG_DIR/env.sh, and prints that export line on stdout. Everything else goes to stderr.
set -euo pipefail

PG_DIR="${ICS_PG_DIR:-${TMPDIR:-/tmp}/ics-provider-map-postgres}"
DATA="$PG_DIR/data"
DB_NAME="ics_test"

say() { echo "postgres.sh: $*" >&2; }
die() { say "$*"; exit 1; }

as_server_user() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

newest_pg_bin() {
    local found
    found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [ -n "$found" ] && [ -x "$found/initdb" ]; then echo "$found"; fi
}

apt_install() {
    [ "$(id -u)" -eq 0 ] || die "missing $*; install it (sudo apt-get install -y $*) or run this as root"
    say "installing $* from Debian's packages"
    local log
    log="$(mktemp)"
    if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"; } >"$log" 2>&1; then
        cat "$log" >&2
        die "apt-get could not install $*"
    fi
    rm -f "$log"
}

install_if_missing() {
    if [ -z "$(newest_pg_bin)" ]; then apt_install postgresql; fi
    PG_BIN="$(newest_pg_bin)"
    [ -n "$PG_BIN" ] || die "no PostgreSQL server binaries under /usr/lib/postgresql after installing"
    PG_MAJOR="$(basename "$(dirname "$PG_BIN")")"
    if [ ! -f "/usr/share/postgresql/$PG_MAJOR/extension/postgis.control" ]; then
        apt_install "postgresql-$PG_MAJOR-postgis-3"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port_is_free() {
    python3 -c 'import socket, sys; s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}

init_cluster() {
    [ -f "$DATA/PG_VERSION" ] && return
    say "initialising a cluster in $DATA"
    mkdir -p "$PG_DIR"
    chmod 700 "$PG_DIR"
    head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$PG_DIR/password"
    if [ "$(id -u)" -eq 0 ]; then chown -R postgres:postgres "$PG_DIR"; fi
    as_server_user "$PG_BIN/initdb" -D "$DATA" -U postgres --pwfile="$PG_DIR/password" \
        --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
        || { cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
}

server_running() {
    as_server_user "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

start_server() {
    if server_running; then
        say "reusing the server already running on port $(cat "$PG_DIR/port")"
        return
    fi
    local port=""
    if [ -f "$PG_DIR/port" ] && port_is_free "$(cat "$PG_DIR/port")"; then port="$(cat "$PG_DIR/port")"; fi
    [ -n "$port" ] || port="$(free_port)"
    as_server_user sh -c "echo $port >'$PG_DIR/port'"
    say "starting PostgreSQL $PG_MAJOR on 127.0.0.1:$port"
    as_server_user "$PG_BIN/pg_ctl" -D "$DATA" -l "$PG_DIR/server.log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >&2 \
        || die "the server did not start; see $PG_DIR/server.log"
}

create_database() {
    local psql=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres)
    export PGPASSWORD="$PASSWORD"
    if [ -z "$("${psql[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" ]; then
        say "creating database $DB_NAME"
        "${psql[@]}" -d postgres -c "CREATE DATABASE $DB_NAME" >&2
    fi
    PGOPTIONS="-c client_min_messages=warning" "${psql[@]}" -d "$DB_NAME" -c "CREATE EXTENSION IF NOT EXISTS postgis" >&2
    unset PGPASSWORD
}

write_url() {
    local url="postgresql://postgres:$PASSWORD@127.0.0.1:$PORT/$DB_NAME"
    as_server_user sh -c "echo '$url' >'$PG_DIR/database_url'; echo 'export DATABASE_URL=$url' >'$PG_DIR/env.sh'"
    echo "export DATABASE_URL=$url"
}

stop_server() {
    [ -d "$PG_DIR" ] || { say "nothing to stop in $PG_DIR"; return; }
    PG_BIN="$(newest_pg_bin)"
    if [ -n "$PG_BIN" ] && [ -f "$DATA/PG_VERSION" ] && server_running; then
        as_server_user "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w stop >&2
    fi
    rm -rf "$PG_DIR"
    say "stopped and removed $PG_DIR"
}

main() {
    if [ "${1:-}" = "stop" ]; then stop_server; return; fi
    install_if_missing
    init_cluster
    start_server
    PORT="$(cat "$PG_DIR/port")"
    PASSWORD="$(cat "$PG_DIR/password")"
    create_database
    write_url
}

main "$@"
