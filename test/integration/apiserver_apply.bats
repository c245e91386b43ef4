#!/usr/bin/env bats
# Server-side apply, managedFields and fieldValidation with the real kubectl v1.32: apply
# --server-side create/update/no-op, conflicts as upstream's 409 and --force-conflicts, two
# managers on different containers, client-side to server-side apply migration,
# `kubectl create --validate=strict|warn|false`, `kubectl diff --server-side`, and managedFields
# as `kubectl get -o yaml --show-managed-fields` prints them.

load_lib() {
    CKUBE_ROOT=${CKUBE_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
    . "$CKUBE_ROOT/test/lib/apiserver.sh"
}

setup_file() {
    load_lib
    ck_apiserver_start
    export CK_APPLY_DIR
    CK_APPLY_DIR=$(mktemp -d /tmp/ckube-apply.XXXXXX)
}

teardown_file() {
    load_lib
    [ -n "${CK_APPLY_DIR:-}" ] && rm -rf "$CK_APPLY_DIR"
    ck_apiserver_stop
}

setup() {
    load_lib
}

# deployment NAME REPLICAS IMAGE > file
deployment() {
    cat <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $1
  labels: {app: $1}
spec:
  replicas: $2
  selector:
    matchLabels: {app: $1}
  template:
    metadata:
      labels: {app: $1}
    spec:
      containers:
      - name: main
        image: $3
        ports:
        - containerPort: 80
EOF
}

rv() {
    ck_kubectl get deployment "$1" -o jsonpath='{.metadata.resourceVersion}'
}

@test "apply --server-side creates, updates, and a re-apply changes nothing" {
    deployment ssa 2 nginx:1.25 >"$CK_APPLY_DIR/ssa.yaml"
    run ck_kubectl apply --server-side -f "$CK_APPLY_DIR/ssa.yaml"
    [ "$status" = 0 ]
    [ "$output" = "deployment.apps/ssa serverside-applied" ]
    local before
    before=$(rv ssa)
    run ck_kubectl apply --server-side -f "$CK_APPLY_DIR/ssa.yaml"
    [ "$output" = "deployment.apps/ssa serverside-applied" ]
    [ "$(rv ssa)" = "$before" ]
    deployment ssa 3 nginx:1.26 >"$CK_APPLY_DIR/ssa.yaml"
    run ck_kubectl apply --server-side -f "$CK_APPLY_DIR/ssa.yaml"
    [ "$output" = "deployment.apps/ssa serverside-applied" ]
    run ck_kubectl get deployment ssa -o jsonpath='{.spec.replicas} {.spec.template.spec.containers[0].image} {.metadata.managedFields[0].manager} {.metadata.managedFields[0].operation}'
    [ "$output" = "3 nginx:1.26 kubectl Apply" ]
}

@test "managedFields print as upstream's for an apply" {
    run ck_kubectl get deployment ssa -o yaml --show-managed-fields
    [ "$status" = 0 ]
    local want
    want=$(cat <<'EOF'
  managedFields:
  - apiVersion: apps/v1
    fieldsType: FieldsV1
    fieldsV1:
      f:metadata:
        f:labels:
          f:app: {}
      f:spec:
        f:replicas: {}
        f:selector: {}
        f:template:
          f:metadata:
            f:labels:
              f:app: {}
          f:spec:
            f:containers:
              k:{"name":"main"}:
                .: {}
                f:image: {}
                f:name: {}
                f:ports:
                  k:{"containerPort":80,"protocol":"TCP"}:
                    .: {}
                    f:containerPort: {}
    manager: kubectl
    operation: Apply
EOF
)
    [[ "$output" == *"$want"* ]]
}

@test "managedFields print as upstream's for kubectl create" {
    ck_kubectl create deployment made --image=busybox:1.36 >/dev/null
    run ck_kubectl get deployment made -o yaml --show-managed-fields
    local want
    want=$(cat <<'EOF'
    fieldsV1:
      f:metadata:
        f:labels:
          .: {}
          f:app: {}
      f:spec:
        f:progressDeadlineSeconds: {}
        f:replicas: {}
        f:revisionHistoryLimit: {}
        f:selector: {}
        f:strategy:
          f:rollingUpdate:
            .: {}
            f:maxSurge: {}
            f:maxUnavailable: {}
          f:type: {}
        f:template:
          f:metadata:
            f:labels:
              .: {}
              f:app: {}
          f:spec:
            f:containers:
              k:{"name":"busybox"}:
                .: {}
                f:image: {}
                f:imagePullPolicy: {}
                f:name: {}
                f:resources: {}
                f:terminationMessagePath: {}
                f:terminationMessagePolicy: {}
            f:dnsPolicy: {}
            f:restartPolicy: {}
            f:schedulerName: {}
            f:securityContext: {}
            f:terminationGracePeriodSeconds: {}
    manager: kubectl-create
    operation: Update
EOF
)
    [[ "$output" == *"$want"* ]]
    # a label added by kubectl label is the new manager's
    ck_kubectl label deployment made tier=web >/dev/null
    run ck_kubectl get deployment made -o jsonpath='{.metadata.managedFields[1].manager} {.metadata.managedFields[1].fieldsV1}'
    [ "$output" = 'kubectl-label {"f:metadata":{"f:labels":{"f:tier":{}}}}' ]
}

@test "a conflict is upstream's 409, and --force-conflicts takes the field" {
    ck_kubectl patch deployment ssa -p '{"spec":{"replicas":5}}' >/dev/null
    deployment ssa 1 nginx:1.26 >"$CK_APPLY_DIR/ssa1.yaml"
    run ck_kubectl apply --server-side -f "$CK_APPLY_DIR/ssa1.yaml"
    [ "$status" = 1 ]
    [ "${lines[0]}" = 'error: Apply failed with 1 conflict: conflict with "kubectl-patch" using apps/v1: .spec.replicas' ]
    [ "$(ck_kubectl get deployment ssa -o jsonpath='{.spec.replicas}')" = 5 ]
    run ck_kubectl apply --server-side --force-conflicts -f "$CK_APPLY_DIR/ssa1.yaml"
    [ "$output" = "deployment.apps/ssa serverside-applied" ]
    run ck_kubectl get deployment ssa -o jsonpath='{.spec.replicas} {.metadata.managedFields[*].manager}'
    [ "$output" = "1 kubectl" ]
}

@test "a conflict with client-side apply names its manager; the Status is upstream's" {
    deployment csa 2 nginx:1.25 >"$CK_APPLY_DIR/csa.yaml"
    run ck_kubectl apply -f "$CK_APPLY_DIR/csa.yaml"
    [ "$output" = "deployment.apps/csa created" ]
    run ck_curl PATCH '/apis/apps/v1/namespaces/default/deployments/csa?fieldManager=other' \
        '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"csa"},"spec":{"replicas":7}}' \
        application/apply-patch+yaml
    [ "${lines[-1]}" = 409 ]
    run jq -c '{reason,code,message,causes:.details.causes}' <<<"${output%$'\n'*}"
    [ "$output" = '{"reason":"Conflict","code":409,"message":"Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas","causes":[{"reason":"FieldManagerConflict","message":"conflict with \"kubectl-client-side-apply\" using apps/v1","field":".spec.replicas"}]}' ]
}

@test "apply without fieldManager is rejected as upstream" {
    run ck_curl PATCH '/apis/apps/v1/namespaces/default/deployments/csa' \
        '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"csa"}}' \
        application/apply-patch+yaml
    [ "${lines[-1]}" = 422 ]
    [[ "$output" == *'"message":"PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"'* ]]
}

@test "client-side apply then server-side apply migrates ownership" {
    # the same configuration applies cleanly and kubectl moves client-side ownership over
    run ck_kubectl apply --server-side -f "$CK_APPLY_DIR/csa.yaml"
    [ "$status" = 0 ]
    [ "$output" = "deployment.apps/csa serverside-applied" ]
    run ck_kubectl get deployment csa -o jsonpath='{range .metadata.managedFields[*]}{.manager}/{.operation} {end}'
    [ "$output" = "kubectl/Apply kubectl-last-applied/Apply " ]
    # so a changed value is no conflict any more
    deployment csa 4 nginx:1.25 >"$CK_APPLY_DIR/csa4.yaml"
    run ck_kubectl apply --server-side -f "$CK_APPLY_DIR/csa4.yaml"
    [ "$output" = "deployment.apps/csa serverside-applied" ]
    [ "$(ck_kubectl get deployment csa -o jsonpath='{.spec.replicas}')" = 4 ]
}

@test "two managers own different containers; dropping one removes only it" {
    cat >"$CK_APPLY_DIR/sidecar.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ssa
spec:
  template:
    spec:
      containers:
      - name: sidecar
        image: busybox:1.36
EOF
    run ck_kubectl apply --server-side --field-manager=mesh -f "$CK_APPLY_DIR/sidecar.yaml"
    [ "$output" = "deployment.apps/ssa serverside-applied" ]
    run ck_kubectl get deployment ssa -o jsonpath='{.spec.template.spec.containers[*].name}'
    [ "$output" = "main sidecar" ]
    # the owner of main changes its image: no conflict with mesh
    deployment ssa 1 nginx:1.27 >"$CK_APPLY_DIR/ssa2.yaml"
    run ck_kubectl apply --server-side -f "$CK_APPLY_DIR/ssa2.yaml"
    [ "$output" = "deployment.apps/ssa serverside-applied" ]
    run ck_kubectl get deployment ssa -o jsonpath='{.spec.template.spec.containers[*].image}'
    [ "$output" = "nginx:1.27 busybox:1.36" ]
    # mesh applies a configuration without its container: the container goes
    cat >"$CK_APPLY_DIR/nosidecar.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ssa
  annotations: {mesh: "off"}
EOF
    run ck_kubectl apply --server-side --field-manager=mesh -f "$CK_APPLY_DIR/nosidecar.yaml"
    [ "$output" = "deployment.apps/ssa serverside-applied" ]
    run ck_kubectl get deployment ssa -o jsonpath='{.spec.template.spec.containers[*].name} {.metadata.annotations.mesh}'
    [ "$output" = "main off" ]
}

@test "kubectl diff --server-side shows the server-side diff" {
    deployment ssa 1 nginx:1.28 >"$CK_APPLY_DIR/ssa3.yaml"
    run ck_kubectl diff --server-side -f "$CK_APPLY_DIR/ssa3.yaml"
    [ "$status" = 1 ]
    [[ "$output" == *$'\n-      - image: nginx:1.27\n+      - image: nginx:1.28\n'* ]]
    [[ "$output" == *$'\n-  generation: '* ]]
    # dry run: nothing changed
    [ "$(ck_kubectl get deployment ssa -o jsonpath='{.spec.template.spec.containers[0].image}')" = nginx:1.27 ]
}

@test "fieldValidation: kubectl create --validate=strict|warn|false" {
    cat >"$CK_APPLY_DIR/bad.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: fv
  bogus: 1
data:
  a: "1"
foo: bar
EOF
    run ck_kubectl create -f "$CK_APPLY_DIR/bad.yaml" --validate=strict
    [ "$status" = 1 ]
    [ "$output" = 'Error from server (BadRequest): error when creating "'"$CK_APPLY_DIR"'/bad.yaml": ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "foo", unknown field "metadata.bogus"' ]
    run ck_kubectl create -f "$CK_APPLY_DIR/bad.yaml" --validate=warn
    [ "$status" = 0 ]
    [ "${lines[0]}" = 'Warning: unknown field "foo"' ]
    [ "${lines[1]}" = 'Warning: unknown field "metadata.bogus"' ]
    [ "${lines[2]}" = "configmap/fv created" ]
    # unknown fields are dropped, as upstream's decoder does
    run ck_kubectl get configmap fv -o jsonpath='{.metadata}'
    [[ "$output" != *bogus* ]]
    ck_kubectl delete configmap fv >/dev/null
    run ck_kubectl create -f "$CK_APPLY_DIR/bad.yaml" --validate=false
    [ "$output" = "configmap/fv created" ]
}

@test "fieldValidation on update and patch, and duplicate fields" {
    run ck_curl POST '/api/v1/namespaces/default/configmaps?fieldValidation=Strict' \
        '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup","name":"dup"},"data":{"a":"1"}}'
    [ "${lines[-1]}" = 400 ]
    [[ "$output" == *'"message":"ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: duplicate field \"metadata.name\""'* ]]
    run ck_curl PATCH '/api/v1/namespaces/default/configmaps/fv?fieldValidation=Strict' \
        '{"spec":{"x":1}}' application/merge-patch+json
    [ "${lines[-1]}" = 400 ]
    [[ "$output" == *'"message":"strict decoding error: unknown field \"spec\""'* ]]
    run curl -sS -D - -o /dev/null -X PATCH -H 'Content-Type: application/merge-patch+json' \
        --data-binary '{"spec":{"x":1}}' "$CK_API/api/v1/namespaces/default/configmaps/fv"
    [[ "$output" == *$'Warning: 299 - "unknown field \\"spec\\""\r'* ]]
    run ck_curl PUT '/api/v1/namespaces/default/configmaps/fv?fieldValidation=Ignore' \
        '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fv"},"data":{"a":"2"},"zzz":1}'
    [ "${lines[-1]}" = 200 ]
    [[ "$output" != *zzz* ]]
    run ck_curl POST '/api/v1/namespaces/default/configmaps?fieldValidation=strict' \
        '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}'
    [ "${lines[-1]}" = 422 ]
    [[ "$output" == *'fieldValidation: Unsupported value: \"strict\": supported values: \"\", \"Ignore\", \"Strict\", \"Warn\"'* ]]
}
