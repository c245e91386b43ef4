# deploy/lab.d/common.sh - shared pieces of deploy/lab: messages, the lab's configuration
# (DIR/config), the state file (DIR/state) that lists everything `up` created so `down` can undo
# it after a crash, process bookkeeping and free ports. Sourced by deploy/lab; bash only.
#
# State file: one record per line, fields separated by tabs, appended *before* a thing is
# created (so a crash right after creating it still leaves a record), pids right after start:
#   pid     PID STARTTIME NAME        a process we started (STARTTIME: /proc/PID/stat field 22)
#   netns   NAME                      a network namespace (/run/netns/NAME)
#   link    NAME                      a link in the root namespace (bridge, veth)
#   route   ARGS...                   `ip route add ARGS` done in the root namespace
#   ipt     TABLE CHAIN RULE...       `iptables -t TABLE -I CHAIN RULE` done in the root namespace
#   mount   PATH                      a mount point we mounted

lab_t0=${EPOCHREALTIME:-0}

lab_say() {
    printf 'lab: %s\n' "$*" >&2
}

lab_warn() {
    printf 'lab: warning: %s\n' "$*" >&2
}

lab_err() {
    printf 'lab: error: %s\n' "$*" >&2
}

# seconds since the script started, one decimal
lab_elapsed() {
    local now=${EPOCHREALTIME:-0}
    awk -v a="$lab_t0" -v b="$now" 'BEGIN { printf "%.1f", b - a }'
}

# --- configuration --------------------------------------------------------------------------

# every LAB_* variable that describes a running lab; saved to DIR/config by `up`
LAB_CONFIG_VARS=(LAB_DIR LAB_PREFIX LAB_BRIDGE LAB_SUBNET LAB_HOST_IP LAB_POD_NET
    LAB_SERVICE_CIDR LAB_NODES LAB_ETCD_MEMBERS LAB_BIN LAB_API_PORT LAB_ETCD_ENDPOINTS
    LAB_REGISTRY LAB_RELAY_PORT)

lab_config_save() {
    local v
    {
        echo "# written by deploy/lab up; read by down, exec, restart, status"
        for v in "${LAB_CONFIG_VARS[@]}"; do
            printf '%s=%q\n' "$v" "${!v-}"
        done
    } >"$LAB_DIR/config.tmp" && mv -f "$LAB_DIR/config.tmp" "$LAB_DIR/config"
}

# loads DIR/config over the current values; 1 when there is none
lab_config_load() {
    local f=$LAB_DIR/config line
    [ -f "$f" ] || return 1
    # only plain NAME=VALUE lines of known names are taken
    while IFS= read -r line; do
        case "$line" in
        LAB_[A-Z_]*=*)
            local name=${line%%=*}
            [[ " ${LAB_CONFIG_VARS[*]} " == *" $name "* ]] || continue
            eval "$line"
            ;;
        esac
    done <"$f"
    return 0
}

# names derived from the configuration
lab_node_ip() { echo "$LAB_SUBNET.$((10 + $1))"; }
lab_node_ns() { echo "$LAB_PREFIX-node-$1"; }
lab_node_veth() { echo "$LAB_PREFIX-n$1"; }
# the kubelet's --cgroup-root: pods of node N live under it in every cgroup hierarchy
lab_node_cgroup() { echo "/$LAB_PREFIX-node-$1"; }
# the cluster CIDR node IPAM cuts the nodes' /24 pod CIDRs from (which node gets which is up to
# it: see lab_pod_routes_up in net.sh)
lab_cluster_cidr() { echo "$LAB_POD_NET.0.0/16"; }
lab_ipt_comment() { echo "ckube-lab:$LAB_PREFIX"; }

# --- prefix ownership ---------------------------------------------------------------------
# /run/ckube-lab/PREFIX holds the DIR of the lab using that prefix, so a lab in another DIR
# never sweeps (or starts over) namespaces and links that are not its own.

lab_owner_file() { echo "/run/ckube-lab/$LAB_PREFIX"; }

# the other DIR that owns our prefix, if any (its lab must still have a config)
lab_prefix_other_owner() {
    local f owner
    f=$(lab_owner_file)
    [ -f "$f" ] || return 1
    owner=$(cat "$f" 2>/dev/null)
    [ -n "$owner" ] && [ "$owner" != "$LAB_DIR" ] && [ -f "$owner/config" ] || return 1
    echo "$owner"
}

lab_prefix_claim() {
    mkdir -p /run/ckube-lab && echo "$LAB_DIR" >"$(lab_owner_file)"
}

lab_prefix_release() {
    local f
    f=$(lab_owner_file)
    [ -f "$f" ] && [ "$(cat "$f" 2>/dev/null)" = "$LAB_DIR" ] && rm -f "$f"
    rmdir /run/ckube-lab 2>/dev/null
    return 0
}

# --- state file -----------------------------------------------------------------------------

lab_record() {
    local IFS=$'\t'
    printf '%s\n' "$*" >>"$LAB_DIR/state"
}

# prints the state records of one kind, newest first, tab-separated fields after the kind
lab_records() {
    [ -f "$LAB_DIR/state" ] || return 0
    local -a lines
    local i
    mapfile -t lines <"$LAB_DIR/state"
    for ((i = ${#lines[@]} - 1; i >= 0; i--)); do
        [[ "${lines[i]}" == "$1"$'\t'* ]] && printf '%s\n' "${lines[i]#*$'\t'}"
    done
    return 0
}

# --- processes ------------------------------------------------------------------------------

# field 22 of /proc/PID/stat (start time in clock ticks since boot), empty if gone
lab_starttime() {
    local s
    read -r s 2>/dev/null <"/proc/$1/stat" || return 1
    s=${s##*) }
    # after the comm field: state is field 3, starttime field 22 -> word 20 here
    # shellcheck disable=SC2086 # the fields are words
    set -- $s
    echo "${20}"
}

# PID runs (a zombie does not count) and, when START is given, is the process started then
lab_pid_alive() {
    local pid=$1 start=${2:-} s
    [ -n "$pid" ] || return 1
    read -r s 2>/dev/null <"/proc/$pid/stat" || return 1
    s=${s##*) }
    # shellcheck disable=SC2086 # the fields are words
    set -- $s
    [ "$1" != Z ] || return 1
    [ -z "$start" ] || [ "${20}" = "$start" ]
}

# a pid we recorded under NAME (newest record), if that process still runs
lab_daemon_pid() {
    local name=$1 pid start n
    while IFS=$'\t' read -r pid start n; do
        [ "$n" = "$name" ] || continue
        if lab_pid_alive "$pid" "$start"; then
            echo "$pid"
            return 0
        fi
        return 1
    done < <(lab_records pid)
    return 1
}

# start NAME NETNS CMD...: runs CMD detached (own session and process group, stdin from
# /dev/null, output appended to DIR/logs/NAME.log, cwd DIR), in node network namespace NETNS
# when not empty. Every process carries CKUBE_LAB_DIR=DIR in its environment so `down` finds
# strays even without the state file. Records the pid and the command (DIR/run/NAME.cmd, for
# restart). Prints the pid.
lab_start() {
    local name=$1 netns=$2
    shift 2
    local log=$LAB_DIR/logs/$name.log
    printf '%s\0' "$netns" "$@" >"$LAB_DIR/run/$name.cmd"
    local -a pre=()
    [ -n "$netns" ] && pre=(nsenter "--net=/run/netns/$netns" --)
    printf '%s lab: starting %s\n' "$(date -u +%FT%TZ)" "$*" >>"$log"
    # not a process group leader in a non-interactive shell, so setsid execs in place and $!
    # is the daemon's pid; fds 3..9 (bats, our lock) are not passed on
    (cd "$LAB_DIR" && exec setsid env CKUBE_LAB_DIR="$LAB_DIR" "${pre[@]}" "$@") \
        </dev/null >>"$log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
    local pid=$! start
    start=$(lab_starttime "$pid")
    lab_record pid "$pid" "$start" "$name"
    echo "$pid" >"$LAB_DIR/run/$name.pid"
    echo "$pid"
}

# restart a daemon from its recorded command
lab_start_recorded() {
    local name=$1 f=$LAB_DIR/run/$1.cmd
    [ -f "$f" ] || return 1
    local -a args
    mapfile -d '' -t args <"$f"
    lab_start "$name" "${args[0]}" "${args[@]:1}"
}

# signal every pid given (and its process group when it leads one, unless --no-group), wait
# up to TIMEOUT seconds for all to exit, then SIGKILL what is left:
# lab_stop_pids [--no-group] TIMEOUT PID...
lab_stop_pids() {
    local group=1
    if [ "${1:-}" = --no-group ]; then
        group=0
        shift
    fi
    local timeout=$1
    shift
    [ $# -gt 0 ] || return 0
    local p
    for p in "$@"; do
        if [ $group = 1 ] && [ "$(ps -o pgid= -p "$p" 2>/dev/null | tr -d ' ')" = "$p" ]; then
            kill -TERM -- "-$p" 2>/dev/null
        fi
        kill -TERM "$p" 2>/dev/null
    done
    local deadline=$((SECONDS + timeout)) left
    while :; do
        left=()
        for p in "$@"; do
            lab_pid_alive "$p" && left+=("$p")
        done
        [ ${#left[@]} -eq 0 ] && return 0
        [ $SECONDS -ge $deadline ] && break
        sleep 0.1
    done
    for p in "${left[@]}"; do
        [ $group = 1 ] && kill -KILL -- "-$p" 2>/dev/null
        kill -KILL "$p" 2>/dev/null
    done
    sleep 0.1
    return 0
}

# --- ports ------------------------------------------------------------------------------------

# N distinct TCP ports free on 127.0.0.1, below the ephemeral range, one per line
lab_free_ports() {
    local n=$1 used p got=0
    used=" $(ss -Htan 2>/dev/null | awk '{ n = split($4, a, ":"); printf "%s ", a[n] }') "
    local -A taken=()
    while [ $got -lt "$n" ]; do
        p=$((20000 + RANDOM % 12000))
        [[ "$used" == *" $p "* ]] && continue
        [ -n "${taken[$p]:-}" ] && continue
        taken[$p]=1
        echo "$p"
        got=$((got + 1))
    done
}

# wait until CMD... succeeds, up to SECONDS (tenths polled): lab_wait SECONDS CMD...
lab_wait() {
    local limit=$1
    shift
    local deadline=$((SECONDS + limit))
    while :; do
        "$@" && return 0
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.1
    done
}

# the last lines of a log, indented, for error messages
lab_log_tail() {
    [ -f "$1" ] && tail -n "${2:-15}" "$1" | sed 's/^/    | /' >&2
}
