# test/lib/e2e.sh - what the e2e suites share: their lab and kubectl against it, and wait_for.
# Source it after setting ROOT (the repository); each suite sets T_DIR, its lab's directory.

LAB=$ROOT/deploy/lab

# lab ARGS...: deploy/lab on the suite's own lab
lab() {
    "$LAB" --dir "$T_DIR" "$@"
}

# k ARGS...: the real kubectl against the suite's lab
k() {
    kubectl --kubeconfig "$T_DIR/kubeconfig" "$@"
}

. "$ROOT/test/lib/wait.sh"

# e2e_lab_up STEM SUBNET NODES (in setup_file): the suite's own lab of NODES nodes, named
# STEM<random id>, with a random /24 of SUBNET ("10.250") for the nodes, pod net and /16
# service CIDR (T_SVCNET.0.0/16); exports T_ID T_PREFIX T_DIR T_SUBNET T_PODNET T_SVCNET T_SVC
# T_BIN. The outcome goes to $BATS_FILE_TMPDIR/up.rc (0: up) and up.out for e2e_lab_check;
# returns it too.
e2e_lab_up() {
    export T_ID="$((RANDOM % 100))$(head -c 2 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    export T_PREFIX="$1${T_ID}"
    export T_DIR="$BATS_FILE_TMPDIR/lab"
    export T_SUBNET="$2.$((100 + RANDOM % 150))"
    export T_PODNET="10.$((200 + RANDOM % 50))"
    export T_SVCNET="10.$((160 + RANDOM % 30))"
    export T_SVC="$T_SVCNET.0.0/16"
    export T_BIN=${CKUBE_BIN:-$ROOT/bin}
    local rc=0
    "$LAB" up --dir "$T_DIR" --prefix "$T_PREFIX" --subnet "$T_SUBNET" --pod-net "$T_PODNET" \
        --service-cidr "$T_SVC" --bin "$T_BIN" --nodes "$3" >"$BATS_FILE_TMPDIR/up.out" 2>&1 || rc=$?
    echo "$rc" >"$BATS_FILE_TMPDIR/up.rc"
    return "$rc"
}

# e2e_lab_failed (in setup_file, after e2e_lab_up): records that the suite's own setup on the
# lab failed, so that every test fails with what e2e_lab_check shows.
e2e_lab_failed() {
    echo 1 >"$BATS_FILE_TMPDIR/up.rc"
}

# e2e_lab_check [FILE...] (in setup): fails the test, showing up.out and the FILEs, unless the
# lab came up.
e2e_lab_check() {
    [ "$(cat "$BATS_FILE_TMPDIR/up.rc" 2>/dev/null)" = 0 ] && return 0
    cat "$BATS_FILE_TMPDIR/up.out" "$@" 2>/dev/null
    return 1
}

# e2e_lab_down (in teardown_file): the lab, and the pod cgroups its kubelets made (their
# processes are gone with the lab).
e2e_lab_down() {
    [ -n "${T_DIR:-}" ] || return 0
    "$LAB" down --dir "$T_DIR" >/dev/null 2>&1
    local d
    for d in /sys/fs/cgroup/*/"$T_PREFIX"-node-* /sys/fs/cgroup/"$T_PREFIX"-node-*; do
        [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    return 0
}
