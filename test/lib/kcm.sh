# kcm.sh - bats helpers: a REAL kube-controller-manager against the apiserver of apiserver.sh
# (source that first and start it with ck_apiserver_start).
#
#   ck_kcm_start ARGS...   starts $CK_KCM_BIN (default $CKUBE_BIN/kube-controller-manager) with
#                          --master=$CK_API --leader-elect=false, a free --secure-port and
#                          ARGS (e.g. --controllers=...); its log is $CK_KCM_LOG; fails when it
#                          exits at once (its log on stderr)
#   ck_kcm_stop            SIGTERM (SIGKILL after 5 s); fails when the log holds a sanitizer
#                          report (printed)
#   ck_kcm_teardown        (teardown_file) ck_kcm_stop, then ck_apiserver_stop; fails as
#                          ck_kcm_stop did
#   ck_kcm_wait_output WANT ARGS...
#                          polls `ck_kubectl ARGS` (30 s) until it prints WANT; on timeout
#                          says what it last got and shows the controller-manager's log tail

ck_kcm_start() {
    local kcm=${CK_KCM_BIN:-${CKUBE_BIN:-$CKUBE_ROOT/bin}/kube-controller-manager}
    CK_KCM_LOG=$CK_APISERVER_DIR/kube-controller-manager.log
    "$kcm" --master="$CK_API" --leader-elect=false --secure-port="$(ck_free_port)" "$@" \
        >"$CK_KCM_LOG" 2>&1 &
    CK_KCM_PID=$!
    export CK_KCM_PID CK_KCM_LOG
    sleep 0.5
    if ! kill -0 "$CK_KCM_PID" 2>/dev/null; then
        echo "kube-controller-manager exited:" >&2
        cat "$CK_KCM_LOG" >&2
        return 1
    fi
}

ck_kcm_stop() {
    [ -n "${CK_KCM_PID:-}" ] || return 0
    kill "$CK_KCM_PID" 2>/dev/null
    local i
    for i in $(seq 1 50); do
        kill -0 "$CK_KCM_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$CK_KCM_PID" 2>/dev/null || true
    wait "$CK_KCM_PID" 2>/dev/null || true
    CK_KCM_PID=
    if grep -q "ERROR: AddressSanitizer\|runtime error:\|ERROR: LeakSanitizer" "$CK_KCM_LOG"; then
        echo "sanitizer report in kube-controller-manager log:" >&2
        cat "$CK_KCM_LOG" >&2
        return 1
    fi
}

ck_kcm_teardown() {
    local bad=0
    ck_kcm_stop || bad=1
    ck_apiserver_stop
    return $bad
}

ck_kcm_wait_output() {
    local want=$1
    shift
    local i out
    for i in $(seq 1 150); do
        out=$(ck_kubectl "$@" 2>/dev/null)
        [ "$out" = "$want" ] && return 0
        sleep 0.2
    done
    echo "wanted '$want', last got '$out' from: $*" >&2
    tail -20 "$CK_KCM_LOG" >&2
    return 1
}
