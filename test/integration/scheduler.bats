#!/usr/bin/env bats
# bin/kube-scheduler against a real etcd + kube-apiserver with fake Nodes (no kubelets): pods
# get bound (spec.nodeName, PodScheduled=True, a Scheduled event), nodeSelector is honoured, a
# pod that fits nowhere gets PodScheduled=False/Unschedulable with upstream's message and a
# FailedScheduling event, and is scheduled once a big enough node appears.

load_lib() {
    CKUBE_ROOT=${CKUBE_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
    . "$CKUBE_ROOT/test/lib/apiserver.sh"
}

setup_file() {
    load_lib
    ck_apiserver_start
    CK_SCHED_DIR=$(mktemp -d /tmp/ckube-schedrun.XXXXXX)
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
    CK_SCHED_PORT=$(ck_free_port)
    "${CKUBE_BIN:-$CKUBE_ROOT/bin}/kube-scheduler" --kubeconfig="$CK_SCHED_DIR/kubeconfig" \
        --secure-port="$CK_SCHED_PORT" --cert-dir="$CK_SCHED_DIR" --leader-elect=false --v=2 >"$CK_SCHED_DIR/kube-scheduler.log" 2>&1 &
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
        local code=0
        wait "$CK_SCHED_PID" 2>/dev/null || code=$?
        if [ "$code" != 0 ]; then
            echo "kube-scheduler did not stop gracefully on SIGTERM (status $code)" >&2
            rc=1
        fi
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

# create_node NAME CPU MEMORY [LABELS-JSON]
create_node() {
    local labels=${4:-'{}'}
    ck_kubectl create -f - >/dev/null <<JSON
{"apiVersion": "v1", "kind": "Node",
 "metadata": {"name": "$1", "labels": $labels},
 "status": {"capacity": {"cpu": "$2", "memory": "$3", "pods": "110"},
            "allocatable": {"cpu": "$2", "memory": "$3", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "kubelet is posting ready status"}]}}
JSON
}

# create_pod NAME CPU [NODESELECTOR-JSON]
create_pod() {
    local sel=${3:-'{}'}
    ck_kubectl create -f - >/dev/null <<JSON
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "$1", "namespace": "default"},
 "spec": {"nodeSelector": $sel,
          "containers": [{"name": "c", "image": "busybox:1.36",
                          "resources": {"requests": {"cpu": "$2", "memory": "64Mi"}}}]}}
JSON
}

# wait_for CMD...: retries the command for up to 15 s
wait_for() {
    local i
    for i in $(seq 1 150); do
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

has_condition() { # POD STATUS REASON
    local got
    got=$(ck_kubectl get pod "$1" -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].status}/{.status.conditions[?(@.type=="PodScheduled")].reason}')
    [ "$got" = "$2/$3" ]
}

@test "nodes are created with allocatable resources and Ready" {
    create_node node-a 2 4Gi '{"disk": "hdd"}'
    create_node node-b 2 4Gi '{"disk": "ssd"}'
    run ck_kubectl get nodes -o jsonpath='{.items[*].metadata.name}'
    [ "$status" = 0 ]
    [ "$output" = "node-a node-b" ]
}

@test "a pod is bound to a node and gets PodScheduled=True and a Scheduled event" {
    create_pod web 100m
    wait_for bound web
    run node_of web
    [[ "$output" = node-a || "$output" = node-b ]]
    local node=$output
    run ck_kubectl get pod web -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].status}'
    [ "$output" = "True" ]
    wait_for sh -c "KUBECONFIG=/dev/null /usr/bin/kubectl --server=$CK_API get events --field-selector reason=Scheduled -o jsonpath='{.items[*].message}' | grep -q 'Successfully assigned default/web to $node'"
    run ck_kubectl get pods -o wide
    [ "$status" = 0 ]
    [[ "${lines[0]}" == *NODE* ]]
    [[ "${lines[1]}" == web*"$node"* ]]
}

@test "a pod with a nodeSelector lands on the labelled node" {
    create_pod fast 100m '{"disk": "ssd"}'
    create_pod slow 100m '{"disk": "hdd"}'
    wait_for bound fast
    wait_for bound slow
    run node_of fast
    [ "$output" = node-b ]
    run node_of slow
    [ "$output" = node-a ]
}

@test "a pod that fits nowhere is Unschedulable with upstream's message and event" {
    create_pod huge 3
    wait_for has_condition huge False Unschedulable
    run node_of huge
    [ "$output" = "" ]
    run ck_kubectl get pod huge -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].message}'
    [ "$output" = "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.." ]
    run ck_kubectl get pod huge -o jsonpath='{.status.phase}'
    [ "$output" = "Pending" ]
    wait_for sh -c "KUBECONFIG=/dev/null /usr/bin/kubectl --server=$CK_API get events --field-selector reason=FailedScheduling,involvedObject.name=huge -o jsonpath='{.items[0].type}' | grep -qx Warning"
    run ck_kubectl get events --field-selector reason=FailedScheduling,involvedObject.name=huge -o jsonpath='{.items[0].message}'
    [ "$output" = "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.." ]
}

@test "adding a big enough node schedules the pending pod" {
    create_node node-big 8 16Gi
    wait_for bound huge
    run node_of huge
    [ "$output" = node-big ]
    # the binding sets PodScheduled=True
    wait_for sh -c "KUBECONFIG=/dev/null /usr/bin/kubectl --server=$CK_API get pod huge -o jsonpath='{.status.conditions[?(@.type==\"PodScheduled\")].status}' | grep -qx True"
}

@test "a higher-priority pod preempts a lower one and is nominated, then bound" {
    create_pod lowfill 1500m '{"disk": "hdd"}'
    wait_for bound lowfill
    run node_of lowfill
    [ "$output" = node-a ]
    ck_kubectl create priorityclass high --value=1000 >/dev/null
    ck_kubectl create -f - >/dev/null <<JSON
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "vip", "namespace": "default"},
 "spec": {"nodeSelector": {"disk": "hdd"}, "priorityClassName": "high",
          "containers": [{"name": "c", "image": "busybox:1.36",
                          "resources": {"requests": {"cpu": "1500m"}}}]}}
JSON
    wait_for sh -c "KUBECONFIG=/dev/null /usr/bin/kubectl --server=$CK_API get pod vip -o jsonpath='{.status.nominatedNodeName}' | grep -qx node-a"
    # the victim is being deleted (no kubelet finishes it); the slow pod was spared
    run ck_kubectl get pod lowfill -o jsonpath='{.metadata.deletionTimestamp}'
    [ -n "$output" ]
    run ck_kubectl get pod slow -o jsonpath='{.metadata.deletionTimestamp}'
    [ -z "$output" ]
    run ck_kubectl get events --field-selector reason=Preempted,involvedObject.name=lowfill -o jsonpath='{.items[0].message}'
    [[ "$output" == "Preempted by pod "*" on node node-a" ]]
    run node_of vip
    [ "$output" = "" ]
    ck_kubectl delete pod lowfill --grace-period=0 --force >/dev/null 2>&1
    wait_for bound vip
    # Priority admission resolved the class into the pod
    run ck_kubectl get pod vip -o jsonpath='{.spec.priority} {.spec.preemptionPolicy}'
    [ "$output" = "1000 PreemptLowerPriority" ]
    run node_of vip
    [ "$output" = node-a ]
}

@test "metrics count the attempts and the pending pods" {
    run curl -ksS "https://127.0.0.1:$CK_SCHED_PORT/metrics"
    [ "$status" = 0 ]
    [[ "$output" == *'scheduler_schedule_attempts_total{profile="default-scheduler",result="scheduled"} 6'* ]]
    # huge once, vip at least once (more when an event moved it back before the victim went)
    local unsched
    unsched=$(echo "$output" | awk '/^scheduler_schedule_attempts_total\{profile="default-scheduler",result="unschedulable"\}/ {print $2}')
    [ "$unsched" -ge 2 ]
    [[ "$output" == *'scheduler_pending_pods{queue="active"} 0'* ]]
    [[ "$output" == *'scheduler_pending_pods{queue="unschedulable"} 0'* ]]
    [[ "$output" == *'scheduler_scheduling_attempt_duration_seconds_count{profile="default-scheduler",result="scheduled"} 6'* ]]
}
