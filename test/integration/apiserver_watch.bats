#!/usr/bin/env bats
# Watches served from the watch cache: ordering, resume, selectors, 410, bookmarks.

load_lib() {
    CKUBE_ROOT=${CKUBE_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
    . "$CKUBE_ROOT/test/lib/apiserver.sh"
}

setup_file() {
    load_lib
    ck_apiserver_start --default-watch-cache-size=50
}

teardown_file() {
    load_lib
    ck_apiserver_stop
}

setup() {
    load_lib
}

post() { curl -sS -X POST -H 'Content-Type: application/json' --data-binary "$2" "$CK_API$1"; }
patch() { curl -sS -X PATCH -H 'Content-Type: application/merge-patch+json' --data-binary "$2" "$CK_API$1"; }
del() { curl -sS -X DELETE "$CK_API$1"; }
# watch PATH SECONDS -> events (one per line) into $BATS_TEST_TMPDIR/w
watch_bg() { curl -sSN "$CK_API$1" >"$BATS_TEST_TMPDIR/w" & WPID=$!; sleep 0.3; }
events() { jq -rc '"\(.type) \(.object.metadata.name // "") \(.object.data.v // "")"' "$BATS_TEST_TMPDIR/w"; }

@test "a watch sees ADDED, MODIFIED, DELETED in order, then ends at timeoutSeconds" {
    watch_bg "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=2"
    post /api/v1/namespaces/default/configmaps '{"metadata":{"name":"w1"},"data":{"v":"1"}}' >/dev/null
    patch /api/v1/namespaces/default/configmaps/w1 '{"data":{"v":"2"}}' >/dev/null
    del /api/v1/namespaces/default/configmaps/w1 >/dev/null
    wait $WPID
    run events
    [ "${lines[0]}" = "ADDED w1 1" ]
    [ "${lines[1]}" = "MODIFIED w1 2" ]
    [ "${lines[2]}" = "DELETED w1 2" ]
    [ "${#lines[@]}" = 3 ]
}

@test "a watch without resourceVersion starts with the current objects as ADDED" {
    post /api/v1/namespaces/kube-public/configmaps '{"metadata":{"name":"pre"},"data":{"v":"p"}}' >/dev/null
    curl -sSN "$CK_API/api/v1/namespaces/kube-public/configmaps?watch=true&timeoutSeconds=1" >"$BATS_TEST_TMPDIR/w"
    run events
    [ "${lines[0]}" = "ADDED pre p" ]
}

@test "resuming from any resourceVersion replays exactly the later events" {
    rv0=$(curl -sS "$CK_API/api/v1/namespaces/default/configmaps" | jq -r .metadata.resourceVersion)
    for i in 1 2 3 4; do post /api/v1/namespaces/default/configmaps "{\"metadata\":{\"name\":\"r$i\"},\"data\":{\"v\":\"$i\"}}" >/dev/null; done
    rvs=()
    for i in 1 2 3 4; do rvs+=("$(curl -sS "$CK_API/api/v1/namespaces/default/configmaps/r$i" | jq -r .metadata.resourceVersion)"); done
    curl -sSN "$CK_API/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=$rv0&timeoutSeconds=1" >"$BATS_TEST_TMPDIR/w"
    [ "$(events | tr '\n' ' ')" = "ADDED r1 1 ADDED r2 2 ADDED r3 3 ADDED r4 4 " ]
    curl -sSN "$CK_API/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rvs[1]}&timeoutSeconds=1" >"$BATS_TEST_TMPDIR/w"
    [ "$(events | tr '\n' ' ')" = "ADDED r3 3 ADDED r4 4 " ]
    [ "$(jq -r .object.metadata.resourceVersion "$BATS_TEST_TMPDIR/w" | head -1)" = "${rvs[2]}" ]
}

@test "label selector transitions: starts matching -> ADDED, stops matching -> DELETED" {
    post /api/v1/namespaces/default/configmaps '{"metadata":{"name":"sel","labels":{"on":"no"}},"data":{"v":"a"}}' >/dev/null
    watch_bg "/api/v1/namespaces/default/configmaps?watch=true&labelSelector=on%3Dyes&timeoutSeconds=2"
    patch /api/v1/namespaces/default/configmaps/sel '{"metadata":{"labels":{"on":"yes"}},"data":{"v":"b"}}' >/dev/null
    patch /api/v1/namespaces/default/configmaps/sel '{"data":{"v":"c"}}' >/dev/null
    patch /api/v1/namespaces/default/configmaps/sel '{"metadata":{"labels":{"on":"no"}},"data":{"v":"d"}}' >/dev/null
    wait $WPID
    [ "$(events | tr '\n' ' ')" = "ADDED sel b MODIFIED sel c DELETED sel c " ]
}

@test "a resourceVersion older than the cache window is a 410 Expired ERROR event" {
    rv0=$(curl -sS "$CK_API/api/v1/namespaces/default/configmaps" | jq -r .metadata.resourceVersion)
    for i in $(seq 1 60); do post /api/v1/namespaces/kube-system/configmaps "{\"metadata\":{\"name\":\"old$i\"}}" >/dev/null; done
    curl -sSN "$CK_API/api/v1/namespaces/kube-system/configmaps?watch=true&resourceVersion=$rv0&timeoutSeconds=1" >"$BATS_TEST_TMPDIR/w"
    [ "$(wc -l <"$BATS_TEST_TMPDIR/w")" = 1 ]
    [ "$(jq -r .type "$BATS_TEST_TMPDIR/w")" = ERROR ]
    [ "$(jq -r .object.code "$BATS_TEST_TMPDIR/w")" = 410 ]
    [ "$(jq -r .object.reason "$BATS_TEST_TMPDIR/w")" = Expired ]
}

@test "sendInitialEvents ends the initial burst with an initial-events-end bookmark" {
    post /api/v1/namespaces/kube-node-lease/configmaps '{"metadata":{"name":"ie"}}' >/dev/null
    curl -sSN "$CK_API/api/v1/namespaces/kube-node-lease/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1" >"$BATS_TEST_TMPDIR/w"
    [ "$(jq -r .type "$BATS_TEST_TMPDIR/w" | head -1)" = ADDED ]
    bm=$(grep BOOKMARK "$BATS_TEST_TMPDIR/w" | head -1)
    [ "$(echo "$bm" | jq -r '.object.metadata.annotations["k8s.io/initial-events-end"]')" = true ]
    [ "$(echo "$bm" | jq -r .object.kind)" = ConfigMap ]
    curl -sS -o "$BATS_TEST_TMPDIR/e" -w '%{http_code}' "$CK_API/api/v1/configmaps?watch=true&sendInitialEvents=true" >"$BATS_TEST_TMPDIR/code"
    [ "$(cat "$BATS_TEST_TMPDIR/code")" = 422 ]
}

@test "200 concurrent watchers all receive the event" {
    # every watcher starts from the same revision, so a late starter still gets the event
    rv=$(curl -sS "$CK_API/api/v1/namespaces/default/secrets" | jq -r .metadata.resourceVersion)
    post /api/v1/namespaces/default/secrets '{"metadata":{"name":"fanout"}}' >/dev/null
    pids=()
    for i in $(seq 1 200); do
        curl -sSN "$CK_API/api/v1/namespaces/default/secrets?watch=true&resourceVersion=$rv&timeoutSeconds=4" >"$BATS_TEST_TMPDIR/w$i" &
        pids+=($!)
    done
    wait "${pids[@]}"
    got=0
    for i in $(seq 1 200); do
        grep -q '"name":"fanout"' "$BATS_TEST_TMPDIR/w$i" && got=$((got + 1))
    done
    [ "$got" = 200 ]
}

@test "kubectl get -w streams changes" {
    ck_kubectl get configmaps -w --request-timeout=3s -o name >"$BATS_TEST_TMPDIR/k" 2>&1 &
    kp=$!
    sleep 1
    post /api/v1/namespaces/default/configmaps '{"metadata":{"name":"kw"}}' >/dev/null
    sleep 1
    kill $kp 2>/dev/null || true
    wait $kp 2>/dev/null || true
    grep -q '^configmap/kw$' "$BATS_TEST_TMPDIR/k"
}

@test "lists with resourceVersion=0 come from the watch cache, filtered, at the cache's revision" {
    post /api/v1/namespaces/kube-public/configmaps '{"metadata":{"name":"c0","labels":{"k":"v"}}}' >/dev/null
    post /api/v1/namespaces/kube-public/configmaps '{"metadata":{"name":"c1"}}' >/dev/null
    out=$(curl -sS "$CK_API/api/v1/namespaces/kube-public/configmaps?resourceVersion=0&labelSelector=k%3Dv")
    [ "$(echo "$out" | jq -r '[.items[].metadata.name] | join(",")')" = c0 ]
    rv=$(echo "$out" | jq -r .metadata.resourceVersion)
    [ "$rv" -gt 0 ]
    out=$(curl -sS "$CK_API/api/v1/configmaps?resourceVersion=$rv&resourceVersionMatch=NotOlderThan")
    [ "$(echo "$out" | jq -r '[.items[] | select(.metadata.namespace=="kube-public") | .metadata.name] | sort | join(",")')" = "c0,c1,pre" ]
}
