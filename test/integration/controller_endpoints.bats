#!/usr/bin/env bats
# kube-controller-manager's endpoints-controller and endpointslice-controller against a real
# etcd + kube-apiserver; the test plays the kubelet by PATCHing pods/status (podIP, Ready).
# Also their Warning events when the apiserver rejects a write (or a pod's node is unknown),
# and a concurrency of 0 (no workers).

load_lib() {
    CKUBE_ROOT=${CKUBE_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
    . "$CKUBE_ROOT/test/lib/apiserver.sh"
    . "$CKUBE_ROOT/test/lib/kcm.sh"
}

. "${CKUBE_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}/test/lib/wait.sh" # wait_for SECONDS CMD...

setup_file() {
    load_lib
    ck_apiserver_start
    # the node the test pods run on: the EndpointSlice controller leaves out pods of unknown nodes
    curl -sSf -X POST -H 'Content-Type: application/json' \
        --data-binary '{"metadata":{"name":"node-a"}}' "$CK_API/api/v1/nodes" >/dev/null
    ck_kcm_start --controllers=endpoints-controller,endpointslice-controller --v=2
}

teardown_file() {
    load_lib
    local bad=0
    ck_kcm_stop || bad=1
    # the kube-controller-manager a test restarted, if that test failed before stopping it
    if [ -f "$BATS_FILE_TMPDIR/kcm-restarted.pid" ]; then
        CK_KCM_PID=$(cat "$BATS_FILE_TMPDIR/kcm-restarted.pid")
        ck_kcm_stop || bad=1
    fi
    ck_apiserver_stop
    return $bad
}

setup() {
    load_lib
}

post() { curl -sSf -X POST -H 'Content-Type: application/json' --data-binary "$2" "$CK_API$1" >/dev/null; }
get() { curl -sSf "$CK_API$1"; }

mkns() { post /api/v1/namespaces "{\"metadata\":{\"name\":\"$1\"}}"; }

# mkpod NS NAME APP [PORTNAME PORT]
mkpod() {
    local ports='[]'
    [ -n "${4:-}" ] && ports="[{\"name\":\"$4\",\"containerPort\":$5}]"
    post "/api/v1/namespaces/$1/pods" "{\"metadata\":{\"name\":\"$2\",\"labels\":{\"app\":\"$3\"}},
      \"spec\":{\"nodeName\":\"node-a\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox\",\"ports\":$ports}]}}"
}

# podstatus NS NAME IP True|False: what the kubelet would report
podstatus() {
    curl -sSf -X PATCH -H 'Content-Type: application/merge-patch+json' --data-binary \
        "{\"status\":{\"phase\":\"Running\",\"podIP\":\"$3\",\"podIPs\":[{\"ip\":\"$3\"}],
          \"conditions\":[{\"type\":\"Ready\",\"status\":\"$4\"}]}}" \
        "$CK_API/api/v1/namespaces/$1/pods/$2/status" >/dev/null
}

# mksvc NS NAME SELECTOR-APP TARGETPORT [EXTRA-SPEC-JSON]
mksvc() {
    local tp=$4
    [[ $tp =~ ^[0-9]+$ ]] || tp="\"$tp\""
    post "/api/v1/namespaces/$1/services" "{\"metadata\":{\"name\":\"$2\",\"labels\":{\"tier\":\"web\"}},
      \"spec\":{\"selector\":{\"app\":\"$3\"},\"ports\":[{\"name\":\"http\",\"port\":80,\"targetPort\":$tp}]${5:-}}}"
}

ep() { get "/api/v1/namespaces/$1/endpoints/$2"; }
slices() { get "/apis/discovery.k8s.io/v1/namespaces/$1/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3D$2"; }

# ep_is NS NAME JQ-EXPR EXPECTED
ep_is() { [ "$(ep "$1" "$2" 2>/dev/null | jq -c "$3")" = "$4" ]; }
slices_are() { [ "$(slices "$1" "$2" 2>/dev/null | jq -c "$3")" = "$4" ]; }

@test "ready and not-ready pods become addresses and notReadyAddresses, slices follow" {
    mkns ep1
    mkpod ep1 a web
    mkpod ep1 b web
    mkpod ep1 other db
    podstatus ep1 a 10.244.1.2 True
    podstatus ep1 b 10.244.1.3 False
    podstatus ep1 other 10.244.1.4 True
    mksvc ep1 web web 8080
    wait_for 10 ep_is ep1 web '[.subsets[].addresses[]?.ip]' '["10.244.1.2"]'
    wait_for 10 ep_is ep1 web '[.subsets[].notReadyAddresses[]?.ip]' '["10.244.1.3"]'
    run ep ep1 web
    echo "$output" | jq .
    [ "$(echo "$output" | jq -c '.subsets[0].ports')" = '[{"name":"http","port":8080,"protocol":"TCP"}]' ]
    [ "$(echo "$output" | jq -r '.subsets[0].addresses[0].targetRef | "\(.kind)/\(.namespace)/\(.name)"')" = Pod/ep1/a ]
    [ "$(echo "$output" | jq -r '.subsets[0].addresses[0].nodeName')" = node-a ]
    [ "$(echo "$output" | jq -r '.metadata.labels.tier')" = web ]
    [ "$(echo "$output" | jq -r '.metadata.annotations["endpoints.kubernetes.io/last-change-trigger-time"]')" != null ]

    wait_for 10 slices_are ep1 web '[.items[].endpoints[]|[.addresses[0],.conditions.ready]]|sort' \
        '[["10.244.1.2",true],["10.244.1.3",false]]'
    run slices ep1 web
    echo "$output" | jq .
    [ "$(echo "$output" | jq '.items|length')" = 1 ]
    local s
    s=$(echo "$output" | jq -c '.items[0]')
    [[ $(echo "$s" | jq -r .metadata.name) == web-* ]]
    [ "$(echo "$s" | jq -r .addressType)" = IPv4 ]
    [ "$(echo "$s" | jq -r '.metadata.labels["endpointslice.kubernetes.io/managed-by"]')" = endpointslice-controller.k8s.io ]
    [ "$(echo "$s" | jq -c '.ports')" = '[{"name":"http","port":8080,"protocol":"TCP"}]' ]
    [ "$(echo "$s" | jq -r '.metadata.ownerReferences[0] | "\(.kind)/\(.name)/\(.controller)"')" = Service/web/true ]
    [ "$(echo "$s" | jq -r '.endpoints[] | select(.addresses[0]=="10.244.1.2") | "\(.conditions.serving) \(.conditions.terminating) \(.targetRef.name) \(.nodeName)"')" = "true false a node-a" ]

    # readiness changes move the address
    podstatus ep1 a 10.244.1.2 False
    podstatus ep1 b 10.244.1.3 True
    wait_for 10 ep_is ep1 web '[.subsets[].addresses[]?.ip]' '["10.244.1.3"]'
    ep_is ep1 web '[.subsets[].notReadyAddresses[]?.ip]' '["10.244.1.2"]'
    wait_for 10 slices_are ep1 web '[.items[].endpoints[]|[.addresses[0],.conditions.ready]]|sort' \
        '[["10.244.1.2",false],["10.244.1.3",true]]'

    # a deleted pod disappears
    curl -sSf -X DELETE "$CK_API/api/v1/namespaces/ep1/pods/a?gracePeriodSeconds=0" >/dev/null
    wait_for 10 ep_is ep1 web '[.subsets[]|(.addresses[]?,.notReadyAddresses[]?)|.ip]' '["10.244.1.3"]'
    wait_for 10 slices_are ep1 web '[.items[].endpoints[].addresses[0]]' '["10.244.1.3"]'
}

@test "named target ports resolve per pod and split subsets" {
    mkns ep2
    mkpod ep2 p1 api http 8080
    mkpod ep2 p2 api http 9090
    mkpod ep2 p3 api metrics 7000
    podstatus ep2 p1 10.244.2.1 True
    podstatus ep2 p2 10.244.2.2 True
    podstatus ep2 p3 10.244.2.3 True
    mksvc ep2 api api http
    wait_for 10 ep_is ep2 api '[.subsets[]|[.addresses[].ip, .ports[0].port]]|sort' \
        '[["10.244.2.1",8080],["10.244.2.2",9090]]'
    # as upstream, a pod without the named port stays in the slices, in a slice without ports
    wait_for 10 slices_are ep2 api '[.items[]|[.endpoints[].addresses[0], .ports[0].port]]|sort' \
        '[["10.244.2.1",8080],["10.244.2.2",9090],["10.244.2.3",null]]'
}

@test "headless services and publishNotReadyAddresses" {
    mkns ep3
    mkpod ep3 h1 db
    podstatus ep3 h1 10.244.3.1 False
    mksvc ep3 db db 5432 ',"clusterIP":"None","publishNotReadyAddresses":true'
    wait_for 10 ep_is ep3 db '[.subsets[].addresses[]?.ip]' '["10.244.3.1"]'
    ep_is ep3 db '.metadata.labels["service.kubernetes.io/headless"]' '""'
    wait_for 10 slices_are ep3 db '[.items[].endpoints[]|[.addresses[0],.conditions.ready]]' \
        '[["10.244.3.1",true]]'
    slices_are ep3 db '.items[0].metadata.labels["service.kubernetes.io/headless"]' '""'
}

@test "a service without ready pods gets an empty Endpoints and a placeholder slice" {
    mkns ep4
    mksvc ep4 empty nobody 80
    wait_for 10 ep_is ep4 empty '.metadata.name' '"empty"'
    ep_is ep4 empty '.subsets // []' '[]'
    wait_for 10 slices_are ep4 empty '[.items[]|(.endpoints // [] | length)]' '[0]'
}

@test "services without selectors and the kubernetes service are left alone" {
    mkns ep5
    post /api/v1/namespaces/ep5/services '{"metadata":{"name":"manual"},"spec":{"ports":[{"port":80}]}}'
    post /api/v1/namespaces/ep5/endpoints '{"metadata":{"name":"manual"},"subsets":[{"addresses":[{"ip":"192.0.2.7"}],"ports":[{"port":80}]}]}'
    local before
    before=$(get /api/v1/namespaces/default/endpoints/kubernetes | jq -c '{s:.subsets,rv:.metadata.resourceVersion}' || true)
    sleep 2
    ep_is ep5 manual '[.subsets[].addresses[].ip]' '["192.0.2.7"]'
    slices_are ep5 manual '.items|length' '0'
    [ "$(get /api/v1/namespaces/default/endpoints/kubernetes | jq -c '{s:.subsets,rv:.metadata.resourceVersion}' || true)" = "$before" ]
    run get "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=endpointslice.kubernetes.io%2Fmanaged-by%3Dendpointslice-controller.k8s.io,kubernetes.io%2Fservice-name%3Dkubernetes"
    [ "$(echo "$output" | jq '.items|length')" = 0 ]
}

@test "more than 100 endpoints are split over several slices" {
    mkns ep6
    local i
    for i in $(seq 1 105); do
        mkpod ep6 "m$i" many
        podstatus ep6 "m$i" "10.244.6.$i" True
    done
    mksvc ep6 many many 80
    wait_for 20 slices_are ep6 many '[.items[].endpoints|length]|sort' '[5,100]'
    wait_for 10 ep_is ep6 many '[.subsets[].addresses[]]|length' '105'
}

@test "deleting the service removes its Endpoints and EndpointSlices" {
    mkns ep7
    mkpod ep7 x gone
    podstatus ep7 x 10.244.7.1 True
    mksvc ep7 gone gone 80
    wait_for 10 ep_is ep7 gone '[.subsets[].addresses[].ip]' '["10.244.7.1"]'
    wait_for 10 slices_are ep7 gone '.items|length' '1'
    curl -sSf -X DELETE "$CK_API/api/v1/namespaces/ep7/services/gone" >/dev/null
    wait_for 10 bash -c "! curl -sSf '$CK_API/api/v1/namespaces/ep7/endpoints/gone' >/dev/null 2>&1"
    wait_for 10 slices_are ep7 gone '.items|length' '0'
}

@test "terminating pods leave Endpoints but stay in slices as terminating" {
    mkns ep8
    mkpod ep8 t1 term
    podstatus ep8 t1 10.244.8.1 True
    mksvc ep8 term term 80
    wait_for 10 ep_is ep8 term '[.subsets[].addresses[].ip]' '["10.244.8.1"]'
    # graceful deletion: the pod is bound, so it stays with a deletionTimestamp
    curl -sSf -X DELETE "$CK_API/api/v1/namespaces/ep8/pods/t1?gracePeriodSeconds=300" >/dev/null
    get /api/v1/namespaces/ep8/pods/t1 | jq -e .metadata.deletionTimestamp
    wait_for 10 ep_is ep8 term '.subsets // []' '[]'
    wait_for 10 slices_are ep8 term '[.items[].endpoints[]|[.addresses[0],.conditions]]' \
        '[["10.244.8.1",{"ready":false,"serving":true,"terminating":true}]]'
}

@test "slice endpoints carry the zone of their node" {
    mkns ep9
    post /api/v1/nodes '{"metadata":{"name":"node-z","labels":{"topology.kubernetes.io/zone":"zone-b"}}}'
    post /api/v1/namespaces/ep9/pods '{"metadata":{"name":"z1","labels":{"app":"zoned"}},
      "spec":{"nodeName":"node-z","containers":[{"name":"c","image":"busybox"}]}}'
    podstatus ep9 z1 10.244.9.1 True
    mksvc ep9 zoned zoned 80
    wait_for 10 slices_are ep9 zoned '[.items[].endpoints[]|[.addresses[0],.nodeName,.zone]]' \
        '[["10.244.9.1","node-z","zone-b"]]'
}

# events_json NS REASON: the events of NS with that reason (a JSON array), as kubectl lists them
events_json() {
    ck_kubectl get events -n "$1" -o json | jq -c --arg r "$2" '[.items[]|select(.reason==$r)]'
}
# has_event NS REASON JQ-EXPR EXPECTED: some such event maps to EXPECTED under JQ-EXPR
has_event() {
    local got
    got=$(events_json "$1" "$2" | jq -c "[.[]|$3]")
    echo "$got" | jq -e --argjson want "$4" 'index([$want]) != null' >/dev/null
}

# bigann FILE: a merge patch dropping the trigger annotation and adding one that brings the
# annotations to exactly the 256 KiB the apiserver allows (15-byte key + 262129-byte value)
bigann() {
    {
        printf '{"metadata":{"annotations":{"endpoints.kubernetes.io/last-change-trigger-time":null,"example.com/big":"'
        head -c 262129 /dev/zero | tr '\0' x
        printf '"}}}'
    } >"$1"
}

@test "rejected writes: FailedToUpdateEndpoint on the Endpoints, FailedToUpdateEndpointSlices on the Service" {
    mkns ev1
    mkpod ev1 a big http 8080
    podstatus ev1 a 10.244.20.1 True
    mksvc ev1 big big http
    wait_for 10 ep_is ev1 big '[.subsets[].addresses[].ip]' '["10.244.20.1"]'
    wait_for 10 slices_are ev1 big '[.items[].endpoints[].addresses[0]]' '["10.244.20.1"]'
    local slice
    slice=$(slices ev1 big | jq -r '.items[0].metadata.name')
    # the annotations are now full: the controllers' next write adds the trigger annotation back
    # and the apiserver rejects it, as upstream's would
    bigann "$BATS_TEST_TMPDIR/big.json"
    curl -sSf -X PATCH -H 'Content-Type: application/merge-patch+json' \
        --data-binary @"$BATS_TEST_TMPDIR/big.json" "$CK_API/api/v1/namespaces/ev1/endpoints/big" >/dev/null
    curl -sSf -X PATCH -H 'Content-Type: application/merge-patch+json' \
        --data-binary @"$BATS_TEST_TMPDIR/big.json" \
        "$CK_API/apis/discovery.k8s.io/v1/namespaces/ev1/endpointslices/$slice" >/dev/null
    mkpod ev1 b big http 8080
    podstatus ev1 b 10.244.20.2 True

    wait_for 20 has_event ev1 FailedToUpdateEndpoint \
        '[.type,.involvedObject.kind,.involvedObject.name,.source.component,.message]' \
        '["Warning","Endpoints","big","endpoint-controller","Failed to update endpoint ev1/big: Endpoints \"big\" is invalid: metadata.annotations: Too long: must have at most 262144 bytes"]'
    local msg="Error updating Endpoint Slices for Service ev1/big: failed to update $slice EndpointSlice for Service ev1/big: EndpointSlice.discovery.k8s.io \"$slice\" is invalid: metadata.annotations: Too long: must have at most 262144 bytes"
    wait_for 20 has_event ev1 FailedToUpdateEndpointSlices \
        '[.type,.involvedObject.kind,.involvedObject.name,.source.component,.message]' \
        "$(jq -cn --arg m "$msg" '["Warning","Service","big","endpoint-slice-controller",$m]')"
    # the event names the cached Endpoints it could not update
    uid=$(ep ev1 big | jq -r .metadata.uid)
    has_event ev1 FailedToUpdateEndpoint '.involvedObject.uid' "\"$uid\""
    # nothing was written: the new pod is in neither
    ep_is ev1 big '[.subsets[].addresses[].ip]' '["10.244.20.1"]'
    slices_are ev1 big '[.items[].endpoints[].addresses[0]]' '["10.244.20.1"]'
}

@test "a pod on an unknown node stays out of the slices with FailedToUpdateEndpointSlices, not out of Endpoints" {
    mkns ev2
    mkpod ev2 known lost
    podstatus ev2 known 10.244.21.1 True
    post /api/v1/namespaces/ev2/pods '{"metadata":{"name":"stray","labels":{"app":"lost"}},
      "spec":{"nodeName":"node-missing","containers":[{"name":"c","image":"busybox"}]}}'
    podstatus ev2 stray 10.244.21.2 True
    mksvc ev2 lost lost 80
    wait_for 10 ep_is ev2 lost '[.subsets[].addresses[].ip]|sort' '["10.244.21.1","10.244.21.2"]'
    wait_for 10 slices_are ev2 lost '[.items[].endpoints[].addresses[0]]' '["10.244.21.1"]'
    wait_for 20 has_event ev2 FailedToUpdateEndpointSlices \
        '[.type,.involvedObject.kind,.involvedObject.name,.message]' \
        '["Warning","Service","lost","Error updating Endpoint Slices for Service ev2/lost: skipping Pod stray for Service ev2/lost: Node node-missing Not Found"]'
    # the node appears: the retry puts the pod in
    post /api/v1/nodes '{"metadata":{"name":"node-missing"}}'
    wait_for 20 slices_are ev2 lost '[.items[].endpoints[].addresses[0]]|sort' '["10.244.21.1","10.244.21.2"]'
}

@test "publishNotReadyAddresses keeps a pod on an unknown node in the slices, without an event" {
    mkns ev3
    post /api/v1/namespaces/ev3/pods '{"metadata":{"name":"stray","labels":{"app":"pub"}},
      "spec":{"nodeName":"node-elsewhere","containers":[{"name":"c","image":"busybox"}]}}'
    podstatus ev3 stray 10.244.22.1 False
    mksvc ev3 pub pub 80 ',"publishNotReadyAddresses":true'
    wait_for 10 slices_are ev3 pub '[.items[].endpoints[].addresses[0]]' '["10.244.22.1"]'
    sleep 1
    [ "$(events_json ev3 FailedToUpdateEndpointSlices)" = '[]' ]
}

# A second kube-controller-manager for one test, while the suite's one is paused (SIGSTOP);
# teardown resumes the suite's and stops this one, also when the test failed.
ZERO_KCM_PID=
teardown() {
    if [ -n "${ZERO_KCM_PID:-}" ]; then
        kill "$ZERO_KCM_PID" 2>/dev/null || true
        wait "$ZERO_KCM_PID" 2>/dev/null || true
        ZERO_KCM_PID=
    fi
    [ -z "${CK_KCM_PID:-}" ] || kill -CONT "$CK_KCM_PID" 2>/dev/null || true
}

@test "--concurrent-endpoint-syncs=0 runs no Endpoints worker (upstream: no validation, no workers)" {
    kill -STOP "$CK_KCM_PID"
    local log=$BATS_TEST_TMPDIR/kcm-zero.log
    "${CK_KCM_BIN:-${CKUBE_BIN:-$CKUBE_ROOT/bin}/kube-controller-manager}" --master="$CK_API" \
        --leader-elect=false --secure-port="$(ck_free_port)" --v=2 \
        --controllers=endpoints-controller,endpointslice-controller \
        --concurrent-endpoint-syncs=0 >"$log" 2>&1 &
    ZERO_KCM_PID=$!
    mkns ev4
    mkpod ev4 a zero
    podstatus ev4 a 10.244.23.1 True
    mksvc ev4 zero zero 80
    # the EndpointSlice controller of the same process works...
    wait_for 20 slices_are ev4 zero '[.items[].endpoints[].addresses[0]]' '["10.244.23.1"]'
    # ...and the Endpoints one started and synced its caches...
    grep -q 'Caches are synced for endpoint$' "$log"
    grep -q 'Controller workers controller="endpoints-controller" workers=0' "$log"
    sleep 2
    # ...but no worker ever syncs a Service into Endpoints
    run ep ev4 zero
    [ "$status" != 0 ]
    kill "$ZERO_KCM_PID"
    wait "$ZERO_KCM_PID" || true
    ZERO_KCM_PID=
    ! grep "ERROR: AddressSanitizer\|runtime error:\|ERROR: LeakSanitizer" "$log"
    # the suite's controller manager, resumed, catches up
    kill -CONT "$CK_KCM_PID"
    wait_for 20 ep_is ev4 zero '[.subsets[].addresses[].ip]' '["10.244.23.1"]'
}

@test "--concurrent-service-endpoint-syncs=0 is rejected as upstream validates it" {
    run "${CK_KCM_BIN:-${CKUBE_BIN:-$CKUBE_ROOT/bin}/kube-controller-manager}" --master="$CK_API" \
        --leader-elect=false --secure-port=0 --concurrent-service-endpoint-syncs=0
    [ "$status" = 1 ]
    [[ $output == *"concurrent-service-endpoint-syncs must not be less than 1, but got 0"* ]]
}

@test "Endpoints creates: refused in a terminating namespace silently, else FailedToCreateEndpoint in default" {
    mkns evc
    mksvc evc s nobody 80
    wait_for 10 ep_is evc s '.metadata.name' '"s"'
    # a terminating namespace takes no new Endpoints: upstream drops the Service without an event
    curl -sSf -X DELETE "$CK_API/api/v1/namespaces/evc" >/dev/null
    [ "$(get /api/v1/namespaces/evc | jq -r .status.phase)" = Terminating ]
    curl -sSf -X DELETE "$CK_API/api/v1/namespaces/evc/endpoints/s" >/dev/null
    sleep 2
    run ep evc s
    [ "$status" != 0 ]
    [ "$(events_json default FailedToCreateEndpoint | jq -c '[.[]|select(.involvedObject.name=="s")]')" = '[]' ]
    # the namespace is force-finalized away while the Service is left behind: creates now fail
    # with NotFound, which upstream reports; the Endpoints being new has no namespace, so the
    # Event goes to "default"
    curl -sSf -X PUT -H 'Content-Type: application/json' \
        --data-binary '{"metadata":{"name":"evc"},"spec":{"finalizers":[]}}' \
        "$CK_API/api/v1/namespaces/evc/finalize" >/dev/null
    wait_for 10 bash -c "! curl -sSf '$CK_API/api/v1/namespaces/evc' >/dev/null 2>&1"
    curl -sSf -X PATCH -H 'Content-Type: application/merge-patch+json' \
        --data-binary '{"metadata":{"labels":{"touch":"1"}}}' "$CK_API/api/v1/namespaces/evc/services/s" >/dev/null
    wait_for 20 has_event default FailedToCreateEndpoint \
        '[.type,.involvedObject.kind,(.involvedObject.namespace // ""),.involvedObject.name,(.involvedObject.uid // ""),.source.component,.message]' \
        '["Warning","Endpoints","","s","","endpoint-controller","Failed to create endpoint for service evc/s: namespaces \"evc\" not found"]'
}

@test "the healthy services of this suite got no failure events (no conflicts from a lagging cache)" {
    local ns
    for ns in ep1 ep2 ep3 ep4 ep6 ep7 ep8 ep9; do
        run bash -c "KUBECONFIG=/dev/null kubectl --server='$CK_API' get events -n $ns -o json |
            jq -c '[.items[]|select(.type==\"Warning\")|[.reason,.message]]'"
        echo "$ns: $output"
        [ "$output" = '[]' ]
    done
}

@test "Endpoints written by hand before their Service stay; the Service's deletion takes them; leftovers go at start" {
    mkns epman
    post /api/v1/namespaces/epman/endpoints '{"metadata":{"name":"ext"},"subsets":[{"addresses":[{"ip":"192.0.2.10"}],"ports":[{"port":443}]}]}'
    # adds and updates of Endpoints are not the controller's business (upstream reacts to
    # deletions only): a few seconds later they are still there, and after their Service too
    sleep 2
    get /api/v1/namespaces/epman/endpoints/ext >/dev/null
    post /api/v1/namespaces/epman/services '{"metadata":{"name":"ext"},"spec":{"ports":[{"port":443}]}}'
    sleep 1
    [ "$(get /api/v1/namespaces/epman/endpoints/ext | jq -r '.subsets[0].addresses[0].ip')" = 192.0.2.10 ]
    # deleting the Service deletes its Endpoints
    curl -sSf -X DELETE "$CK_API/api/v1/namespaces/epman/services/ext" >/dev/null
    gone() { ! curl -sf "$CK_API/api/v1/namespaces/epman/endpoints/ext" >/dev/null; }
    wait_for 10 gone
    # Endpoints without a Service found when the controller starts are leftovers: removed,
    # except those holding a leader-election record
    ck_kcm_stop
    post /api/v1/namespaces/epman/endpoints '{"metadata":{"name":"orphan"}}'
    post /api/v1/namespaces/epman/endpoints '{"metadata":{"name":"lock","annotations":{"control-plane.alpha.kubernetes.io/leader":"{}"}}}'
    # (not holding bats' fd 3, and stopped by teardown_file if this test fails midway)
    ck_kcm_start --controllers=endpoints-controller,endpointslice-controller --v=2 3>&-
    echo "$CK_KCM_PID" >"$BATS_FILE_TMPDIR/kcm-restarted.pid"
    orphan_gone() { ! curl -sf "$CK_API/api/v1/namespaces/epman/endpoints/orphan" >/dev/null; }
    wait_for 10 orphan_gone
    get /api/v1/namespaces/epman/endpoints/lock >/dev/null
    ck_kcm_stop
    rm -f "$BATS_FILE_TMPDIR/kcm-restarted.pid"
}
