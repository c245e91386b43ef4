# test/lib/apiserver.sh - start a real kube-apiserver (on a real etcd from etcd.sh) for bats
# suites. Source it, then in setup_file: `ck_apiserver_start`; in teardown_file:
# `ck_apiserver_stop`. Exports CK_API (http://127.0.0.1:PORT) and CK_APISERVER_LOG.
# Each start uses its own etcd prefix, so suites sharing an etcd never see each other's data.

# shellcheck source=test/lib/etcd.sh
. "${CKUBE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/test/lib/etcd.sh"

ck_free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

ck_apiserver_start() {
    local bin=${CKUBE_BIN:-$CKUBE_ROOT/bin}
    [ -n "${CK_ETCD_ENDPOINTS:-}" ] || ck_etcd_start 1 || return 1
    CK_APISERVER_DIR=$(mktemp -d /tmp/ckube-apiserver.XXXXXX)
    local port
    port=$(ck_free_port)
    CK_APISERVER_LOG=$CK_APISERVER_DIR/kube-apiserver.log
    "$bin/kube-apiserver" --etcd-servers="$CK_ETCD_ENDPOINTS" --insecure-port="$port" \
        --etcd-prefix="/registry-test-$$-$RANDOM" --v=2 "$@" >"$CK_APISERVER_LOG" 2>&1 &
    CK_APISERVER_PID=$!
    export CK_API="http://127.0.0.1:$port" CK_APISERVER_PID CK_APISERVER_LOG CK_APISERVER_DIR
    local i
    for i in $(seq 1 100); do
        if curl -fsS "$CK_API/healthz" >/dev/null 2>&1; then
            return 0
        fi
        if ! kill -0 "$CK_APISERVER_PID" 2>/dev/null; then
            echo "kube-apiserver exited:" >&2
            cat "$CK_APISERVER_LOG" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "kube-apiserver did not become healthy:" >&2
    cat "$CK_APISERVER_LOG" >&2
    return 1
}

ck_apiserver_stop() {
    if [ -n "${CK_APISERVER_PID:-}" ]; then
        kill "$CK_APISERVER_PID" 2>/dev/null
        local i
        for i in $(seq 1 50); do
            kill -0 "$CK_APISERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$CK_APISERVER_PID" 2>/dev/null
        wait "$CK_APISERVER_PID" 2>/dev/null
        # a sanitizer report in the log is a failure of the suite
        if grep -q "ERROR: AddressSanitizer\|runtime error:\|ERROR: LeakSanitizer" "$CK_APISERVER_LOG" 2>/dev/null; then
            echo "sanitizer report in kube-apiserver log:" >&2
            cat "$CK_APISERVER_LOG" >&2
            CK_APISERVER_PID=
            return 1
        fi
        CK_APISERVER_PID=
    fi
    [ -n "${CK_APISERVER_DIR:-}" ] && rm -rf "$CK_APISERVER_DIR"
    ck_etcd_stop
    return 0
}

# kubectl against the test apiserver, with no kubeconfig of the machine's.
ck_kubectl() {
    KUBECONFIG=/dev/null /usr/bin/kubectl --server="$CK_API" "$@"
}

# curl returning "<status>\n<body>" in $output-friendly form: ck_curl METHOD PATH [BODY [CTYPE]]
ck_curl() {
    local method=$1 path=$2 body=${3:-} ctype=${4:-application/json}
    if [ -n "$body" ]; then
        curl -sS -o /dev/stdout -w '\n%{http_code}' -X "$method" -H "Content-Type: $ctype" \
            --data-binary "$body" "$CK_API$path"
    else
        curl -sS -o /dev/stdout -w '\n%{http_code}' -X "$method" "$CK_API$path"
    fi
}
