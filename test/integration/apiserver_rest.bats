#!/usr/bin/env bats
# kube-apiserver REST semantics against a real etcd: what curl and kubectl users see.

load_lib() {
    CKUBE_ROOT=${CKUBE_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
    . "$CKUBE_ROOT/test/lib/apiserver.sh"
}

setup_file() {
    load_lib
    ck_apiserver_start
}

teardown_file() {
    load_lib
    ck_apiserver_stop
}

setup() {
    load_lib
}

# api METHOD PATH [BODY [CONTENT-TYPE]]: sets $code and $body
api() {
    local out
    out=$(ck_curl "$@")
    code=${out##*$'\n'}
    body=${out%$'\n'*}
}

jqb() { echo "$body" | jq -r "$@"; }

cm() { # cm NAME [NAMESPACE-in-body] -> a ConfigMap manifest
    printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"%s","labels":{"app":"a"}},"data":{"k":"v"}}' "$1"
}

@test "healthz, livez, readyz and version answer as upstream" {
    api GET /healthz
    [ "$code" = 200 ] && [ "$body" = ok ]
    api GET "/readyz?verbose"
    [ "$code" = 200 ]
    [[ "$body" == *"readyz check passed"* ]]
    api GET /version
    [ "$(jqb .gitVersion)" = v1.32.4 ]
    [ "$(jqb .major)/$(jqb .minor)" = 1/32 ]
}

@test "system namespaces exist and are Active" {
    for ns in default kube-system kube-public kube-node-lease; do
        api GET /api/v1/namespaces/$ns
        [ "$code" = 200 ]
        [ "$(jqb .metadata.name)" = "$ns" ]
    done
}

@test "create sets uid, creationTimestamp and resourceVersion; get returns the same object" {
    api POST /api/v1/namespaces/default/configmaps "$(cm c1)"
    [ "$code" = 201 ]
    uid=$(jqb .metadata.uid)
    rv=$(jqb .metadata.resourceVersion)
    [[ "$uid" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]]
    [[ "$rv" =~ ^[0-9]+$ ]]
    [[ "$(jqb .metadata.creationTimestamp)" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]]
    [ "$(jqb .metadata.namespace)" = default ]
    api GET /api/v1/namespaces/default/configmaps/c1
    [ "$code" = 200 ]
    [ "$(jqb .metadata.uid)" = "$uid" ]
    [ "$(jqb .metadata.resourceVersion)" = "$rv" ]
    [ "$(jqb .data.k)" = v ]
}

@test "creating an existing name is 409 AlreadyExists with upstream's message" {
    api POST /api/v1/namespaces/default/configmaps "$(cm dup)"
    [ "$code" = 201 ]
    api POST /api/v1/namespaces/default/configmaps "$(cm dup)"
    [ "$code" = 409 ]
    [ "$(jqb .reason)" = AlreadyExists ]
    [ "$(jqb .message)" = 'configmaps "dup" already exists' ]
    [ "$(jqb .details.kind)" = configmaps ]
}

@test "update with a stale resourceVersion is 409 Conflict; with the current one it succeeds" {
    api POST /api/v1/namespaces/default/configmaps "$(cm upd)"
    rv=$(jqb .metadata.resourceVersion)
    new=$(echo "$body" | jq -c '.data.k="v2"')
    api PUT /api/v1/namespaces/default/configmaps/upd "$new"
    [ "$code" = 200 ]
    [ "$(jqb .data.k)" = v2 ]
    [ "$(jqb .metadata.resourceVersion)" != "$rv" ]
    api PUT /api/v1/namespaces/default/configmaps/upd "$new" # still carries the old rv
    [ "$code" = 409 ]
    [ "$(jqb .reason)" = Conflict ]
    [ "$(jqb .message)" = 'Operation cannot be fulfilled on configmaps "upd": the object has been modified; please apply your changes to the latest version and try again' ]
}

@test "generateName appends a 5-character suffix" {
    api POST /api/v1/namespaces/default/configmaps '{"metadata":{"generateName":"gen-"},"data":{}}'
    [ "$code" = 201 ]
    [[ "$(jqb .metadata.name)" =~ ^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$ ]]
}

@test "invalid names are 422 Invalid with field causes" {
    api POST /api/v1/namespaces/default/configmaps "$(cm Bad_Name)"
    [ "$code" = 422 ]
    [ "$(jqb .reason)" = Invalid ]
    [[ "$(jqb .message)" == 'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of'* ]]
    [ "$(jqb '.details.causes[0].field')" = metadata.name ]
    [ "$(jqb '.details.causes[0].reason')" = FieldValueInvalid ]
    api POST /api/v1/namespaces/default/configmaps '{"metadata":{},"data":{}}'
    [ "$code" = 422 ]
    [[ "$(jqb .message)" == *"metadata.name: Required value: name or generateName is required"* ]]
}

@test "a missing namespace is 404 namespaces not found" {
    api POST /api/v1/namespaces/nope/configmaps "$(cm x)"
    [ "$code" = 404 ]
    [ "$(jqb .message)" = 'namespaces "nope" not found' ]
}

@test "label selectors filter lists; bad selectors and unknown field labels are 400" {
    api POST /api/v1/namespaces/default/configmaps '{"metadata":{"name":"sel-a","labels":{"tier":"web"}}}'
    api POST /api/v1/namespaces/default/configmaps '{"metadata":{"name":"sel-b","labels":{"tier":"db"}}}'
    api GET "/api/v1/namespaces/default/configmaps?labelSelector=tier%3Dweb"
    [ "$code" = 200 ]
    [ "$(jqb .kind)" = ConfigMapList ]
    [ "$(jqb '[.items[].metadata.name] | join(",")')" = sel-a ]
    api GET "/api/v1/namespaces/default/configmaps?labelSelector=tier%20in%20(web,db)"
    [ "$(jqb '.items | length')" = 2 ]
    api GET "/api/v1/namespaces/default/configmaps?fieldSelector=metadata.name%3Dsel-b"
    [ "$(jqb '[.items[].metadata.name] | join(",")')" = sel-b ]
    api GET "/api/v1/namespaces/default/configmaps?fieldSelector=spec.foo%3Dx"
    [ "$code" = 400 ]
    [ "$(jqb .message)" = "field label not supported: spec.foo" ]
    api GET "/api/v1/namespaces/default/configmaps?labelSelector=a%20in%20(b"
    [ "$code" = 400 ]
}

@test "limit and continue page through a list without loss" {
    for i in $(seq 1 7); do api POST /api/v1/namespaces/kube-public/configmaps "$(cm page-$i)"; done
    names=""
    tok=""
    pages=0
    while :; do
        api GET "/api/v1/namespaces/kube-public/configmaps?limit=3${tok:+&continue=$tok}"
        [ "$code" = 200 ]
        names="$names $(jqb '[.items[].metadata.name] | join(" ")')"
        pages=$((pages + 1))
        tok=$(jqb '.metadata.continue // empty')
        [ -z "$tok" ] && break
        [ "$(jqb .metadata.remainingItemCount)" -gt 0 ]
    done
    [ "$pages" = 3 ]
    [ "$(echo $names | wc -w)" = 7 ]
}

@test "delete returns a Success Status; the object is then 404" {
    api POST /api/v1/namespaces/default/configmaps "$(cm gone)"
    api DELETE /api/v1/namespaces/default/configmaps/gone
    [ "$code" = 200 ]
    [ "$(jqb .status)" = Success ]
    [ "$(jqb .details.name)" = gone ]
    api GET /api/v1/namespaces/default/configmaps/gone
    [ "$code" = 404 ]
    [ "$(jqb .message)" = 'configmaps "gone" not found' ]
}

@test "finalizers hold deletion: deletionTimestamp is set, removing the finalizer deletes" {
    api POST /api/v1/namespaces/default/configmaps '{"metadata":{"name":"fin","finalizers":["example.com/hold"]}}'
    api DELETE /api/v1/namespaces/default/configmaps/fin
    [ "$code" = 200 ]
    [ -n "$(jqb .metadata.deletionTimestamp)" ]
    api GET /api/v1/namespaces/default/configmaps/fin
    [ "$code" = 200 ]
    api PATCH /api/v1/namespaces/default/configmaps/fin '{"metadata":{"finalizers":null}}' application/merge-patch+json
    [ "$code" = 200 ]
    api GET /api/v1/namespaces/default/configmaps/fin
    [ "$code" = 404 ]
}

@test "merge patch changes only what it names" {
    api POST /api/v1/namespaces/default/configmaps '{"metadata":{"name":"mp"},"data":{"a":"1","b":"2"}}'
    api PATCH /api/v1/namespaces/default/configmaps/mp '{"data":{"a":null,"c":"3"}}' application/merge-patch+json
    [ "$code" = 200 ]
    [ "$(jqb '.data | keys | join(",")')" = b,c ]
}

@test "dryRun=All validates and answers without persisting" {
    api POST "/api/v1/namespaces/default/configmaps?dryRun=All" "$(cm dry)"
    [ "$code" = 201 ]
    [ "$(jqb .metadata.name)" = dry ]
    api GET /api/v1/namespaces/default/configmaps/dry
    [ "$code" = 404 ]
}

@test "generation starts at 1 and moves on spec changes only; /status ignores spec" {
    dep='{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d1"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"d"}},"template":{"metadata":{"labels":{"app":"d"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}}'
    api POST /apis/apps/v1/namespaces/default/deployments "$dep"
    [ "$code" = 201 ]
    [ "$(jqb .metadata.generation)" = 1 ]
    api PATCH /apis/apps/v1/namespaces/default/deployments/d1 '{"metadata":{"labels":{"x":"y"}}}' application/merge-patch+json
    [ "$(jqb .metadata.generation)" = 1 ]
    api PATCH /apis/apps/v1/namespaces/default/deployments/d1 '{"spec":{"replicas":3}}' application/merge-patch+json
    [ "$(jqb .metadata.generation)" = 2 ]
    api PATCH /apis/apps/v1/namespaces/default/deployments/d1/status '{"spec":{"replicas":9},"status":{"replicas":3}}' application/merge-patch+json
    [ "$code" = 200 ]
    [ "$(jqb .spec.replicas)" = 3 ]
    [ "$(jqb .status.replicas)" = 3 ]
    # the main resource ignores status
    api PATCH /apis/apps/v1/namespaces/default/deployments/d1 '{"status":{"replicas":7}}' application/merge-patch+json
    [ "$(jqb .status.replicas)" = 3 ]
}

@test "bad bodies get 4xx Status, never a crash" {
    api POST /api/v1/namespaces/default/configmaps '{"metadata":'
    [ "$code" = 400 ]
    [ "$(jqb .kind)" = Status ]
    api POST /api/v1/namespaces/default/configmaps '[1,2]'
    [ "$code" = 400 ]
    api POST /api/v1/namespaces/default/configmaps '{"apiVersion":"v2","kind":"ConfigMap","metadata":{"name":"v2"}}'
    [ "$code" = 400 ]
    [ "$(jqb .message)" = "the API version in the data (v2) does not match the expected API version (v1)" ]
    { printf '{"metadata":{"name":"big"},"data":{"k":"'; head -c 4000000 /dev/zero | tr '\0' 'a'; printf '"}}'; } >"$BATS_TEST_TMPDIR/big.json"
    api POST /api/v1/namespaces/default/configmaps "@$BATS_TEST_TMPDIR/big.json"
    [ "$code" = 413 ]
    [ "$(jqb .reason)" = RequestEntityTooLarge ]
    deep=$(printf '[%.0s' $(seq 1 5000))
    api POST /api/v1/namespaces/default/configmaps "$deep"
    [ "$code" = 400 ]
    api GET /api/v1/namespaces/default/nothings
    [ "$code" = 404 ]
    curl -fsS "$CK_API/healthz" >/dev/null
}

@test "YAML bodies are accepted" {
    api POST /api/v1/namespaces/default/configmaps $'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: yml\ndata:\n  answer: "yes"\n  port: "8080"\n' application/yaml
    [ "$code" = 201 ]
    [ "$(jqb .metadata.name)" = yml ]
    [ "$(jqb .data.answer)" = yes ]
    # YAML 1.1: an unquoted yes is a boolean, which a ConfigMap value cannot be
    api POST /api/v1/namespaces/default/configmaps $'metadata:\n  name: yml2\ndata:\n  answer: yes\n' application/yaml
    [ "$code" -ge 400 ] && [ "$code" -lt 500 ]
}

@test "200 parallel creates: every one lands" {
    for i in $(seq 1 200); do
        curl -sS -o /dev/null -w '%{http_code}\n' -X POST -H 'Content-Type: application/json' \
            --data-binary "{\"metadata\":{\"name\":\"par-$i\"}}" \
            "$CK_API/api/v1/namespaces/kube-node-lease/configmaps" &
    done >"$BATS_TEST_TMPDIR/codes"
    wait
    [ "$(grep -c '^201$' "$BATS_TEST_TMPDIR/codes")" = 200 ]
    api GET /api/v1/namespaces/kube-node-lease/configmaps
    [ "$(jqb '[.items[] | select(.metadata.name | startswith("par-"))] | length')" = 200 ]
}

@test "the real kubectl creates, gets and deletes" {
    cat >"$BATS_TEST_TMPDIR/cm.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: from-kubectl
data:
  greeting: hello
Y
    run ck_kubectl create -f "$BATS_TEST_TMPDIR/cm.yaml"
    [ "$status" = 0 ]
    [ "$output" = "configmap/from-kubectl created" ]
    run ck_kubectl get configmap from-kubectl -o jsonpath='{.data.greeting}'
    [ "$status" = 0 ]
    [ "$output" = hello ]
    run ck_kubectl get configmap does-not-exist
    [ "$status" != 0 ]
    [[ "$output" == *'configmaps "does-not-exist" not found'* ]]
    run ck_kubectl delete configmap from-kubectl
    [ "$status" = 0 ]
    [ "$output" = 'configmap "from-kubectl" deleted' ]
}

@test "pods/binding assigns a node once; a second binding is 409" {
    api POST /api/v1/namespaces/default/pods '{"metadata":{"name":"bp"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}'
    [ "$code" = 201 ]
    api POST /api/v1/namespaces/default/pods/bp/binding '{"apiVersion":"v1","kind":"Binding","metadata":{"name":"bp"},"target":{"apiVersion":"v1","kind":"Node","name":"node-1"}}'
    [ "$code" = 201 ]
    [ "$(jqb .status)" = Success ]
    api GET /api/v1/namespaces/default/pods/bp
    [ "$(jqb .spec.nodeName)" = node-1 ]
    [ "$(jqb '.status.conditions[] | select(.type=="PodScheduled") | .status')" = True ]
    api POST /api/v1/namespaces/default/pods/bp/binding '{"target":{"kind":"Node","name":"node-2"}}'
    [ "$code" = 409 ]
    [[ "$(jqb .message)" == *'pod bp is already assigned to node "node-1"'* ]]
}

@test "scale subresource reads and writes spec.replicas as autoscaling/v1 Scale" {
    rs='{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"rs1"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"r"}},"template":{"metadata":{"labels":{"app":"r"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}}'
    api POST /apis/apps/v1/namespaces/default/replicasets "$rs"
    [ "$code" = 201 ]
    api GET /apis/apps/v1/namespaces/default/replicasets/rs1/scale
    [ "$code" = 200 ]
    [ "$(jqb .kind)" = Scale ]
    [ "$(jqb .apiVersion)" = autoscaling/v1 ]
    [ "$(jqb .spec.replicas)" = 2 ]
    [ "$(jqb .status.selector)" = app=r ]
    api PATCH /apis/apps/v1/namespaces/default/replicasets/rs1/scale '{"spec":{"replicas":5}}' application/merge-patch+json
    [ "$code" = 200 ]
    [ "$(jqb .spec.replicas)" = 5 ]
    api GET /apis/apps/v1/namespaces/default/replicasets/rs1
    [ "$(jqb .spec.replicas)" = 5 ]
    [ "$(jqb .metadata.generation)" = 2 ]
    run ck_kubectl scale rs rs1 --replicas=1
    [ "$status" = 0 ]
    [ "$output" = "replicaset.apps/rs1 scaled" ]
    api GET /apis/apps/v1/namespaces/default/replicasets/rs1
    [ "$(jqb .spec.replicas)" = 1 ]
}

@test "/metrics counts requests by verb, resource and code, with latency histograms" {
    api GET /api/v1/namespaces/default/configmaps/none-such
    api GET /api/v1/namespaces/default/configmaps
    run curl -sS "$CK_API/metrics"
    [[ "$output" == *'apiserver_request_total{code="404",component="apiserver",dry_run="",group="",resource="configmaps",scope="resource",subresource="",verb="GET",version="v1"}'* ]]
    [[ "$output" == *'apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="configmaps",scope="namespace",subresource="",verb="LIST",version="v1"}'* ]]
    [[ "$output" == *'# TYPE apiserver_request_duration_seconds histogram'* ]]
    [[ "$output" == *'apiserver_request_duration_seconds_bucket{component="apiserver",dry_run="",group="",resource="configmaps",scope="namespace",subresource="",verb="LIST",version="v1",le="0.005"}'* ]]
}

@test "metadata.labels and annotations: upstream's messages at the map's own path, for every kind" {
    api POST /api/v1/namespaces/default/configmaps '{"metadata":{"name":"badlabel","labels":{"bad key!":"v"}}}'
    [ "$code" = 422 ]
    [[ "$(jqb .message)" == 'ConfigMap "badlabel" is invalid: metadata.labels: Invalid value: "bad key!": name part must consist of alphanumeric characters'* ]]
    [ "$(jqb '.details.causes[0].field')" = metadata.labels ]
    long=$(printf 'v%.0s' $(seq 64))
    api POST /apis/apps/v1/namespaces/default/controllerrevisions "{\"metadata\":{\"name\":\"badval\",\"labels\":{\"k\":\"$long\"}},\"revision\":1}"
    [ "$code" = 422 ]
    [ "$(jqb .message)" = "ControllerRevision.apps \"badval\" is invalid: metadata.labels: Invalid value: \"$long\": must be no more than 63 characters" ]
    api POST /api/v1/namespaces/default/configmaps '{"metadata":{"name":"numlabel","labels":{"k":1}}}'
    [ "$code" = 422 ]
    [ "$(jqb .message)" = 'ConfigMap "numlabel" is invalid: metadata.labels: Invalid value: 1: must be a string' ]
    # annotation keys are checked lower-cased but reported as sent; values must be strings
    api POST /api/v1/namespaces/default/configmaps '{"metadata":{"name":"badann","annotations":{"Bad Key":"v","ok":true}}}'
    [ "$code" = 422 ]
    [[ "$(jqb .message)" == 'ConfigMap "badann" is invalid: [metadata.annotations: Invalid value: "Bad Key": name part must consist of'* ]]
    [[ "$(jqb .message)" == *', metadata.annotations: Invalid value: true: must be a string]' ]]
    api POST /api/v1/namespaces/default/configmaps '{"metadata":{"name":"upann","annotations":{"Example.COM/Key":"v"}}}'
    [ "$code" = 201 ]
}

@test "a null label or annotation value is Go's empty string: accepted and stored as \"\"" {
    api POST /api/v1/namespaces/default/configmaps '{"metadata":{"name":"nullmap","labels":{"a":null},"annotations":{"b":null}}}'
    [ "$code" = 201 ]
    [ "$(jqb '.metadata.labels.a | type')" = string ]
    [ "$(jqb '.metadata.annotations.b | type')" = string ]
    api GET "/api/v1/namespaces/default/configmaps?labelSelector=a%3D"
    [ "$(jqb '[.items[].metadata.name] | join(",")')" = nullmap ]
    api PUT /api/v1/namespaces/default/configmaps/nullmap '{"metadata":{"name":"nullmap","labels":{"c":null}}}'
    [ "$code" = 200 ]
    [ "$(jqb '.metadata.labels.c')" = "" ]
}

@test "Secret data: illegal base64 offsets are Go's StdEncoding ones" {
    for pair in 'Zg=|3' 'Zg=x|2' 'Zg=\nx|3' 'Zm9v\nZ\n|6' 'Zg==Zg==|4' 'Z===|1'; do
        local in=${pair%|*} at=${pair#*|}
        api POST /api/v1/namespaces/default/secrets "{\"metadata\":{\"name\":\"b64\"},\"data\":{\"k\":\"$in\"}}"
        [ "$code" = 422 ]
        [ "$(jqb .message)" = "Secret \"b64\" is invalid: data[k]: Invalid value: illegal base64 data at input byte $at" ]
    done
    api POST /api/v1/namespaces/default/secrets '{"metadata":{"name":"b64ok"},"data":{"k":"Zg\n=\n=\n"}}'
    [ "$code" = 201 ]
}
