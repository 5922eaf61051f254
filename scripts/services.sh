#!/usr/bin/env bash
# Starts and stops REAL MariaDB, PostgreSQL and Redis servers on loopback for the DualLock
# tests, samples and benchmarks. Nothing is mocked and no Docker is needed.
#
# Installing the programs is scripts/install-services.sh (apt-get, as root); 'up' runs it when a
# program is missing. The servers' configurations are checked-in templates in scripts/config/
# (mariadb.cnf, mariadb-provision.sql, postgresql.conf, postgres-hba.conf, postgres-provision.sql, redis.conf,
# redis-cluster.conf), rendered into the services folder.
#
# Usage:
#   scripts/services.sh install    install the missing programs (scripts/install-services.sh)
#   scripts/services.sh up [redlock] [cluster] [sentinel] [all]
#                                  start MariaDB + PostgreSQL + Redis (and the extras asked for; 'all' is
#                                  redlock + cluster: no test needs the shared Sentinel set)
#   scripts/services.sh down [--purge]
#                                  stop everything this script started (by pid file);
#                                  --purge also deletes .services/
#   scripts/services.sh status     one line per service: name, state, port, pid
#   scripts/services.sh env        export lines; use: eval "$(scripts/services.sh env)"
#   scripts/services.sh stop-redis | start-redis
#                                  stop / restart the main Redis server (outage tests)
#   scripts/services.sh stop-redis-node PORT | start-redis-node PORT
#                                  the same for any Redis node this script set up
#
# Faults (the chaos suite, benchmarks/chaos.sh). Each acts only on a process this
# script started, found by its pid file and checked by name; never by a name match:
#   scripts/services.sh kill-redis [PORT]     SIGKILL the main Redis (or the node on PORT)
#   scripts/services.sh pause-redis | resume-redis
#                                  SIGSTOP / SIGCONT the main Redis (hung, not refused)
#   scripts/services.sh start-redis --empty   restart it and check it came back with no key
#                                  (it runs without persistence: save "", appendonly no)
#   scripts/services.sh pause-mysql | resume-mysql
#                                  SIGSTOP / SIGCONT MariaDB (hung, not refused)
#   scripts/services.sh kill-mysql | start-mysql
#                                  SIGKILL MariaDB / restart it (InnoDB crash recovery;
#                                  commits are durable: innodb_flush_log_at_trx_commit=1)
#   scripts/services.sh kill-postgres | start-postgres
#                                  SIGKILL the postmaster (pid file postgres/data/postmaster.pid, checked
#                                  by name; its children exit by themselves) / start it (WAL recovery;
#                                  commits are durable: fsync and synchronous_commit on). start-postgres
#                                  alone starts only PostgreSQL, e.g. a second server beside shared ones
#   scripts/services.sh kill-redis-node PORT  SIGKILL one Redis node (Redlock); start-redis-node restarts it
#   scripts/services.sh kill-redis-primary [--lose-writes MS]
#                                  SIGKILL the replicated set's primary (as the Sentinels name it) and wait
#                                  for a replica to be promoted; --lose-writes: the replicas miss the
#                                  primary's last MS ms of writes (SIGSTOP + CLIENT KILL TYPE replica first)
#   scripts/services.sh start-redis-replicated
#                                  restart the set's stopped nodes as replicas of the current primary
#
# Environment (all optional):
#   DUALLOCK_MYSQL_PORT      MariaDB port             (default 13306)
#   DUALLOCK_REDIS_PORT      main Redis port          (default 16379)
#   DUALLOCK_POSTGRES_PORT   PostgreSQL port          (default 15432)
#   DUALLOCK_POSTGRES_OS_USER  the user PostgreSQL runs as when this runs as root (default postgres)
#   DUALLOCK_REDLOCK_PORTS   Redlock masters          (default 16380,16381,16382)
#   DUALLOCK_CLUSTER_PORTS   Redis Cluster masters    (default 17001,17002,17003)
#   DUALLOCK_REPLICATED_PORTS  the Sentinel set's primary, then replica (default 16383,16384)
#   DUALLOCK_SENTINEL_PORTS  its 3 Sentinels          (default 26383,26384,26385)
#   DUALLOCK_SENTINEL_NAME   the monitored name       (default duallock)
#   DUALLOCK_SENTINEL_DOWN_AFTER_MS, DUALLOCK_SENTINEL_FAILOVER_TIMEOUT_MS (default 1000, 3000)
#   DUALLOCK_SERVICES_TIMEOUT  seconds to wait for a server to answer (default 60)
#   DUALLOCK_SERVICES_DIR    where data, logs and pid files live (default <repo>/.services);
#                            a second, independent set of servers needs its own folder and ports
#
# Everything (data, logs, sockets, pid files) lives in the services folder
# (<repo>/.services/ by default, git-ignored). Progress goes to stderr, prefixed "services:".
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd -P)"
SERVICES_DIR="${DUALLOCK_SERVICES_DIR:-$REPO_ROOT/.services}"
[[ "$SERVICES_DIR" == /* ]] || SERVICES_DIR="$PWD/$SERVICES_DIR"
MARIADB_DIR="$SERVICES_DIR/mariadb"
REDIS_DIR="$SERVICES_DIR/redis"

MYSQL_PORT="${DUALLOCK_MYSQL_PORT:-13306}"
REDIS_PORT="${DUALLOCK_REDIS_PORT:-16379}"
REDLOCK_PORTS_CSV="${DUALLOCK_REDLOCK_PORTS:-16380,16381,16382}"
CLUSTER_PORTS_CSV="${DUALLOCK_CLUSTER_PORTS:-17001,17002,17003}"
TIMEOUT="${DUALLOCK_SERVICES_TIMEOUT:-60}"

DB_NAME="duallock"
DB_USER="duallock"
DB_PASSWORD="duallock"

CONFIG_DIR="$SCRIPT_DIR/config"

# shellcheck source=lib/services-common.sh
source "$SCRIPT_DIR/lib/services-common.sh"

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
}

# ---------------------------------------------------------------- validation

is_port() { [[ "$1" =~ ^[0-9]+$ ]] && ((10#$1 >= 1 && 10#$1 <= 65535)); }

split_ports() { # CSV -> one port a line, validated
    local csv="$1" name="$2" p
    local -a parts
    IFS=', ' read -r -a parts <<<"$csv"
    ((${#parts[@]} > 0)) || die "$name is empty"
    for p in "${parts[@]}"; do
        [[ -n "$p" ]] || continue
        is_port "$p" || die "$name: '$p' is not a valid port"
        printf '%s\n' "$((10#$p))"
    done
}

is_port "$MYSQL_PORT" || die "DUALLOCK_MYSQL_PORT: '$MYSQL_PORT' is not a valid port"
is_port "$REDIS_PORT" || die "DUALLOCK_REDIS_PORT: '$REDIS_PORT' is not a valid port"
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || die "DUALLOCK_SERVICES_TIMEOUT: '$TIMEOUT' is not a number of seconds"
MYSQL_PORT=$((10#$MYSQL_PORT))
REDIS_PORT=$((10#$REDIS_PORT))
mapfile -t REDLOCK_PORTS < <(split_ports "$REDLOCK_PORTS_CSV" DUALLOCK_REDLOCK_PORTS)
mapfile -t CLUSTER_PORTS < <(split_ports "$CLUSTER_PORTS_CSV" DUALLOCK_CLUSTER_PORTS)
((${#REDLOCK_PORTS[@]} > 0)) || die "DUALLOCK_REDLOCK_PORTS has no port"
((${#CLUSTER_PORTS[@]} >= 3)) || die "DUALLOCK_CLUSTER_PORTS needs at least 3 ports (a cluster needs 3 masters)"
# shellcheck source=lib/services-sentinel.sh
source "$SCRIPT_DIR/lib/services-sentinel.sh"
# shellcheck source=lib/services-postgres.sh
source "$SCRIPT_DIR/lib/services-postgres.sh"

# The unix socket path is limited to ~107 bytes; fall back to /tmp for very
# deep checkouts (a stable folder per services folder, so every command agrees).
MYSQL_SOCKET="$MARIADB_DIR/mysqld.sock"
if ((${#MYSQL_SOCKET} > 100)); then
    socket_key="$REPO_ROOT" # unchanged for the default folder; a second set gets its own
    [[ "$SERVICES_DIR" == "$REPO_ROOT/.services" ]] || socket_key="$SERVICES_DIR"
    MYSQL_SOCKET="${TMPDIR:-/tmp}/duallock-services-$(printf '%s' "$socket_key" | cksum | cut -d' ' -f1)/mysqld.sock"
fi
MYSQL_PIDFILE="$MARIADB_DIR/mariadbd.pid"
MYSQL_CNF="$MARIADB_DIR/my.cnf"
MYSQL_DATADIR="$MARIADB_DIR/data"
MYSQL_ERRLOG="$MARIADB_DIR/error.log"

# ------------------------------------------------------------------- helpers

trap 'exit 130' INT
trap 'exit 143' TERM

# Alive = exists and is not a zombie. A daemon's parent is PID 1, which in
# some containers/VMs reaps exited children late, so kill -0 is not enough.
proc_alive() {
    [[ "$1" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$1" 2>/dev/null || return 1
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    stat="${stat##*) }"
    [[ "${stat:0:1}" != Z ]]
}

# Is $1 a live process whose command name is one of the others?
pid_is() {
    local pid="$1" comm
    shift
    proc_alive "$pid" || return 1
    comm="$(cat "/proc/$pid/comm" 2>/dev/null || true)"
    local want
    for want in "$@"; do
        [[ "$comm" == "$want" ]] && return 0
    done
    return 1
}

read_pid() { # pid from a pid file, or nothing
    [[ -f "$1" ]] || return 0
    local pid
    pid="$(tr -dc '0-9' <"$1" 2>/dev/null || true)"
    printf '%s' "$pid"
}

port_busy() { # something accepts TCP connections on 127.0.0.1:$1
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Run a command detached: no inherited descriptors beyond 0-2 (so a daemon
# never holds a caller's pipe or our lock), stdin from /dev/null, output to a
# log, in its own session (Ctrl-C in the caller's terminal does not reach it).
spawn_detached() {
    local logfile="$1"
    shift
    (
        local fd
        for fd in /proc/"$BASHPID"/fd/*; do
            fd="${fd##*/}"
            if [[ "$fd" =~ ^[0-9]+$ ]] && ((fd > 2)); then
                eval "exec ${fd}>&-" 2>/dev/null || true
            fi
        done
        exec setsid "$@" </dev/null >>"$logfile" 2>&1
    ) &
    SPAWNED_PID=$!
}

take_lock() {
    mkdir -p "$SERVICES_DIR"
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$SERVICES_DIR/.lock"
        if ! flock -w 600 9; then
            die "another services.sh is still running (lock $SERVICES_DIR/.lock)"
        fi
    fi
}

# ---------------------------------------------------------------- installing

ensure_packages() { # the programs are installed by scripts/install-services.sh; only when one is missing
    local -a missing
    mapfile -t missing < <(missing_bins)
    ((${#missing[@]} == 0)) && return 0
    "$SCRIPT_DIR/install-services.sh"
}

# Renders a checked-in template: render TEMPLATE OUTPUT NAME=VALUE... replaces every @NAME@; a placeholder
# left over (a template and this script out of step) is an error, not a server started with a literal @NAME@.
render() {
    local template="$1" out="$2" kv key value
    shift 2
    [[ -f "$template" ]] || die "no template $template"
    local -a expr=()
    for kv in "$@"; do
        key="${kv%%=*}"
        value="${kv#*=}"
        value="${value//\\/\\\\}"
        value="${value//|/\\|}"
        value="${value//&/\\&}"
        expr+=(-e "s|@${key}@|${value}|g")
    done
    sed "${expr[@]}" "$template" >"$out.tmp"
    if grep -qE '@[A-Z_]+@' "$out.tmp"; then
        die "$template: placeholder(s) $(grep -oE '@[A-Z_]+@' "$out.tmp" | sort -u | tr '\n' ' ')not rendered"
    fi
    mv "$out.tmp" "$out"
}

# ------------------------------------------------------------------- MariaDB

mysql_admin_sql() { # run SQL as root through the unix socket
    "$MYSQL_CLIENT" --no-defaults --protocol=socket --socket="$MYSQL_SOCKET" -uroot \
        --connect-timeout=5 --batch --skip-column-names
}

mariadb_pid() {
    local pid
    pid="$(read_pid "$MYSQL_PIDFILE")"
    if pid_is "$pid" mariadbd mysqld; then printf '%s' "$pid"; fi
}

write_mariadb_cnf() {
    mkdir -p "$MARIADB_DIR/tmp" "$(dirname "$MYSQL_SOCKET")"
    render "$CONFIG_DIR/mariadb.cnf" "$MYSQL_CNF" MYSQL_PORT="$MYSQL_PORT" MYSQL_SOCKET="$MYSQL_SOCKET" \
        MYSQL_PIDFILE="$MYSQL_PIDFILE" MYSQL_DATADIR="$MYSQL_DATADIR" MARIADB_DIR="$MARIADB_DIR" MYSQL_ERRLOG="$MYSQL_ERRLOG"
}

init_mariadb_datadir() {
    [[ -d "$MYSQL_DATADIR/mysql" ]] && return 0
    local tmp="$MYSQL_DATADIR.init" started=$SECONDS
    rm -rf "$tmp"
    mkdir -p "$tmp"
    log "mariadb: initialising data folder $MYSQL_DATADIR"
    local -a args=(--defaults-file="$MYSQL_CNF" --datadir="$tmp"
        --auth-root-authentication-method=socket --auth-root-socket-user="$(id -un)"
        --skip-test-db --skip-name-resolve)
    if [[ "$(id -u)" -eq 0 ]]; then args+=(--user=root); fi
    if ! "$INSTALL_DB" "${args[@]}" >"$MARIADB_DIR/install-db.log" 2>&1; then
        tail -n 30 "$MARIADB_DIR/install-db.log" >&2 || true
        die "mariadb: $INSTALL_DB failed (log: $MARIADB_DIR/install-db.log)"
    fi
    mv "$tmp" "$MYSQL_DATADIR"
    log "mariadb: data folder initialised in $((SECONDS - started)) s"
}

provision_mariadb() {
    render "$CONFIG_DIR/mariadb-provision.sql" "$MARIADB_DIR/provision.sql" DB_NAME="$DB_NAME" DB_USER="$DB_USER" DB_PASSWORD="$DB_PASSWORD"
    mysql_admin_sql <"$MARIADB_DIR/provision.sql"
}

start_mariadb() {
    local pid
    pid="$(mariadb_pid)"
    if [[ -n "$pid" ]]; then
        if "$MYSQL_ADMIN" --no-defaults --socket="$MYSQL_SOCKET" -uroot --connect-timeout=5 ping >/dev/null 2>&1; then
            log "mariadb: already running (pid $pid, port $MYSQL_PORT)"
            provision_mariadb
            return 0
        fi
        log "mariadb: pid $pid is alive but does not answer yet; waiting"
    else
        rm -f "$MYSQL_PIDFILE"
        if port_busy "$MYSQL_PORT"; then
            die "mariadb: port $MYSQL_PORT is in use by a process this script did not start; set DUALLOCK_MYSQL_PORT to another port"
        fi
        write_mariadb_cnf
        init_mariadb_datadir
        local -a args=(--defaults-file="$MYSQL_CNF")
        if [[ "$(id -u)" -eq 0 ]]; then args+=(--user=root); fi
        log "mariadb: starting on 127.0.0.1:$MYSQL_PORT"
        spawn_detached "$MARIADB_DIR/mariadbd.out" "$MARIADBD" "${args[@]}"
        pid=$SPAWNED_PID
        printf '%s\n' "$pid" >"$MYSQL_PIDFILE"
    fi

    local deadline=$((SECONDS + TIMEOUT))
    until "$MYSQL_ADMIN" --no-defaults --socket="$MYSQL_SOCKET" -uroot --connect-timeout=2 ping >/dev/null 2>&1; do
        if ! proc_alive "$pid"; then
            log "mariadb: the server exited during start-up; last lines of $MYSQL_ERRLOG:"
            tail -n 40 "$MYSQL_ERRLOG" >&2 2>/dev/null || true
            tail -n 10 "$MARIADB_DIR/mariadbd.out" >&2 2>/dev/null || true
            rm -f "$MYSQL_PIDFILE"
            die "mariadb: failed to start"
        fi
        if ((SECONDS >= deadline)); then
            log "mariadb: no answer after ${TIMEOUT}s; last lines of $MYSQL_ERRLOG:"
            tail -n 40 "$MYSQL_ERRLOG" >&2 2>/dev/null || true
            die "mariadb: did not answer within ${TIMEOUT}s (pid $pid left running; 'down' stops it)"
        fi
        sleep 0.2
    done
    provision_mariadb
    log "mariadb: ready on 127.0.0.1:$MYSQL_PORT (pid $(mariadb_pid))"
}

wait_exit() { # wait_exit NAME PID TIMEOUT: wait bounded, then KILL
    local name="$1" pid="$2" limit="$3"
    local deadline=$((SECONDS + limit))
    while proc_alive "$pid"; do
        if ((SECONDS >= deadline)); then
            log "$name: pid $pid still alive after ${limit}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.5
            break
        fi
        sleep 0.05
    done
}

stop_pid() { # stop_pid NAME PID TIMEOUT: TERM, wait bounded, then KILL
    kill -TERM "$2" 2>/dev/null || return 0
    wait_exit "$@"
}

stop_mariadb() {
    local pid
    pid="$(mariadb_pid)"
    if [[ -z "$pid" ]]; then
        rm -f "$MYSQL_PIDFILE"
        log "mariadb: not running"
        return 0
    fi
    log "mariadb: stopping pid $pid"
    stop_pid mariadb "$pid" "$TIMEOUT"
    rm -f "$MYSQL_PIDFILE"
    log "mariadb: stopped"
}

# --------------------------------------------------------------------- Redis

node_dir() { printf '%s/%s' "$REDIS_DIR" "$1"; }

redis_pid() {
    local pid
    pid="$(read_pid "$(node_dir "$1")/redis.pid")"
    if pid_is "$pid" redis-server; then printf '%s' "$pid"; fi
}

redis_cmd() { # redis_cmd PORT args...
    local port="$1"
    shift
    "$REDIS_CLI" -h 127.0.0.1 -p "$port" "$@"
}

redis_ping() { [[ "$(redis_cmd "$1" ping 2>/dev/null)" == "PONG" ]]; }

write_redis_conf() { # write_redis_conf PORT standalone|cluster
    local port="$1" mode="$2" dir
    dir="$(node_dir "$port")"
    mkdir -p "$dir"
    render "$CONFIG_DIR/redis.conf" "$dir/redis.conf" PORT="$port" DIR="$dir"
    if [[ "$mode" == cluster ]]; then
        cat "$CONFIG_DIR/redis-cluster.conf" >>"$dir/redis.conf"
    fi
}

# start_redis_node PORT: start a node from its existing redis.conf
start_redis_node() {
    local port="$1" dir pid
    dir="$(node_dir "$port")"
    [[ -f "$dir/redis.conf" ]] || die "redis $port: no configuration at $dir/redis.conf (run 'up' first)"
    pid="$(redis_pid "$port")"
    if [[ -n "$pid" ]]; then
        if redis_ping "$port"; then
            log "redis $port: already running (pid $pid)"
            return 0
        fi
    else
        rm -f "$dir/redis.pid"
        if port_busy "$port"; then
            die "redis $port: port is in use by a process this script did not start; choose another port (DUALLOCK_*_PORT[S])"
        fi
        if grep -qx 'cluster-enabled yes' "$dir/redis.conf" && port_busy "$((port + 10000))"; then
            die "redis $port: its cluster bus port $((port + 10000)) (port + 10000) is in use; choose other DUALLOCK_CLUSTER_PORTS"
        fi
        log "redis $port: starting"
        # redis-server daemonizes itself; spawn_detached only drops our descriptors.
        spawn_detached "$dir/redis.out" "$REDIS_SERVER" "$dir/redis.conf"
        wait "$SPAWNED_PID" || {
            tail -n 20 "$dir/redis.out" "$dir/redis.log" >&2 2>/dev/null || true
            die "redis $port: redis-server failed to start"
        }
    fi
    local deadline=$((SECONDS + TIMEOUT))
    until redis_ping "$port"; do
        if ((SECONDS >= deadline)); then
            tail -n 20 "$dir/redis.log" >&2 2>/dev/null || true
            die "redis $port: no PONG within ${TIMEOUT}s"
        fi
        pid="$(read_pid "$dir/redis.pid")"
        if [[ -n "$pid" ]] && ! proc_alive "$pid"; then
            tail -n 20 "$dir/redis.log" >&2 2>/dev/null || true
            die "redis $port: the server exited during start-up"
        fi
        sleep 0.1
    done
    # The pid file is written just after the socket opens; wait for it briefly.
    deadline=$((SECONDS + 10))
    until [[ -n "$(redis_pid "$port")" ]] || ((SECONDS >= deadline)); do sleep 0.1; done
    log "redis $port: ready (pid $(redis_pid "$port"))"
}

stop_redis_node() {
    local port="$1" dir pid
    dir="$(node_dir "$port")"
    pid="$(redis_pid "$port")"
    if [[ -z "$pid" ]]; then
        rm -f "$dir/redis.pid"
        log "redis $port: not running"
        return 0
    fi
    log "redis $port: stopping pid $pid"
    stop_pid "redis $port" "$pid" 15
    rm -f "$dir/redis.pid"
    log "redis $port: stopped"
}

up_redis_standalone() {
    local port
    for port in "$@"; do
        if [[ -z "$(redis_pid "$port")" ]]; then write_redis_conf "$port" standalone; fi
        start_redis_node "$port"
    done
}

cluster_field() { # cluster_field PORT FIELD -> value from CLUSTER INFO
    redis_cmd "$1" cluster info 2>/dev/null | tr -d '\r' | sed -n "s/^$2://p"
}

cluster_ok_everywhere() {
    local port
    for port in "${CLUSTER_PORTS[@]}"; do
        [[ "$(cluster_field "$port" cluster_state)" == ok ]] || return 1
        [[ "$(cluster_field "$port" cluster_slots_assigned)" == 16384 ]] || return 1
        [[ "$(cluster_field "$port" cluster_known_nodes)" == "${#CLUSTER_PORTS[@]}" ]] || return 1
    done
}

cluster_fresh_everywhere() {
    local port
    for port in "${CLUSTER_PORTS[@]}"; do
        [[ "$(cluster_field "$port" cluster_known_nodes)" == 1 ]] || return 1
        [[ "$(cluster_field "$port" cluster_slots_assigned)" == 0 ]] || return 1
    done
}

wait_cluster_ok() { # wait_cluster_ok SECONDS
    local deadline=$((SECONDS + $1))
    until cluster_ok_everywhere; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

up_cluster() {
    local port
    for port in "${CLUSTER_PORTS[@]}"; do
        if [[ -z "$(redis_pid "$port")" ]]; then write_redis_conf "$port" cluster; fi
        start_redis_node "$port"
        redis_cmd "$port" info cluster 2>/dev/null | tr -d '\r' | grep -qx 'cluster_enabled:1' ||
            die "redis $port: running, but not in cluster mode (run 'down' first, then 'up cluster')"
    done

    if cluster_ok_everywhere; then
        log "cluster: already formed, cluster_state:ok"
        return 0
    fi
    if ! cluster_fresh_everywhere; then
        # Nodes restarted from their nodes.conf re-join each other by themselves.
        log "cluster: waiting for the existing cluster to converge"
        if wait_cluster_ok 20; then
            log "cluster: cluster_state:ok"
            return 0
        fi
        log "cluster: the existing cluster did not reach cluster_state:ok; resetting the nodes (test data only)"
        for port in "${CLUSTER_PORTS[@]}"; do
            redis_cmd "$port" flushall >/dev/null 2>&1 || true
            redis_cmd "$port" cluster reset hard >/dev/null ||
                die "redis $port: CLUSTER RESET HARD failed"
        done
    fi

    local -a nodes=()
    for port in "${CLUSTER_PORTS[@]}"; do nodes+=("127.0.0.1:$port"); done
    log "cluster: creating ${nodes[*]}"
    "$REDIS_CLI" --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes </dev/null 2>&1 |
        sed -e $'s/\x1b\\[[0-9;]*m//g' -e '/^[[:space:]]*$/d' -e 's/^/services:   /' >&2 ||
        die "cluster: redis-cli --cluster create failed"
    if ! wait_cluster_ok "$TIMEOUT"; then
        redis_cmd "${CLUSTER_PORTS[0]}" cluster info >&2 || true
        die "cluster: cluster_state did not become ok within ${TIMEOUT}s"
    fi
    log "cluster: cluster_state:ok on ${nodes[*]}"
}

# -------------------------------------------------------------------- faults
# Every fault finds its process by the pid file this script keeps and checks the
# command name before signalling: a server this script did not start is never touched.

signal_redis_node() { # signal_redis_node PORT SIGNAL
    local port="$1" sig="$2" pid
    pid="$(redis_pid "$port")"
    [[ -n "$pid" ]] || die "redis $port: not running (no live redis-server behind $(node_dir "$port")/redis.pid)"
    kill "-$sig" "$pid" || die "redis $port: kill -$sig $pid failed"
    log "redis $port: sent SIG$sig to pid $pid"
}

kill_redis_node() { # SIGKILL, then wait until the port no longer answers
    local port="$1" pid
    pid="$(redis_pid "$port")"
    [[ -n "$pid" ]] || die "redis $port: not running (no live redis-server behind $(node_dir "$port")/redis.pid)"
    kill -KILL "$pid" || die "redis $port: kill -KILL $pid failed"
    local deadline=$((SECONDS + 10))
    while proc_alive "$pid" || port_busy "$port"; do
        ((SECONDS < deadline)) || die "redis $port: pid $pid still alive 10 s after SIGKILL"
        sleep 0.02
    done
    rm -f "$(node_dir "$port")/redis.pid"
    log "redis $port: killed pid $pid (SIGKILL)"
}

start_redis_empty() { # restart the main Redis and prove it came back with nothing from before
    start_redis_node "$REDIS_PORT"
    # Clients may write again the moment it answers, so DBSIZE proves nothing; what it LOADED does:
    # no RDB or AOF read at start (keys loaded 0), no AOF, no save points.
    local info save
    info="$(redis_cmd "$REDIS_PORT" info persistence 2>/dev/null | tr -d '\r')"
    save="$(redis_cmd "$REDIS_PORT" config get save 2>/dev/null | sed -n 2p | tr -d '\r')"
    grep -qx 'rdb_last_load_keys_loaded:0' <<<"$info" && grep -qx 'aof_enabled:0' <<<"$info" && [[ -z "$save" ]] ||
        die "redis $REDIS_PORT: did not come back empty ($(grep -E '^(rdb_last_load_keys_loaded|aof_enabled):' <<<"$info" | tr '\n' ' ')save='$save')"
    log "redis $REDIS_PORT: restarted empty (keys loaded at start: 0, no AOF, no save points)"
}

signal_mariadb() { # signal_mariadb SIGNAL: SIGSTOP / SIGCONT (hung, not refused)
    local sig="$1" pid
    pid="$(mariadb_pid)"
    [[ -n "$pid" ]] || die "mariadb: not running (no live mariadbd behind $MYSQL_PIDFILE)"
    kill "-$sig" "$pid" || die "mariadb: kill -$sig $pid failed"
    log "mariadb: sent SIG$sig to pid $pid"
}

kill_mariadb() {
    local pid
    pid="$(mariadb_pid)"
    [[ -n "$pid" ]] || die "mariadb: not running (no live mariadbd behind $MYSQL_PIDFILE)"
    kill -KILL "$pid" || die "mariadb: kill -KILL $pid failed"
    local deadline=$((SECONDS + 10))
    while proc_alive "$pid" || port_busy "$MYSQL_PORT"; do
        ((SECONDS < deadline)) || die "mariadb: pid $pid still alive 10 s after SIGKILL"
        sleep 0.02
    done
    rm -f "$MYSQL_PIDFILE"
    log "mariadb: killed pid $pid (SIGKILL)"
}

# ------------------------------------------------------------------ commands

cmd_up() {
    local want_redlock=0 want_cluster=0 want_sentinel=0 arg
    for arg in "$@"; do
        case "$arg" in
        redlock) want_redlock=1 ;;
        cluster) want_cluster=1 ;;
        sentinel) want_sentinel=1 ;;
        all) want_redlock=1 want_cluster=1 ;;
        base) ;;
        *) die "up: unknown extra '$arg' (expected: redlock, cluster, sentinel, all)" ;;
        esac
    done
    local started=$SECONDS
    take_lock
    ensure_packages
    resolve_bins
    start_mariadb
    start_postgres
    up_redis_standalone "$REDIS_PORT"
    if ((want_redlock)); then up_redis_standalone "${REDLOCK_PORTS[@]}"; fi
    if ((want_cluster)); then up_cluster; fi
    if ((want_sentinel)); then up_sentinel; fi
    log "up: done in $((SECONDS - started)) s"
}

known_redis_ports() { # every node folder with a configuration, sorted
    local d
    [[ -d "$REDIS_DIR" ]] || return 0
    for d in "$REDIS_DIR"/*/; do
        d="${d%/}"
        d="${d##*/}"
        if is_port "$d" && [[ -f "$REDIS_DIR/$d/redis.conf" ]]; then printf '%s\n' "$d"; fi
    done | sort -n
}

cmd_down() {
    local purge=0 arg
    for arg in "$@"; do
        case "$arg" in
        --purge) purge=1 ;;
        *) die "down: unknown option '$arg' (expected: --purge)" ;;
        esac
    done
    if [[ ! -d "$SERVICES_DIR" ]]; then
        log "down: nothing to stop ($SERVICES_DIR does not exist)"
        return 0
    fi
    take_lock
    resolve_bins
    stop_sentinels
    # Signal every server first, then wait for each (they shut down in parallel).
    local port pid
    local -a ports names=() pids=() limits=() pidfiles=() signals=()
    mapfile -t ports < <(known_redis_ports)
    for port in "${ports[@]}"; do
        [[ -n "$port" ]] || continue
        pid="$(redis_pid "$port")"
        if [[ -n "$pid" ]]; then
            names+=("redis $port") pids+=("$pid") limits+=(15) pidfiles+=("$(node_dir "$port")/redis.pid") signals+=(TERM)
        else
            rm -f "$(node_dir "$port")/redis.pid"
        fi
    done
    pid="$(mariadb_pid)"
    if [[ -n "$pid" ]]; then
        names+=("mariadb") pids+=("$pid") limits+=("$TIMEOUT") pidfiles+=("$MYSQL_PIDFILE") signals+=(TERM)
    else
        rm -f "$MYSQL_PIDFILE"
    fi
    pid="$(postgres_pid)"
    if [[ -n "$pid" ]]; then
        # SIGINT is PostgreSQL's fast shutdown: SIGTERM would wait for every pooled client to disconnect.
        names+=("postgres") pids+=("$pid") limits+=("$TIMEOUT") pidfiles+=("$PG_PIDFILE") signals+=(INT)
    fi
    local i
    for i in "${!pids[@]}"; do
        log "${names[$i]}: stopping pid ${pids[$i]}"
        kill "-${signals[$i]}" "${pids[$i]}" 2>/dev/null || true
    done
    for i in "${!pids[@]}"; do
        wait_exit "${names[$i]}" "${pids[$i]}" "${limits[$i]}"
        rm -f "${pidfiles[$i]}"
        log "${names[$i]}: stopped"
    done
    if ((${#pids[@]} == 0)); then log "down: nothing was running"; fi
    if ((purge)); then
        log "down: deleting $SERVICES_DIR"
        rm -rf "$SERVICES_DIR"
        if [[ "$MYSQL_SOCKET" != "$MARIADB_DIR/"* ]]; then rm -rf "$(dirname "$MYSQL_SOCKET")"; fi
        if [[ "$PG_SOCKET_DIR" != "$PG_DIR" ]]; then rm -rf "$PG_SOCKET_DIR"; fi
    fi
}

status_line() { # NAME PORT PID
    local state=stopped pid="${3:--}"
    [[ -n "${3:-}" ]] && state=running
    printf '%-16s %-8s port=%-6s pid=%s%s\n' "$1" "$state" "$2" "$pid" "${4:-}"
}

cmd_status() {
    resolve_bins
    status_line mariadb "$MYSQL_PORT" "$(mariadb_pid)"
    status_postgres
    status_line redis "$REDIS_PORT" "$(redis_pid "$REDIS_PORT")"
    local port extra
    for port in "${REDLOCK_PORTS[@]}"; do
        status_line "redlock-$port" "$port" "$(redis_pid "$port")"
    done
    for port in "${CLUSTER_PORTS[@]}"; do
        extra=""
        if [[ -n "$(redis_pid "$port")" && -n "$REDIS_CLI" ]]; then
            extra=" cluster_state=$(cluster_field "$port" cluster_state)"
        fi
        status_line "cluster-$port" "$port" "$(redis_pid "$port")" "$extra"
    done
    status_sentinel
}

join_endpoints() {
    local out="" p
    for p in "$@"; do out+="${out:+,}127.0.0.1:$p"; done
    printf '%s' "$out"
}

cmd_env() {
    local redlock cluster
    redlock="$(join_endpoints "${REDLOCK_PORTS[@]}")"
    cluster="$(join_endpoints "${CLUSTER_PORTS[@]}")"
    cat <<EOF
export DUALLOCK_MYSQL_PORT="$MYSQL_PORT"
export DUALLOCK_REDIS_PORT="$REDIS_PORT"
export DUALLOCK_REDLOCK_PORTS="$(IFS=,; printf '%s' "${REDLOCK_PORTS[*]}")"
export DUALLOCK_CLUSTER_PORTS="$(IFS=,; printf '%s' "${CLUSTER_PORTS[*]}")"
export ConnectionStrings__MySql="Server=127.0.0.1;Port=$MYSQL_PORT;User ID=$DB_USER;Password=$DB_PASSWORD;Database=$DB_NAME;Pooling=true;Maximum Pool Size=200;Default Command Timeout=30;Connection Timeout=5;AllowUserVariables=true"
export ConnectionStrings__Redis="127.0.0.1:$REDIS_PORT,abortConnect=false,connectTimeout=2000,syncTimeout=2000"
export ConnectionStrings__Redlock="$redlock"
export DUALLOCK_REDLOCK_ENDPOINTS="$redlock"
export DUALLOCK_REDIS_CLUSTER="$cluster"
EOF
    env_sentinel
    env_postgres
}

main() {
    local cmd="${1:-}"
    [[ $# -gt 0 ]] && shift
    case "$cmd" in
    install) exec "$SCRIPT_DIR/install-services.sh" "$@" ;;
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status ;;
    env) cmd_env ;;
    stop-redis)
        take_lock
        resolve_bins
        stop_redis_node "$REDIS_PORT"
        ;;
    start-redis)
        [[ $# -eq 0 || "$*" == --empty ]] || die "usage: start-redis [--empty]"
        take_lock
        resolve_bins
        [[ -n "$REDIS_SERVER" ]] || die "redis-server is not installed (run 'up' first)"
        if [[ "${1:-}" == --empty ]]; then start_redis_empty; else start_redis_node "$REDIS_PORT"; fi
        ;;
    stop-redis-node | start-redis-node)
        if [[ $# -ne 1 ]] || ! is_port "$1"; then die "usage: $cmd PORT"; fi
        take_lock
        resolve_bins
        if [[ "$cmd" == stop-redis-node ]]; then
            stop_redis_node "$((10#$1))"
        else
            [[ -n "$REDIS_SERVER" ]] || die "redis-server is not installed (run 'up' first)"
            start_redis_node "$((10#$1))"
        fi
        ;;
    kill-redis | kill-redis-node)
        if [[ "$cmd" == kill-redis-node && $# -ne 1 ]]; then die "usage: $cmd PORT"; fi
        if [[ $# -gt 1 ]] || { [[ $# -eq 1 ]] && ! is_port "$1"; }; then die "usage: $cmd [PORT]"; fi
        take_lock
        resolve_bins
        kill_redis_node "$((10#${1:-$REDIS_PORT}))"
        ;;
    kill-redis-primary)
        if [[ $# -ne 0 ]] && [[ $# -ne 2 || "$1" != --lose-writes || ! "$2" =~ ^[0-9]+$ ]]; then die "usage: $cmd [--lose-writes MS]"; fi
        take_lock
        resolve_bins
        kill_redis_primary "${2:-}"
        ;;
    start-redis-replicated)
        take_lock
        resolve_bins
        start_redis_replicated
        ;;
    pause-redis) signal_redis_node "$REDIS_PORT" STOP ;;
    resume-redis) signal_redis_node "$REDIS_PORT" CONT ;;
    pause-mysql) signal_mariadb STOP ;;
    resume-mysql) signal_mariadb CONT ;;
    kill-mysql)
        take_lock
        resolve_bins
        kill_mariadb
        ;;
    start-mysql)
        take_lock
        resolve_bins
        [[ -n "$MARIADBD" ]] || die "mariadbd is not installed (run 'up' first)"
        start_mariadb
        ;;
    kill-postgres)
        take_lock
        resolve_bins
        kill_postgres
        ;;
    start-postgres)
        take_lock
        resolve_bins
        start_postgres
        ;;
    -h | --help | help)
        usage
        ;;
    *)
        usage
        exit 2
        ;;
    esac
}

main "$@"
