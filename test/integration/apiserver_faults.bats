#!/usr/bin/env bats
# The apiserver on a 3-member etcd cluster: killing members (the leader, the one a watch is on)
# loses no write and no watch event.

load_lib() {
    CKUBE_ROOT=${CKUBE_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
    . "$CKUBE_ROOT/test/lib/apiserver.sh"
}

setup_file() {
    load_lib
    ck_etcd_start 3
    ck_apiserver_start
}

teardown_file() {
    load_lib
    ck_apiserver_stop
}

setup() {
    load_lib
}

post_cm() { # post_cm NS NAME -> http code
    curl -sS -o /dev/null -w '%{http_code}' --max-time 30 -X POST -H 'Content-Type: application/json' \
        --data-binary "{\"metadata\":{\"name\":\"$2\"}}" "$CK_API/api/v1/namespaces/$1/configmaps"
}

@test "killing etcd members mid-stream (the first endpoint, then the leader): no write or watch event is lost" {
    rv=$(curl -sS "$CK_API/api/v1/namespaces/default/configmaps" | jq -r .metadata.resourceVersion)
    curl -sSN "$CK_API/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=$rv&timeoutSeconds=40" >"$BATS_TEST_TMPDIR/w" &
    wpid=$!
    codes=""
    for i in $(seq 1 60); do
        case $i in
        15) ck_etcd_kill 0 ;; # the member the apiserver's watch streams most likely use
        30) ck_etcd_restart 0 ;;
        40)
            leader=$(ck_etcd_leader)
            ck_etcd_kill "$leader"
            ;;
        esac
        codes="$codes $(post_cm default f$i)"
    done
    [ "$(echo $codes | tr ' ' '\n' | grep -c '^201$')" = 60 ]
    # all 60 objects exist
    [ "$(curl -sS "$CK_API/api/v1/namespaces/default/configmaps" | jq '[.items[] | select(.metadata.name | startswith("f"))] | length')" = 60 ]
    # the watch saw f1..f60 in order, each once
    for _ in $(seq 1 50); do
        [ "$(grep -c '"type":"ADDED"' "$BATS_TEST_TMPDIR/w")" -ge 60 ] && break
        sleep 0.2
    done
    kill $wpid 2>/dev/null || true
    wait $wpid 2>/dev/null || true
    got=$(jq -r 'select(.type=="ADDED") | .object.metadata.name' "$BATS_TEST_TMPDIR/w" | tr '\n' ' ')
    want=$(for i in $(seq 1 60); do printf 'f%s ' "$i"; done)
    [ "$got" = "$want" ]
    ck_etcd_restart "$leader"
}
