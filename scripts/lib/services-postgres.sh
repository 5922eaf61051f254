# The PostgreSQL server of scripts/services.sh (sourced by it, not run): one postmaster on its own loopback port,
# data, log and socket in <services dir>/postgres. Uses services.sh's helpers (render, spawn_detached, pid_is,
# port_busy, wait_exit, ...). The postmaster is found by the pid file it writes itself (postmaster.pid, first
# line) and checked by name before any signal.
#
# PostgreSQL refuses to run as root: as root the server (and initdb) runs as the user 'postgres' that the
# Debian package creates (DUALLOCK_POSTGRES_OS_USER to choose another), through setpriv, which execs in place
# so the pid spawned is the postmaster's.

PG_PORT="${DUALLOCK_POSTGRES_PORT:-15432}"
is_port "$PG_PORT" || die "DUALLOCK_POSTGRES_PORT: '$PG_PORT' is not a valid port"
PG_PORT=$((10#$PG_PORT))
PG_DIR="$SERVICES_DIR/postgres"
PG_DATADIR="$PG_DIR/data"
PG_CONF="$PG_DIR/postgresql.conf"
PG_LOG="$PG_DIR/postgres.log"
PG_PIDFILE="$PG_DATADIR/postmaster.pid"
PG_OS_USER="${DUALLOCK_POSTGRES_OS_USER:-postgres}"
# The socket path (folder + /.s.PGSQL.PORT) is limited to ~107 bytes, as MariaDB's: a short folder for deep checkouts.
PG_SOCKET_DIR="$PG_DIR"
if ((${#PG_SOCKET_DIR} > 85)); then
    PG_SOCKET_DIR="${TMPDIR:-/tmp}/duallock-pg-$(printf '%s' "$SERVICES_DIR" | cksum | cut -d' ' -f1)"
fi

as_pg_user() { # runs a program as the server's user (the current one unless root)
    if [[ "$(id -u)" -eq 0 ]]; then
        setpriv --reuid="$PG_OS_USER" --regid="$(id -g "$PG_OS_USER")" --init-groups -- "$@"
    else
        "$@"
    fi
}

postgres_pid() {
    local pid
    pid="$(head -n 1 "$PG_PIDFILE" 2>/dev/null | tr -dc '0-9' || true)"
    if pid_is "$pid" postgres postmaster; then printf '%s' "$pid"; fi
}

postgres_ready() { "$PG_ISREADY" -q -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres -d postgres -t 2 >/dev/null 2>&1; }

postgres_prepare_dirs() {
    if [[ "$(id -u)" -eq 0 ]]; then
        id -u "$PG_OS_USER" >/dev/null 2>&1 ||
            die "postgres: the server may not run as root and there is no user '$PG_OS_USER' (install the postgresql package, or set DUALLOCK_POSTGRES_OS_USER)"
    fi
    mkdir -p "$PG_DIR" "$PG_SOCKET_DIR"
    if [[ "$(id -u)" -eq 0 ]]; then
        chown "$PG_OS_USER:" "$PG_DIR" "$PG_SOCKET_DIR"
        [[ -d "$PG_DATADIR" ]] && chown -R "$PG_OS_USER:" "$PG_DATADIR"
        as_pg_user test -w "$PG_DIR" ||
            die "postgres: user '$PG_OS_USER' cannot write $PG_DIR (a parent folder is not traversable for it); choose DUALLOCK_SERVICES_DIR elsewhere"
    fi
    chmod 700 "$PG_SOCKET_DIR"
    render "$CONFIG_DIR/postgresql.conf" "$PG_CONF" PG_DATADIR="$PG_DATADIR" PG_DIR="$PG_DIR" PG_PORT="$PG_PORT" PG_SOCKET_DIR="$PG_SOCKET_DIR"
    render "$CONFIG_DIR/postgres-hba.conf" "$PG_DIR/pg_hba.conf" PG_PORT="$PG_PORT" # render needs one pair: sed with no -e would read the template as its script
    [[ "$(id -u)" -ne 0 ]] || chown "$PG_OS_USER:" "$PG_CONF" "$PG_DIR/pg_hba.conf"
}

init_postgres_datadir() {
    [[ -f "$PG_DATADIR/PG_VERSION" ]] && return 0
    local tmp="$PG_DATADIR.init" started=$SECONDS
    rm -rf "$tmp"
    log "postgres: initialising data folder $PG_DATADIR"
    if ! as_pg_user "$PG_INITDB" -D "$tmp" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1; then
        tail -n 30 "$PG_DIR/initdb.log" >&2 || true
        die "postgres: $PG_INITDB failed (log: $PG_DIR/initdb.log)"
    fi
    mv "$tmp" "$PG_DATADIR"
    log "postgres: data folder initialised in $((SECONDS - started)) s"
}

provision_postgres() {
    render "$CONFIG_DIR/postgres-provision.sql" "$PG_DIR/provision.sql" DB_NAME="$DB_NAME" DB_USER="$DB_USER" DB_PASSWORD="$DB_PASSWORD"
    "$PG_PSQL" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres -d postgres -f "$PG_DIR/provision.sql" >/dev/null ||
        die "postgres: provisioning failed"
}

start_postgres() {
    [[ -n "$PG_POSTGRES" ]] || die "postgres is not installed (scripts/install-services.sh installs the postgresql package)"
    local pid
    pid="$(postgres_pid)"
    if [[ -n "$pid" ]]; then
        if postgres_ready; then
            log "postgres: already running (pid $pid, port $PG_PORT)"
            provision_postgres
            return 0
        fi
        log "postgres: pid $pid is alive but does not answer yet; waiting"
    else
        if port_busy "$PG_PORT"; then
            die "postgres: port $PG_PORT is in use by a process this script did not start; set DUALLOCK_POSTGRES_PORT to another port"
        fi
        postgres_prepare_dirs
        init_postgres_datadir
        log "postgres: starting on 127.0.0.1:$PG_PORT"
        : >>"$PG_LOG"
        [[ "$(id -u)" -ne 0 ]] || chown "$PG_OS_USER:" "$PG_LOG"
        if [[ "$(id -u)" -eq 0 ]]; then
            spawn_detached "$PG_LOG" setpriv --reuid="$PG_OS_USER" --regid="$(id -g "$PG_OS_USER")" --init-groups -- \
                "$PG_POSTGRES" --config-file="$PG_CONF"
        else
            spawn_detached "$PG_LOG" "$PG_POSTGRES" --config-file="$PG_CONF"
        fi
        pid=$SPAWNED_PID
    fi

    local deadline=$((SECONDS + TIMEOUT))
    until postgres_ready; do
        if ! proc_alive "$pid"; then
            log "postgres: the server exited during start-up; last lines of $PG_LOG:"
            tail -n 30 "$PG_LOG" >&2 2>/dev/null || true
            die "postgres: failed to start"
        fi
        if ((SECONDS >= deadline)); then
            tail -n 30 "$PG_LOG" >&2 2>/dev/null || true
            die "postgres: did not answer within ${TIMEOUT}s (pid $pid left running; 'down' stops it)"
        fi
        sleep 0.1
    done
    provision_postgres
    log "postgres: ready on 127.0.0.1:$PG_PORT (pid $(postgres_pid))"
}

postgres_children() { # the postmaster's child processes (backends, checkpointer, ...), one pid a line
    local stat child
    for stat in /proc/[0-9]*/stat; do
        child="${stat#/proc/}"
        child="${child%/stat}"
        stat="$(cat "$stat" 2>/dev/null)" || continue
        stat="${stat##*) }"
        read -r _ ppid _ <<<"$stat"
        [[ "$ppid" == "$1" ]] && printf '%s\n' "$child"
    done
    return 0
}

# SIGKILL the postmaster (a crash: no shutdown checkpoint, recovery replays the WAL at the next start). Its
# children notice their parent's death and exit by themselves; one that has not after 10 s (checked by name)
# is killed too, so the next start finds no old shared memory in use.
kill_postgres() {
    local pid child
    pid="$(postgres_pid)"
    [[ -n "$pid" ]] || die "postgres: not running (no live postgres behind $PG_PIDFILE)"
    local -a children
    mapfile -t children < <(postgres_children "$pid")
    kill -KILL "$pid" || die "postgres: kill -KILL $pid failed"
    local deadline=$((SECONDS + 10)) alive
    while :; do
        alive=0
        proc_alive "$pid" && alive=1
        for child in "${children[@]}"; do pid_is "$child" postgres && alive=1; done
        ((alive)) || break
        if ((SECONDS >= deadline)); then
            for child in "${children[@]}"; do pid_is "$child" postgres && kill -KILL "$child" 2>/dev/null; done
            sleep 0.5
            break
        fi
        sleep 0.02
    done
    deadline=$((SECONDS + 10))
    while port_busy "$PG_PORT"; do
        ((SECONDS < deadline)) || die "postgres: port $PG_PORT still answers 10 s after SIGKILL"
        sleep 0.02
    done
    # Every process of the server is gone now, but the postmaster may linger as a zombie until PID 1 reaps it,
    # and the next postmaster would take that pid for a live server: the lock files go, as after any crash.
    rm -f "$PG_PIDFILE" "$PG_SOCKET_DIR/.s.PGSQL.$PG_PORT.lock"
    log "postgres: killed pid $pid (SIGKILL)"
}


status_postgres() { status_line postgres "$PG_PORT" "$(postgres_pid)"; }

env_postgres() {
    cat <<EOF
export DUALLOCK_POSTGRES_PORT="$PG_PORT"
export ConnectionStrings__Postgres="Host=127.0.0.1;Port=$PG_PORT;Username=$DB_USER;Password=$DB_PASSWORD;Database=$DB_NAME;Pooling=true;Maximum Pool Size=200;Timeout=5;Command Timeout=30"
EOF
}
