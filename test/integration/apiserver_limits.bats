#!/usr/bin/env bats
# Request limits: --max-requests-inflight answers 429 with Retry-After, as upstream.

load_lib() {
    CKUBE_ROOT=${CKUBE_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
    . "$CKUBE_ROOT/test/lib/apiserver.sh"
}

setup_file() {
    load_lib
    ck_apiserver_start --max-requests-inflight=1
}

teardown_file() {
    load_lib
    ck_apiserver_stop
}

setup() {
    load_lib
}

@test "a read beyond --max-requests-inflight is 429 TooManyRequests with Retry-After; watches do not count" {
    # a watch is long-running and must not take the only slot
    curl -sSN "$CK_API/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=5" >/dev/null &
    # this list waits ~3 s for a revision the cache never reaches: it holds the slot
    curl -sS "$CK_API/api/v1/configmaps?resourceVersion=999999999&resourceVersionMatch=NotOlderThan" >"$BATS_TEST_TMPDIR/slow" &
    slow=$!
    sleep 1
    run curl -sS -D "$BATS_TEST_TMPDIR/h" "$CK_API/api/v1/namespaces"
    [ "$(echo "$output" | jq -r .code)" = 429 ]
    [ "$(echo "$output" | jq -r .reason)" = TooManyRequests ]
    grep -qi '^Retry-After: 1' "$BATS_TEST_TMPDIR/h"
    wait $slow
    [ "$(jq -r .code "$BATS_TEST_TMPDIR/slow")" = 504 ]
    # the slot is free again; writes have their own limit
    run curl -sS -o /dev/null -w '%{http_code}' "$CK_API/api/v1/namespaces"
    [ "$output" = 200 ]
    wait
}
