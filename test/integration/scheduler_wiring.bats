#!/usr/bin/env bats
# What kube-scheduler's run.c wires beyond Pods and Nodes, against a real etcd + kube-apiserver
# with fake Nodes (no kubelets):
#  - PodTopologySpread's system default constraints (hostname maxSkew 3, zone maxSkew 5,
#    ScheduleAnyway) built from the Services selecting a pod: such pods spread over nodes that
#    resource scoring alone would not use, pods no Service selects do not;
#  - preemption prefers victims whose eviction does not violate a PodDisruptionBudget, and
#    marks the victim DisruptionTarget=True/PreemptionByScheduler before deleting it;
#  - --config: a KubeSchedulerConfiguration is read (here percentageOfNodesToScore and the
#    backoff seconds) and an invalid one stops the binary with upstream's validation message.

load_lib() {
    CKUBE_ROOT=${CKUBE_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
    . "$CKUBE_ROOT/test/lib/apiserver.sh"
}

sched_bin() {
    echo "${CK_SCHED_BIN:-${CKUBE_BIN:-$CKUBE_ROOT/bin}/kube-scheduler}"
}

setup_file() {
    load_lib
    ck_apiserver_start
    CK_SCHED_DIR=$(mktemp -d /tmp/ckube-schedlisters.XXXXXX)
    cat >"$CK_SCHED_DIR/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: $CK_API
users:
- name: test
  user: {}
contexts:
- name: test
  context:
    cluster: test
    user: test
current-context: test
KC
    cat >"$CK_SCHED_DIR/config.yaml" <<CFG
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 100
podInitialBackoffSeconds: 1
podMaxBackoffSeconds: 5
CFG
    CK_SCHED_PORT=$(ck_free_port)
    "$(sched_bin)" --kubeconfig="$CK_SCHED_DIR/kubeconfig" --secure-port="$CK_SCHED_PORT" \
        --config="$CK_SCHED_DIR/config.yaml" --cert-dir="$CK_SCHED_DIR" --leader-elect=false --v=2 >"$CK_SCHED_DIR/kube-scheduler.log" 2>&1 &
    CK_SCHED_PID=$!
    export CK_SCHED_DIR CK_SCHED_PID CK_SCHED_PORT
}

teardown_file() {
    load_lib
    local rc=0
    if [ -n "${CK_SCHED_PID:-}" ]; then
        kill "$CK_SCHED_PID" 2>/dev/null
        local i
        for i in $(seq 1 50); do
            kill -0 "$CK_SCHED_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$CK_SCHED_PID" 2>/dev/null
        wait "$CK_SCHED_PID" 2>/dev/null
        if grep -q "ERROR: AddressSanitizer\|runtime error:\|ERROR: LeakSanitizer" \
            "$CK_SCHED_DIR/kube-scheduler.log"; then
            echo "sanitizer report in kube-scheduler log:" >&2
            cat "$CK_SCHED_DIR/kube-scheduler.log" >&2
            rc=1
        fi
    fi
    [ -n "${CK_SCHED_DIR:-}" ] && rm -rf "$CK_SCHED_DIR"
    ck_apiserver_stop || rc=1
    return $rc
}

setup() {
    load_lib
}

# create_node NAME CPU MEMORY LABELS-JSON
create_node() {
    ck_kubectl create -f - >/dev/null <<JSON
{"apiVersion": "v1", "kind": "Node",
 "metadata": {"name": "$1", "labels": $4},
 "status": {"capacity": {"cpu": "$2", "memory": "$3", "pods": "110"},
            "allocatable": {"cpu": "$2", "memory": "$3", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "kubelet is posting ready status"}]}}
JSON
}

# create_pod NAME LABELS-JSON CPU NODESELECTOR-JSON [PRIORITYCLASS]
create_pod() {
    local pc=""
    [ -n "${5:-}" ] && pc="\"priorityClassName\": \"$5\","
    ck_kubectl create -f - >/dev/null <<JSON
{"apiVersion": "v1", "kind": "Pod",
 "metadata": {"name": "$1", "namespace": "default", "labels": $2},
 "spec": {$pc "nodeSelector": $4,
          "containers": [{"name": "c", "image": "busybox:1.36",
                          "resources": {"requests": {"cpu": "$3", "memory": "64Mi"}}}]}}
JSON
}

# wait_for CMD...: retries the command for up to 20 s
wait_for() {
    local i
    for i in $(seq 1 200); do
        "$@" && return 0
        sleep 0.1
    done
    "$@"
}

node_of() {
    ck_kubectl get pod "$1" -o jsonpath='{.spec.nodeName}'
}

bound() {
    [ -n "$(node_of "$1")" ]
}

all_bound() { # PREFIX N
    local i
    for i in $(seq 1 "$2"); do bound "$1$i" || return 1; done
}

# how many of PREFIX1..N landed on NODE
count_on() { # PREFIX N NODE
    local i n=0
    for i in $(seq 1 "$2"); do
        [ "$(node_of "$1$i")" = "$3" ] && n=$((n + 1))
    done
    echo "$n"
}

@test "pods no Service selects all go where resource scoring sends them" {
    create_node big 64 256Gi '{"kubernetes.io/hostname": "big", "pool": "spread"}'
    create_node small 4 16Gi '{"kubernetes.io/hostname": "small", "pool": "spread"}'
    local i
    for i in 1 2 3 4 5 6; do
        create_pod lone$i '{"app": "lone"}' 100m '{"pool": "spread"}'
        wait_for bound lone$i
    done
    run count_on lone 6 big
    [ "$output" = 6 ]
}

@test "pods a Service selects are spread by the default topology constraints" {
    ck_kubectl create -f - >/dev/null <<JSON
{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
 "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}
JSON
    sleep 1 # the scheduler's Service informer sees it
    local i
    for i in 1 2 3 4 5 6; do
        create_pod web$i '{"app": "web"}' 100m '{"pool": "spread"}'
        wait_for bound web$i
    done
    run count_on web 6 small
    [ "$output" -ge 2 ]
    run count_on web 6 big
    [ "$output" -ge 2 ]
}

@test "preemption spares the victim a PodDisruptionBudget protects" {
    create_node tight 2 8Gi '{"kubernetes.io/hostname": "tight", "pool": "tight"}'
    ck_kubectl create priorityclass low --value=10 >/dev/null
    ck_kubectl create priorityclass mid --value=20 >/dev/null
    ck_kubectl create priorityclass top --value=1000 >/dev/null
    # guarded has the lower priority, so without the PDB it would be the one to go
    ck_kubectl create -f - >/dev/null <<JSON
{"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
 "metadata": {"name": "guard", "namespace": "default"},
 "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "guarded"}}}}
JSON
    create_pod guarded '{"app": "guarded"}' 1 '{"pool": "tight"}' low
    wait_for bound guarded
    create_pod plain '{"app": "plain"}' 1 '{"pool": "tight"}' mid
    wait_for bound plain
    sleep 1 # the PDB informer has synced long ago; make sure the cache has both pods
    create_pod vip '{"app": "vip"}' 1 '{"pool": "tight"}' top
    wait_for sh -c "KUBECONFIG=/dev/null /usr/bin/kubectl --server=$CK_API get pod vip -o jsonpath='{.status.nominatedNodeName}' | grep -qx tight"
    run ck_kubectl get pod plain -o jsonpath='{.metadata.deletionTimestamp}'
    [ -n "$output" ]
    run ck_kubectl get pod guarded -o jsonpath='{.metadata.deletionTimestamp}'
    [ -z "$output" ]
    # the victim was told why before it was deleted (upstream's PodDisruptionConditions)
    run ck_kubectl get pod plain -o jsonpath='{.status.conditions[?(@.type=="DisruptionTarget")].status}/{.status.conditions[?(@.type=="DisruptionTarget")].reason}/{.status.conditions[?(@.type=="DisruptionTarget")].message}'
    [ "$output" = "True/PreemptionByScheduler/default-scheduler: preempting to accommodate a higher priority pod" ]
}

@test "an invalid --config stops kube-scheduler with upstream's validation message" {
    cat >"$CK_SCHED_DIR/bad.yaml" <<CFG
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 101
CFG
    run timeout 20 "$(sched_bin)" --kubeconfig="$CK_SCHED_DIR/kubeconfig" \
        --secure-port="$(ck_free_port)" --config="$CK_SCHED_DIR/bad.yaml" --leader-elect=false
    [ "$status" = 1 ]
    [[ "$output" == *"percentageOfNodesToScore: Invalid value: 101: not in valid range [0-100]"* ]]
    run timeout 20 "$(sched_bin)" --kubeconfig="$CK_SCHED_DIR/kubeconfig" \
        --secure-port="$(ck_free_port)" --config="$CK_SCHED_DIR/missing.yaml" --leader-elect=false
    [ "$status" = 1 ]
    [[ "$output" == *"failed to read config file"* ]]
}
