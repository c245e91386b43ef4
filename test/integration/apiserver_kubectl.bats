#!/usr/bin/env bats
# The real kubectl v1.32 against kube-apiserver: typed (protobuf) creates, server-side printing,
# apply and the three patch types, explain, scale.

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

@test "typed creates (protobuf bodies) produce upstream's defaults" {
    run ck_kubectl create deployment web --image=busybox:1.36 --replicas=2
    [ "$status" = 0 ]
    [ "$output" = "deployment.apps/web created" ]
    run ck_kubectl get deployment web -o jsonpath='{.spec.strategy.rollingUpdate.maxSurge} {.spec.revisionHistoryLimit} {.spec.template.spec.containers[0].imagePullPolicy} {.spec.template.spec.restartPolicy}'
    [ "$output" = "25% 10 IfNotPresent Always" ]
    run ck_kubectl create secret generic s1 --from-literal=password=hunter2
    [ "$status" = 0 ]
    run ck_kubectl get secret s1 -o jsonpath='{.data.password} {.type}'
    [ "$output" = "aHVudGVyMg== Opaque" ]
    run ck_kubectl create namespace team-a
    [ "$output" = "namespace/team-a created" ]
    run ck_kubectl get ns team-a -o jsonpath='{.status.phase}'
    [ "$output" = Active ]
}

@test "kubectl get prints upstream's columns from the server's Table" {
    ck_kubectl create configmap tbl --from-literal=a=1 --from-literal=b=2 >/dev/null
    run ck_kubectl get configmap tbl
    [ "${lines[0]}" = "NAME   DATA   AGE" ]
    [[ "${lines[1]}" =~ ^tbl\ +2\ +[0-9]+s$ ]]
    run ck_kubectl get deployment web -o wide
    [[ "${lines[0]}" =~ ^NAME\ +READY\ +UP-TO-DATE\ +AVAILABLE\ +AGE\ +CONTAINERS\ +IMAGES\ +SELECTOR$ ]]
    [[ "${lines[1]}" =~ ^web\ +0/2\ +0\ +0\ +[0-9]+s\ +busybox\ +busybox:1.36\ +app=web$ ]]
    run ck_kubectl get namespaces
    [[ "${lines[0]}" =~ ^NAME\ +STATUS\ +AGE$ ]]
    run ck_kubectl get configmap tbl --show-labels
    [[ "${lines[0]}" =~ LABELS$ ]]
}

@test "kubectl apply creates, then configures with a strategic merge patch" {
    cat >"$BATS_TEST_TMPDIR/d.yaml" <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: applied
spec:
  replicas: 1
  selector:
    matchLabels: {app: applied}
  template:
    metadata:
      labels: {app: applied}
    spec:
      containers:
      - name: main
        image: busybox:1.36
        env:
        - {name: A, value: "1"}
Y
    run ck_kubectl apply -f "$BATS_TEST_TMPDIR/d.yaml"
    [ "$output" = "deployment.apps/applied created" ]
    sed -i 's/value: "1"/value: "2"/; s/replicas: 1/replicas: 3/' "$BATS_TEST_TMPDIR/d.yaml"
    run ck_kubectl apply -f "$BATS_TEST_TMPDIR/d.yaml"
    [ "$output" = "deployment.apps/applied configured" ]
    run ck_kubectl get deploy applied -o jsonpath='{.spec.replicas} {.spec.template.spec.containers[0].env[0].value} {.metadata.generation}'
    [ "$output" = "3 2 2" ]
    run ck_kubectl apply -f "$BATS_TEST_TMPDIR/d.yaml"
    [ "$output" = "deployment.apps/applied unchanged" ]
}

@test "kubectl patch: strategic, merge and json patches; a failed json test is 422" {
    run ck_kubectl patch deploy applied -p '{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"busybox:1.37"}]}}}}'
    [ "$status" = 0 ]
    run ck_kubectl get deploy applied -o jsonpath='{range .spec.template.spec.containers[*]}{.name} {end}'
    [ "$output" = "side main " ]
    run ck_kubectl patch deploy applied --type=merge -p '{"metadata":{"labels":{"m":"x"}}}'
    [ "$status" = 0 ]
    run ck_kubectl patch deploy applied --type=json -p '[{"op":"replace","path":"/spec/replicas","value":4}]'
    [ "$status" = 0 ]
    run ck_kubectl get deploy applied -o jsonpath='{.spec.replicas} {.metadata.labels.m}'
    [ "$output" = "4 x" ]
    run ck_kubectl patch deploy applied --type=json -p '[{"op":"test","path":"/spec/replicas","value":9}]'
    [ "$status" != 0 ]
    [[ "$output" == *"testing value /spec/replicas failed"* ]]
}

@test "kubectl explain reads the served OpenAPI" {
    run ck_kubectl explain deployment.spec.strategy
    [ "$status" = 0 ]
    [[ "$output" == *"KIND:       Deployment"* ]]
    [[ "$output" == *"rollingUpdate"* ]]
}

@test "kubectl scale and label/annotate" {
    run ck_kubectl scale deployment web --replicas=5
    [ "$output" = "deployment.apps/web scaled" ]
    run ck_kubectl get deploy web -o jsonpath='{.spec.replicas}'
    [ "$output" = 5 ]
    run ck_kubectl label deployment web tier=front
    [ "$output" = "deployment.apps/web labeled" ]
    run ck_kubectl annotate deployment web note=hello
    [ "$output" = "deployment.apps/web annotated" ]
    run ck_kubectl get deploy -l tier=front -o name
    [ "$output" = "deployment.apps/web" ]
}

@test "validation errors reach the kubectl user in upstream's words" {
    run ck_kubectl create deployment Bad --image=busybox
    [ "$status" != 0 ]
    [[ "$output" == *'Deployment.apps "Bad" is invalid: metadata.name: Invalid value: "Bad": a lowercase RFC 1123 subdomain'* ]]
}

@test "aggregated discovery: kubectl needs only /api and /apis" {
    run curl -sS -H 'Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' "$CK_API/apis"
    [ "$(echo "$output" | jq -r .kind)" = APIGroupDiscoveryList ]
    [ "$(echo "$output" | jq -r '.items[] | select(.metadata.name=="apps") | .versions[0].resources[] | select(.resource=="deployments") | [.scope, .singularResource, (.shortNames|join(",")), (.subresources|map(.subresource)|join(","))] | join(" ")')" = "Namespaced deployment deploy status,scale" ]
    run ck_kubectl get pods -v=6
    [ "$status" = 0 ]
    [ "$(echo "$output" | grep -c 'GET .*/apis/[a-z.]*/v[0-9a-z]*?timeout')" = 0 ]
    run ck_kubectl api-resources --api-group=apps -o name
    [[ "$output" == *"deployments.apps"* ]]
}
