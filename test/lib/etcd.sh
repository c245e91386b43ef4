# test/lib/etcd.sh - a REAL etcd cluster for shell and bats tests (the C twin is
# test/lib/etcd_cluster.h). Source it, then:
#
#   ck_etcd_start [MEMBERS]  start 1 (default) or MEMBERS members on free loopback ports in a
#                            fresh temporary directory, wait until every member serves reads with
#                            one agreed leader, export CK_ETCD_ENDPOINTS ("http://127.0.0.1:A,...")
#                            and CK_ETCD_DIR (logs: $CK_ETCD_DIR/m<i>.log)
#   ck_etcd_stop             kill the members and remove the directory (safe to call twice)
#   ck_etcd_kill I           kill -9 member I (0-based)
#   ck_etcd_restart I        start member I again on its data directory, wait until healthy
#   ck_etcd_leader           print the index of the leader
#
# Call ck_etcd_start in the shell that later calls ck_etcd_stop (in bats: setup_file and
# teardown_file), never inside $(...). Clean-up happens on every exit path: outside bats,
# EXIT/INT/TERM traps (replacing the caller's) call ck_etcd_stop; always, a watchdog kills the
# members and removes the directory once the starting shell is gone, even after kill -9.
# Environment: CK_ETCD_BIN (default: etcd from PATH), TMPDIR (default /tmp).
# Sourcing twice is harmless: only functions are defined here. Safe under `set -eu` (bats).

ck_etcd__python() {
    if [ -x /usr/bin/python3 ]; then /usr/bin/python3 "$@"; else python3 "$@"; fi
}

# N distinct free loopback ports, one per line (sockets held together so they differ)
ck_etcd__ports() {
    ck_etcd__python - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
EOF
}

ck_etcd__pid() {
    cat "$CK_ETCD_DIR/m$1.pid" 2>/dev/null || true
}

# member I's client URL
ck_etcd__url() {
    sed -n "$(($1 + 1))p" "$CK_ETCD_DIR/clients"
}

ck_etcd__member_start() {
    local i=$1 dir=$CK_ETCD_DIR curl purl
    curl=$(ck_etcd__url "$i")
    purl=$(sed -n "$((i + 1))p" "$dir/peers")
    # 3>&-: bats waits for every holder of its fd 3
    "${CK_ETCD_BIN:-etcd}" --name "m$i" --data-dir "$dir/m$i.etcd" \
        --listen-client-urls "$curl" --advertise-client-urls "$curl" \
        --listen-peer-urls "$purl" --initial-advertise-peer-urls "$purl" \
        --initial-cluster "$(cat "$dir/initial")" --initial-cluster-state new \
        --initial-cluster-token "$(cat "$dir/token")" \
        --logger zap --log-outputs stderr --log-level warn \
        </dev/null >>"$dir/m$i.log" 2>&1 3>&- &
    echo $! >"$dir/m$i.pid"
    disown $! 2>/dev/null || true # no "Killed" job notices from the shell
}

# kill -9 member I if it runs etcd on our directory, and reap it
ck_etcd__member_kill() {
    local p
    p=$(ck_etcd__pid "$1")
    if [ -n "$p" ] && grep -qs "$CK_ETCD_DIR" "/proc/$p/cmdline"; then
        kill -9 "$p" 2>/dev/null || true
        # wait until it is gone (or a zombie): its ports are free then; works for members
        # started by another (sub)shell too
        local n
        for ((n = 0; n < 200; n++)); do
            [ -e "/proc/$p" ] || break
            [ "$(cut -d' ' -f3 "/proc/$p/stat" 2>/dev/null)" = Z ] && break
            sleep 0.05
        done
    fi
    rm -f "$CK_ETCD_DIR/m$1.pid"
}

# member I's "<own id> <leader id>" from its status
ck_etcd__status() {
    local st
    st=$(curl -sS -m 2 -X POST "$(ck_etcd__url "$1")/v3/maintenance/status" -d '{}' 2>/dev/null) ||
        return 1
    printf '%s %s\n' "$(printf '%s' "$st" | sed -n 's/.*"member_id":"\([0-9]*\)".*/\1/p')" \
        "$(printf '%s' "$st" | sed -n 's/.*"leader":"\([0-9]*\)".*/\1/p')"
}

# every running member answers a linearizable read and all agree on one leader
ck_etcd__healthy() {
    local i leader="" self l
    for ((i = 0; i < CK_ETCD_MEMBERS; i++)); do
        [ -n "$(ck_etcd__pid "$i")" ] || continue
        read -r self l < <(ck_etcd__status "$i") || return 1
        [ -n "$l" ] && [ "$l" != 0 ] || return 1
        [ -z "$leader" ] || [ "$leader" = "$l" ] || return 1
        leader=$l
        curl -fsS -m 2 -X POST "$(ck_etcd__url "$i")/v3/kv/range" -d '{"key":"aGVhbHRo"}' \
            2>/dev/null | grep -q '"header"' || return 1
    done
    [ -n "$leader" ]
}

# waits up to 30 s; fails early when a member died
ck_etcd__wait_healthy() {
    local n i p
    for ((n = 0; n < 600; n++)); do
        ck_etcd__healthy && return 0
        for ((i = 0; i < CK_ETCD_MEMBERS; i++)); do
            p=$(ck_etcd__pid "$i")
            if [ -n "$p" ] && ! kill -0 "$p" 2>/dev/null; then
                echo "ck_etcd: member m$i exited:" >&2
                tail -n 20 "$CK_ETCD_DIR/m$i.log" >&2
                return 1
            fi
        done
        sleep 0.05
    done
    echo "ck_etcd: cluster did not become healthy" >&2
    return 1
}

ck_etcd_start() {
    local n=${1:-1} dir attempt i ports
    if [ -n "${CK_ETCD_DIR:-}" ] && [ -d "$CK_ETCD_DIR" ]; then
        echo "ck_etcd_start: a cluster is already running in $CK_ETCD_DIR" >&2
        return 1
    fi
    if ! command -v "${CK_ETCD_BIN:-etcd}" >/dev/null; then
        echo "ck_etcd_start: etcd not found (set CK_ETCD_BIN)" >&2
        return 1
    fi
    dir=$(mktemp -d "${TMPDIR:-/tmp}/ck-etcd-sh.XXXXXX") || return 1
    export CK_ETCD_DIR=$dir CK_ETCD_MEMBERS=$n
    echo "ck-sh-$$-$RANDOM" >"$dir/token"

    # the watchdog outlives this shell if it dies without ck_etcd_stop
    # (named ck-etcd-watchdog in ps)
    local owner=$BASHPID
    (
        exec -a ck-etcd-watchdog /bin/bash -c '
            trap "" INT TERM HUP
            owner=$1 dir=$2
            while kill -0 "$owner" 2>/dev/null && [ -d "$dir" ]; do sleep 1; done
            [ -d "$dir" ] || exit 0
            for f in "$dir"/m*.pid; do
                p=$(cat "$f" 2>/dev/null)
                [ -n "$p" ] && grep -qs "$dir" "/proc/$p/cmdline" && kill -9 "$p"
            done
            sleep 0.3
            rm -rf "$dir"' ck-etcd-watchdog "$owner" "$dir"
    ) </dev/null >/dev/null 2>&1 3>&- &
    export CK_ETCD_WATCHDOG=$!

    if [ -z "${BATS_VERSION:-}${BATS_TEST_FILENAME:-}" ]; then
        trap 'ck_etcd_stop' EXIT
        trap 'ck_etcd_stop; exit 130' INT
        trap 'ck_etcd_stop; exit 143' TERM
    fi

    # a port picked here may be taken before etcd binds it: retry with fresh ones
    for attempt in 1 2 3; do
        ports=($(ck_etcd__ports $((2 * n)))) || { ck_etcd_stop; return 1; }
        : >"$dir/clients"
        : >"$dir/peers"
        local initial=""
        for ((i = 0; i < n; i++)); do
            echo "http://127.0.0.1:${ports[$((2 * i))]}" >>"$dir/clients"
            echo "http://127.0.0.1:${ports[$((2 * i + 1))]}" >>"$dir/peers"
            initial+="${initial:+,}m$i=http://127.0.0.1:${ports[$((2 * i + 1))]}"
        done
        echo "$initial" >"$dir/initial"
        for ((i = 0; i < n; i++)); do
            ck_etcd__member_start "$i"
        done
        if ck_etcd__wait_healthy; then
            export CK_ETCD_ENDPOINTS
            CK_ETCD_ENDPOINTS=$(paste -sd, "$dir/clients")
            return 0
        fi
        for ((i = 0; i < n; i++)); do
            ck_etcd__member_kill "$i"
            rm -rf "$dir/m$i.etcd"
        done
        echo "ck_etcd_start: attempt $attempt failed, retrying" >&2
    done
    ck_etcd_stop
    return 1
}

ck_etcd_stop() {
    [ -n "${CK_ETCD_DIR:-}" ] || return 0
    local i
    if [ -d "$CK_ETCD_DIR" ]; then
        for ((i = 0; i < ${CK_ETCD_MEMBERS:-0}; i++)); do
            ck_etcd__member_kill "$i"
        done
        rm -rf "$CK_ETCD_DIR"
    fi
    if [ -n "${CK_ETCD_WATCHDOG:-}" ]; then
        kill -9 "$CK_ETCD_WATCHDOG" 2>/dev/null || true
        wait "$CK_ETCD_WATCHDOG" 2>/dev/null || true
    fi
    unset CK_ETCD_DIR CK_ETCD_ENDPOINTS CK_ETCD_MEMBERS CK_ETCD_WATCHDOG
    return 0
}

ck_etcd_kill() {
    [ -n "${CK_ETCD_DIR:-}" ] || return 1
    ck_etcd__member_kill "$1"
}

ck_etcd_restart() {
    [ -n "${CK_ETCD_DIR:-}" ] || return 1
    ck_etcd__member_kill "$1"
    ck_etcd__member_start "$1"
    ck_etcd__wait_healthy
}

ck_etcd_leader() {
    local i self l leader=""
    for ((i = 0; i < CK_ETCD_MEMBERS; i++)); do
        [ -n "$(ck_etcd__pid "$i")" ] || continue
        read -r self l < <(ck_etcd__status "$i") || continue
        leader=${leader:-$l}
    done
    [ -n "$leader" ] || return 1
    for ((i = 0; i < CK_ETCD_MEMBERS; i++)); do
        [ -n "$(ck_etcd__pid "$i")" ] || continue
        read -r self l < <(ck_etcd__status "$i") || continue
        if [ "$self" = "$leader" ]; then
            echo "$i"
            return 0
        fi
    done
    return 1
}
