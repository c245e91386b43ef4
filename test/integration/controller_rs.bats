#!/usr/bin/env bats
# The ReplicaSet controller of kube-controller-manager against a real etcd + kube-apiserver:
# scale up/down with owner references and events, status from pod readiness (the test marks
# pods Ready through pods/status as a kubelet would), delete preference for not-ready pods,
# adoption of orphans and release of pods that stop matching, the ReplicaFailure condition and
# FailedCreate events when the apiserver refuses the pods, --concurrent-replicaset-syncs.

load_lib() {
    CKUBE_ROOT=${CKUBE_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
    . "$CKUBE_ROOT/test/lib/apiserver.sh"
    . "$CKUBE_ROOT/test/lib/kcm.sh"
}

setup_file() {
    load_lib
    ck_apiserver_start
    ck_kcm_start --controllers=replicaset-controller --concurrent-replicaset-syncs=3 --v=3
}

teardown_file() {
    load_lib
    ck_kcm_teardown
}

setup() {
    load_lib
}

# ck_kcm_wait_output CMD EXPECTED: polls `ck_kubectl CMD` (20 s) until its output equals EXPECTED.
rs_yaml() { # name replicas [minReadySeconds]
    cat <<EOF
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: $1
spec:
  replicas: $2
  minReadySeconds: ${3:-0}
  selector:
    matchLabels:
      app: $1
  template:
    metadata:
      labels:
        app: $1
        tier: web
    spec:
      containers:
      - name: c
        image: busybox:1.36
EOF
}

# mark_ready POD: what a kubelet reports for a running, ready pod.
mark_ready() {
    local now
    now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    ck_curl PATCH "/api/v1/namespaces/default/pods/$1/status" \
        "{\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":\"$now\"}]}}" \
        application/merge-patch+json >/dev/null
}

pods_of() {
    ck_kubectl get pods -l "app=$1" -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}'
}

@test "a ReplicaSet creates its pods with owner references, events and status" {
    rs_yaml web 3 | ck_kubectl apply -f -
    ck_kcm_wait_output 3 get rs web -o jsonpath='{.status.replicas}'
    run pods_of web
    [ "$(echo "$output" | wc -l)" = 3 ]
    for p in $output; do
        [[ $p =~ ^web-[bcdfghjklmnpqrstvwxz2456789]{5}$ ]]
    done
    uid=$(ck_kubectl get rs web -o jsonpath='{.metadata.uid}')
    run ck_kubectl get pods -l app=web -o jsonpath='{range .items[*]}{.metadata.ownerReferences[0].apiVersion} {.metadata.ownerReferences[0].kind} {.metadata.ownerReferences[0].name} {.metadata.ownerReferences[0].uid} {.metadata.ownerReferences[0].controller} {.metadata.ownerReferences[0].blockOwnerDeletion} {.metadata.labels.tier}{"\n"}{end}'
    [ "$(echo "$output" | sort -u)" = "apps/v1 ReplicaSet web $uid true true web" ]
    run ck_kubectl get rs web -o jsonpath='{.status.fullyLabeledReplicas} {.status.observedGeneration} {.status.readyReplicas}'
    [ "$output" = "3 1 " ]
    sleep 1 # events are written asynchronously
    run ck_kubectl get events -o jsonpath='{range .items[?(@.reason=="SuccessfulCreate")]}{.message}{"\n"}{end}'
    [ "$(echo "$output" | grep -c '^Created pod: web-')" = 3 ]
}

@test "readiness from pods/status drives readyReplicas and availableReplicas" {
    for p in $(pods_of web); do mark_ready "$p"; done
    ck_kcm_wait_output "3 3" get rs web -o jsonpath='{.status.readyReplicas} {.status.availableReplicas}'
    run ck_kubectl get rs web
    [ "$status" = 0 ]
    [[ ${lines[1]} =~ ^web\ +3\ +3\ +3\  ]]
}

@test "scaling down deletes the not-ready pod first and records SuccessfulDelete" {
    rs_yaml web 4 | ck_kubectl apply -f -
    ck_kcm_wait_output 4 get rs web -o jsonpath='{.status.replicas}'
    ck_kcm_wait_output "4 3" get rs web -o jsonpath='{.status.replicas} {.status.readyReplicas}'
    notready=$(ck_kubectl get pods -l app=web -o jsonpath='{range .items[*]}{.metadata.name} {.status.phase}{"\n"}{end}' | awk '$2 != "Running" {print $1}')
    [ -n "$notready" ]
    ck_kubectl scale rs web --replicas=3
    ck_kcm_wait_output "3 3 3" get rs web -o jsonpath='{.status.replicas} {.status.readyReplicas} {.status.observedGeneration}'
    run pods_of web
    [[ $output != *"$notready"* ]]
    run ck_kubectl get events -o jsonpath='{range .items[?(@.reason=="SuccessfulDelete")]}{.message}{"\n"}{end}'
    [[ $output == *"Deleted pod: $notready"* ]]
}

@test "minReadySeconds holds availableReplicas back until pods were ready long enough" {
    rs_yaml slow 1 3 | ck_kubectl apply -f -
    ck_kcm_wait_output 1 get rs slow -o jsonpath='{.status.replicas}'
    mark_ready "$(pods_of slow)"
    ck_kcm_wait_output 1 get rs slow -o jsonpath='{.status.readyReplicas}'
    run ck_kubectl get rs slow -o jsonpath='{.status.availableReplicas}'
    [ "$output" = "" ]
    ck_kcm_wait_output 1 get rs slow -o jsonpath='{.status.availableReplicas}'
}

@test "a matching orphan is adopted and a pod that stops matching is released" {
    ck_kubectl run orphan --image=busybox:1.36 --labels=app=web,tier=web
    # adopted, it makes four pods for three replicas: the not-ready orphan is the one deleted
    ck_kcm_wait_output "" get pods orphan --ignore-not-found -o name
    run ck_kubectl get events -o jsonpath='{range .items[?(@.reason=="SuccessfulDelete")]}{.message}{"\n"}{end}'
    [[ $output == *"Deleted pod: orphan"* ]]
    ck_kcm_wait_output 3 get rs web -o jsonpath='{.status.replicas}'
    victim=$(pods_of web | head -1)
    ck_kubectl label pod "$victim" app=other --overwrite
    ck_kcm_wait_output "" get pod "$victim" -o jsonpath='{.metadata.ownerReferences}'
    # a replacement is created for the released pod
    ck_kcm_wait_output 3 get rs web -o jsonpath='{.status.replicas}'
    run pods_of web
    [ "$(echo "$output" | wc -l)" = 3 ]
    [[ $output != *"$victim"* ]]
}

@test "deleting the pods of a ReplicaSet makes it recreate them" {
    ck_kubectl delete pods -l app=web --wait=false
    ck_kcm_wait_output 3 get rs web -o jsonpath='{.status.replicas}'
    run pods_of web
    [ "$(echo "$output" | wc -l)" = 3 ]
}

@test "--concurrent-replicaset-syncs sets the controller's worker count" {
    grep -q 'Controller workers controller="replicaset-controller" workers=3' "$CK_KCM_LOG"
    run grep -c 'Controller workers' "$CK_KCM_LOG"
    [ "$output" = 1 ] # --controllers=replicaset-controller: no other controller started
}

@test "a refused pod makes ReplicaFailure=True FailedCreate and a FailedCreate event; success clears it" {
    # Priority admission refuses pods naming a missing PriorityClass (403); ReplicaSet
    # validation does not look at it.
    rs_yaml nopc 2 | sed 's/^      containers:/      priorityClassName: ck-rs-missing\n      containers:/' |
        ck_kubectl apply -f -
    ck_kcm_wait_output "True FailedCreate" get rs nopc \
        -o jsonpath='{.status.conditions[?(@.type=="ReplicaFailure")].status} {.status.conditions[?(@.type=="ReplicaFailure")].reason}'
    run ck_kubectl get rs nopc -o jsonpath='{.status.conditions[?(@.type=="ReplicaFailure")].message}'
    [[ $output =~ ^pods\ \"nopc-[a-z0-9]{5}\"\ is\ forbidden:\ no\ PriorityClass\ with\ name\ ck-rs-missing\ was\ found$ ]]
    run ck_kubectl get rs nopc -o jsonpath='{.status.replicas} {.status.conditions[0].lastTransitionTime}'
    [[ $output =~ ^0\ [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]]
    run pods_of nopc
    [ "$output" = "" ]
    sleep 1 # events are written asynchronously
    run ck_kubectl get events --field-selector involvedObject.name=nopc \
        -o jsonpath='{range .items[?(@.reason=="FailedCreate")]}{.type} {.source.component} {.message}{"\n"}{end}'
    [[ ${lines[0]} =~ ^Warning\ replicaset-controller\ Error\ creating:\ pods\ \"nopc-[a-z0-9]{5}\"\ is\ forbidden:\ no\ PriorityClass\ with\ name\ ck-rs-missing\ was\ found$ ]]
    # once the class exists (and the ReplicaSet is synced again) the pods come and the
    # condition goes
    ck_curl POST /apis/scheduling.k8s.io/v1/priorityclasses \
        '{"apiVersion":"scheduling.k8s.io/v1","kind":"PriorityClass","metadata":{"name":"ck-rs-missing"},"value":1000}' >/dev/null
    ck_kubectl annotate rs nopc ck/nudge=1
    ck_kcm_wait_output "2 " get rs nopc -o jsonpath='{.status.replicas} {.status.conditions}'
    run pods_of nopc
    [ "$(echo "$output" | wc -l)" = 2 ]
    ck_kubectl delete rs nopc
    ck_curl DELETE /apis/scheduling.k8s.io/v1/priorityclasses/ck-rs-missing >/dev/null
}

@test "pods refused because the namespace is terminating give no FailedCreate (as upstream)" {
    # no namespace controller runs here: a deleted namespace stays Terminating
    ck_kubectl create namespace ck-rs-term
    rs_yaml term 0 | ck_kubectl apply -n ck-rs-term -f -
    ck_kcm_wait_output 1 get rs term -n ck-rs-term -o jsonpath='{.status.observedGeneration}'
    ck_kubectl delete namespace ck-rs-term --wait=false
    ck_kcm_wait_output Terminating get namespace ck-rs-term -o jsonpath='{.status.phase}'
    ck_kubectl scale rs term -n ck-rs-term --replicas=2
    ck_kcm_wait_output "2 0" get rs term -n ck-rs-term -o jsonpath='{.status.observedGeneration} {.status.replicas}'
    for i in $(seq 1 50); do
        grep -q 'not creating pods for replicaset ck-rs-term/term: pods "term-[a-z0-9]*" is forbidden: unable to create new content in namespace ck-rs-term because it is being terminated' "$CK_KCM_LOG" && break
        sleep 0.1
    done
    grep -q 'not creating pods for replicaset ck-rs-term/term' "$CK_KCM_LOG"
    run ck_kubectl get rs term -n ck-rs-term -o jsonpath='{.status.conditions}'
    [ "$output" = "" ]
    # events are logged at --v=3: the refused-PriorityClass test's one is there, none for term
    grep -q 'Event occurred object="default/nopc" .* reason="FailedCreate"' "$CK_KCM_LOG"
    ! grep -q 'Event occurred object="ck-rs-term/term" .* reason="FailedCreate"' "$CK_KCM_LOG"
}
