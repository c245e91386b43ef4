#!/usr/bin/env bats
# The everyday kubectl v1.32 commands against kube-apiserver + etcd, asserting kubectl's own
# output lines: version, api-versions, api-resources, the output formats, get -w and
# --watch-only, edit, wait, diff, get all and -A. No command may print a warning upstream
# would not print.

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

# kubectl with stderr kept apart in $BATS_TEST_TMPDIR/err
kc_quiet() {
    ck_kubectl "$@" 2>"$BATS_TEST_TMPDIR/err"
}

@test "kubectl version, api-versions and api-resources, without warnings" {
    run kc_quiet version -o json
    [ "$status" = 0 ]
    [[ "$(jq -r .serverVersion.gitVersion <<<"$output")" == v1.32.* ]]
    [ ! -s "$BATS_TEST_TMPDIR/err" ]
    run kc_quiet api-versions
    [ "$status" = 0 ]
    [[ "$output" == *$'\napps/v1\n'* ]]
    [[ "$output" == *$'\nv1' ]] || [[ "$output" == *$'\nv1\n'* ]]
    [[ "$output" == *"rbac.authorization.k8s.io/v1"* ]]
    run kc_quiet api-resources
    [ "$status" = 0 ]
    [[ "${lines[0]}" =~ ^NAME\ +SHORTNAMES\ +APIVERSION\ +NAMESPACED\ +KIND$ ]]
    [[ "$output" =~ $'\n'deployments\ +deploy\ +apps/v1\ +true\ +Deployment ]]
    [[ "$output" =~ $'\n'nodes\ +no\ +v1\ +false\ +Node ]]
    [ ! -s "$BATS_TEST_TMPDIR/err" ]
    run kc_quiet api-resources --namespaced=false -o name
    [[ "$output" == *$'\nnamespaces\n'* ]]
    [[ "$output" != *$'\npods\n'* ]]
}

@test "output formats: yaml, json, name, wide, jsonpath, custom-columns" {
    ck_kubectl create configmap fmt --from-literal=k=v >/dev/null
    run ck_kubectl get configmap fmt -o yaml
    [ "${lines[0]}" = "apiVersion: v1" ]
    [[ "$output" == *$'\ndata:\n  k: v\nkind: ConfigMap\n'* ]]
    run ck_kubectl get configmap fmt -o json
    [ "$(jq -r '.kind + "/" + .metadata.name + "=" + .data.k' <<<"$output")" = "ConfigMap/fmt=v" ]
    run ck_kubectl get configmap fmt -o name
    [ "$output" = "configmap/fmt" ]
    run ck_kubectl get configmap fmt -o jsonpath='{.metadata.name}:{.data.k}'
    [ "$output" = "fmt:v" ]
    run ck_kubectl get configmap fmt -o custom-columns=NAME:.metadata.name,VALUE:.data.k
    [ "${lines[0]}" = "NAME   VALUE" ]
    [ "${lines[1]}" = "fmt    v" ]
    ck_kubectl run pw --image=busybox:1.36 >/dev/null
    run ck_kubectl get pod pw -o wide
    [[ "${lines[0]}" =~ ^NAME\ +READY\ +STATUS\ +RESTARTS\ +AGE\ +IP\ +NODE\ +NOMINATED\ NODE\ +READINESS\ GATES$ ]]
    [[ "${lines[1]}" =~ ^pw\ +0/1\ +Pending\ +0\ +[0-9]+s\ +\<none\>\ +\<none\>\ +\<none\>\ +\<none\>$ ]]
}

@test "kubectl get -w prints changes; --watch-only skips the current state" {
    ck_kubectl create configmap w0 --from-literal=a=1 >/dev/null
    ck_kubectl get configmaps -w -o name >"$BATS_TEST_TMPDIR/w.out" 2>&1 &
    local all=$!
    ck_kubectl get configmaps --watch-only -o name >"$BATS_TEST_TMPDIR/wo.out" 2>&1 &
    local only=$!
    sleep 2
    ck_kubectl create configmap w1 --from-literal=a=1 >/dev/null
    local i
    for i in $(seq 1 40); do
        grep -qx configmap/w1 "$BATS_TEST_TMPDIR/w.out" &&
            grep -qx configmap/w1 "$BATS_TEST_TMPDIR/wo.out" && break
        sleep 0.25
    done
    kill "$all" "$only" 2>/dev/null || true
    wait "$all" "$only" 2>/dev/null || true
    grep -qx configmap/w0 "$BATS_TEST_TMPDIR/w.out"
    grep -qx configmap/w1 "$BATS_TEST_TMPDIR/w.out"
    grep -qx configmap/w1 "$BATS_TEST_TMPDIR/wo.out"
    ! grep -qx configmap/w0 "$BATS_TEST_TMPDIR/wo.out"
}

@test "kubectl edit saves the edited object; an unchanged edit says so" {
    ck_kubectl create configmap ed --from-literal=color=blue >/dev/null
    EDITOR="sed -i s/blue/green/" run ck_kubectl edit configmap ed
    [ "$status" = 0 ]
    [ "$output" = "configmap/ed edited" ]
    [ "$(ck_kubectl get configmap ed -o jsonpath='{.data.color}')" = green ]
    EDITOR=true run ck_kubectl edit configmap ed
    [ "$status" = 0 ]
    [ "$output" = "Edit cancelled, no changes made." ]
}

@test "kubectl wait for jsonpath values and for a deletion" {
    ck_kubectl create configmap wt --from-literal=state=new >/dev/null
    (sleep 1 && ck_kubectl patch configmap wt -p '{"data":{"state":"done"}}' >/dev/null) &
    run ck_kubectl wait configmap/wt --for=jsonpath='{.data.state}'=done --timeout=20s
    [ "$status" = 0 ]
    [ "$output" = "configmap/wt condition met" ]
    ck_kubectl create namespace waitns >/dev/null
    run ck_kubectl wait namespace/waitns --for=jsonpath='{.status.phase}'=Active --timeout=10s
    [ "$output" = "namespace/waitns condition met" ]
    (sleep 1 && ck_kubectl delete configmap wt >/dev/null) &
    run ck_kubectl wait configmap/wt --for=delete --timeout=20s
    [ "$status" = 0 ]
    [ "$output" = "configmap/wt condition met" ]
    wait
}

@test "kubectl diff shows the change and exits 1; no change exits 0" {
    cat >"$BATS_TEST_TMPDIR/cm.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: df
data:
  size: small
Y
    ck_kubectl apply -f "$BATS_TEST_TMPDIR/cm.yaml" >/dev/null
    run ck_kubectl diff -f "$BATS_TEST_TMPDIR/cm.yaml"
    [ "$status" = 0 ]
    [ -z "$output" ]
    sed -i 's/small/large/' "$BATS_TEST_TMPDIR/cm.yaml"
    run ck_kubectl diff -f "$BATS_TEST_TMPDIR/cm.yaml"
    [ "$status" = 1 ]
    [[ "$output" == *"-  size: small"* ]]
    [[ "$output" == *"+  size: large"* ]]
    # diff is a dry run: nothing changed
    [ "$(ck_kubectl get configmap df -o jsonpath='{.data.size}')" = small ]
}

@test "kubectl get all and -A list across kinds and namespaces" {
    ck_kubectl create namespace other >/dev/null
    ck_kubectl -n other create deployment ga --image=busybox:1.36 >/dev/null
    ck_kubectl -n other create service clusterip ga --tcp=80:8080 >/dev/null
    run ck_kubectl -n other get all
    [ "$status" = 0 ]
    [[ "$output" =~ service/ga\ +ClusterIP\ +10\. ]]
    [[ "$output" =~ deployment.apps/ga\ +0/1 ]]
    run ck_kubectl get deployments -A
    [[ "${lines[0]}" =~ ^NAMESPACE\ +NAME\ +READY\ +UP-TO-DATE\ +AVAILABLE\ +AGE$ ]]
    [[ "$output" =~ $'\n'other\ +ga\ +0/1 ]]
    ck_kubectl -n other create configmap in-other --from-literal=a=1 >/dev/null
    run ck_kubectl get configmaps -A
    [[ "${lines[0]}" =~ ^NAMESPACE\ +NAME\ +DATA\ +AGE$ ]]
    [[ "$output" =~ $'\n'other\ +in-other\ +1\  ]]
    [[ "$output" =~ $'\n'default\ +fmt\ +1\  ]]
}
