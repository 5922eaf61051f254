# Shared by scripts/services.sh and scripts/install-services.sh (sourced, not run): logging and
# where the server programs are.

log() { printf 'services: %s\n' "$*" >&2; }
die() {
    printf 'services: ERROR: %s\n' "$*" >&2
    exit 1
}

# The Debian packages that provide the programs below.
APT_PACKAGES=(mariadb-server mariadb-client redis-server redis-tools redis-sentinel)

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

resolve_bins() {
    MARIADBD="$(find_bin mariadbd mysqld || true)"
    INSTALL_DB="$(find_bin mariadb-install-db mysql_install_db || true)"
    MYSQL_CLIENT="$(find_bin mariadb mysql || true)"
    MYSQL_ADMIN="$(find_bin mariadb-admin mysqladmin || true)"
    REDIS_SERVER="$(find_bin redis-server || true)"
    REDIS_CLI="$(find_bin redis-cli || true)"
    REDIS_SENTINEL="$(find_bin redis-sentinel || true)"
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
    if ((${#missing[@]} > 0)); then printf '%s\n' "${missing[@]}"; fi
}
