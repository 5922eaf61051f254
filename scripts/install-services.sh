#!/usr/bin/env bash
# Installs the programs scripts/services.sh runs (MariaDB, PostgreSQL, Redis servers, clients and Sentinel) when any is
# missing: apt-get install as root, without letting the packages start system-wide servers (a
# policy-rc.d for the install; a server the install started anyway is stopped through the init system,
# never killed by name). Nothing to do when every program is there. As a non-root user with programs
# missing, it prints the apt-get command to run and fails.
#
# Usage: scripts/install-services.sh [--check]
#   --check   only report the missing programs (exit 1 when any is missing)
# 'scripts/services.sh install' runs it, and 'services.sh up' runs it when a program is missing.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=lib/services-common.sh
source "$SCRIPT_DIR/lib/services-common.sh"

CLEANUPS=()
run_cleanups() {
    local c
    for c in "${CLEANUPS[@]}"; do eval "$c" || true; done
}
trap run_cleanups EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

read_pid() { # pid from a pid file, or nothing
    [[ -f "$1" ]] || return 0
    tr -dc '0-9' <"$1" 2>/dev/null || true
}

system_service_stop_after_install() {
    # The packages' postinst scripts may have started system-wide servers
    # (mariadb on 3306, redis on 6379, redis-sentinel on 26379, postgresql on 5432). Stop them cleanly
    # through the init system; never kill anything by name.
    local svc
    if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
        for svc in mariadb redis-server redis-sentinel postgresql; do
            if systemctl is-active --quiet "$svc" 2>/dev/null; then
                log "stopping system service $svc started by the package install"
                systemctl stop "$svc" || log "could not stop $svc (left as is)"
            fi
        done
        return 0
    fi
    local pidfile script pid
    for svc in mariadb:/run/mysqld/mysqld.pid redis-server:/run/redis/redis-server.pid redis-sentinel:/run/sentinel/redis-sentinel.pid; do
        script="/etc/init.d/${svc%%:*}"
        pidfile="${svc#*:}"
        pid="$(read_pid "$pidfile")"
        if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && [[ -x "$script" ]]; then
            log "stopping system service ${svc%%:*} (pid $pid) started by the package install"
            "$script" stop >&2 || log "could not stop ${svc%%:*} (left as is)"
        fi
    done
    # Debian's postgresql creates a cluster (15/main) at install; its init script stops whatever it started.
    if [[ -x /etc/init.d/postgresql ]] && ls /var/run/postgresql/*.pid >/dev/null 2>&1; then
        log "stopping system service postgresql started by the package install"
        /etc/init.d/postgresql stop >&2 || log "could not stop postgresql (left as is)"
    fi
}

ensure_packages() {
    local -a missing
    mapfile -t missing < <(missing_bins)
    ((${#missing[@]} == 0)) && return 0

    if [[ "$(id -u)" -ne 0 ]]; then
        printf 'services: ERROR: missing programs: %s\n' "${missing[*]}" >&2
        printf 'services: install them as root with:\n' >&2
        printf '  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends %s\n' "${APT_PACKAGES[*]}" >&2
        exit 1
    fi
    command -v apt-get >/dev/null 2>&1 ||
        die "missing programs: ${missing[*]}; no apt-get here: install the packages ${APT_PACKAGES[*]} (or their equivalents)"

    log "missing programs: ${missing[*]}; installing ${APT_PACKAGES[*]}"
    # Keep the packages from starting system-wide servers during the install.
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\n# written by DualLock scripts/install-services.sh during apt-get install\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        CLEANUPS+=("rm -f /usr/sbin/policy-rc.d")
        log "wrote /usr/sbin/policy-rc.d (exit 101) for the install; it is removed afterwards"
    else
        log "/usr/sbin/policy-rc.d already present; leaving it as is"
    fi

    local started=$SECONDS
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq >&2 ||
        die "apt-get update failed"
    log "apt-get install"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
        --no-install-recommends "${APT_PACKAGES[@]}" >&2 ||
        die "apt-get install ${APT_PACKAGES[*]} failed"
    log "packages installed in $((SECONDS - started)) s"

    system_service_stop_after_install

    # Remove our policy-rc.d now rather than at exit.
    if [[ ${#CLEANUPS[@]} -gt 0 ]]; then
        run_cleanups
        CLEANUPS=()
    fi

    mapfile -t missing < <(missing_bins)
    ((${#missing[@]} == 0)) || die "still missing after install: ${missing[*]}"
}

case "${1:-}" in
--check)
    mapfile -t missing < <(missing_bins)
    if ((${#missing[@]} > 0)); then
        log "missing programs: ${missing[*]} (install: scripts/install-services.sh)"
        exit 1
    fi
    log "every program is installed"
    ;;
"")
    ensure_packages
    ;;
*)
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
    exit 2
    ;;
esac
