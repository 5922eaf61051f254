# Shared by scripts/services.sh and scripts/install-services.sh (sourced, not run): logging and
# where the server programs are.

log() { printf 'services: %s\n' "$*" >&2; }
die() {
    printf 'services: ERROR: %s\n' "$*" >&2
    exit 1
}

# The Debian packages that provide the programs below.
APT_PACKAGES=(mariadb-server mariadb-client redis-server redis-tools redis-sentinel postgresql)

find_bin() { # first of the names found on PATH or in the sbin folders
    local name dir
    for name in "$@"; do
        if command -v "$name" >/dev/null 2>&1; then
            command -v "$name"
            return 0
        fi
        for dir in /usr/sbin /sbin /usr/local/sbin /usr/libexec; do
            if [[ -x "$dir/$name" ]]; then
                printf '%s\n' "$dir/$name"
                return 0
            fi
        done
    done
    return 1
}

find_pg_bin() { # a PostgreSQL program: on PATH, else in the newest /usr/lib/postgresql/<version>/bin (Debian's place)
    if command -v "$1" >/dev/null 2>&1; then
        command -v "$1"
        return 0
    fi
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -rn); do
        if [[ -x "$dir/$1" ]]; then
            printf '%s\n' "$dir/$1"
            return 0
        fi
    done
    return 1
}

resolve_bins() {
    MARIADBD="$(find_bin mariadbd mysqld || true)"
    INSTALL_DB="$(find_bin mariadb-install-db mysql_install_db || true)"
    MYSQL_CLIENT="$(find_bin mariadb mysql || true)"
    MYSQL_ADMIN="$(find_bin mariadb-admin mysqladmin || true)"
    REDIS_SERVER="$(find_bin redis-server || true)"
    REDIS_CLI="$(find_bin redis-cli || true)"
    REDIS_SENTINEL="$(find_bin redis-sentinel || true)"
    PG_POSTGRES="$(find_pg_bin postgres || true)"
    PG_INITDB="$(find_pg_bin initdb || true)"
    PG_PSQL="$(find_pg_bin psql || true)"
    PG_ISREADY="$(find_pg_bin pg_isready || true)"
}

missing_bins() { # one missing program a line
    resolve_bins
    local -a missing=()
    [[ -n "$MARIADBD" ]] || missing+=("mariadbd")
    [[ -n "$INSTALL_DB" ]] || missing+=("mariadb-install-db")
    [[ -n "$MYSQL_CLIENT" ]] || missing+=("mariadb")
    [[ -n "$MYSQL_ADMIN" ]] || missing+=("mariadb-admin")
    [[ -n "$REDIS_SERVER" ]] || missing+=("redis-server")
    [[ -n "$REDIS_CLI" ]] || missing+=("redis-cli")
    [[ -n "$REDIS_SENTINEL" ]] || missing+=("redis-sentinel")
    [[ -n "$PG_POSTGRES" ]] || missing+=("postgres")
    [[ -n "$PG_INITDB" ]] || missing+=("initdb")
    [[ -n "$PG_PSQL" ]] || missing+=("psql")
    [[ -n "$PG_ISREADY" ]] || missing+=("pg_isready")
    if ((${#missing[@]} > 0)); then printf '%s\n' "${missing[@]}"; fi
}
