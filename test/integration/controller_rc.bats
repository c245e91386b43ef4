#!/usr/bin/env bats
# The ReplicationController controller of kube-controller-manager (replicaset.c's code run for
# v1 ReplicationControllers) against a real etcd + kube-apiserver: map selectors, owner
# references of kind ReplicationController, events from "replication-controller", status,
# scaling, adoption, ReplicaFailure; and the --controllers / --concurrent-*-syncs flag checks.

load_lib() {
    CKUBE_ROOT=${CKUBE_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
    . "$CKUBE_ROOT/test/lib/apiserver.sh"
    . "$CKUBE_ROOT/test/lib/kcm.sh"
    CK_KCM=${CK_KCM_BIN:-${CKUBE_BIN:-$CKUBE_ROOT/bin}/kube-controller-manager}
}

setup_file() {
    load_lib
    ck_apiserver_start
    # the alias "replicationcontroller" names replicationcontroller-controller
    ck_kcm_start --controllers=replicationcontroller --concurrent-rc-syncs=2 --v=2
}

teardown_file() {
    load_lib
    ck_kcm_teardown
}

setup() {
    load_lib
}

rc_yaml() { # name replicas [extra pod spec line]
    cat <<EOF
apiVersion: v1
kind: ReplicationController
metadata:
  name: $1
spec:
  replicas: $2
  selector:
    app: $1
  template:
    metadata:
      labels:
        app: $1
        tier: web
    spec:
      ${3:-restartPolicy: Always}
      containers:
      - name: c
        image: busybox:1.36
EOF
}

pods_of() {
    ck_kubectl get pods -l "app=$1" -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}'
}

# kcm_fails ARGS...: runs kube-controller-manager with ARGS (and a master nobody listens on),
# expecting it to refuse them at once.
kcm_fails() {
    run timeout 10 "$CK_KCM" --master=http://127.0.0.1:1 --leader-elect=false \
        --secure-port="$(ck_free_port)" "$@"
    [ "$status" = 1 ]
}

@test "a ReplicationController creates pods owned by kind ReplicationController, with events" {
    rc_yaml web 3 | ck_kubectl apply -f -
    ck_kcm_wait_output 3 get rc web -o jsonpath='{.status.replicas}'
    run pods_of web
    [ "$(echo "$output" | wc -l)" = 3 ]
    for p in $output; do
        [[ $p =~ ^web-[bcdfghjklmnpqrstvwxz2456789]{5}$ ]]
    done
    uid=$(ck_kubectl get rc web -o jsonpath='{.metadata.uid}')
    run ck_kubectl get pods -l app=web -o jsonpath='{range .items[*]}{.metadata.ownerReferences[0].apiVersion} {.metadata.ownerReferences[0].kind} {.metadata.ownerReferences[0].name} {.metadata.ownerReferences[0].uid} {.metadata.ownerReferences[0].controller} {.metadata.ownerReferences[0].blockOwnerDeletion}{"\n"}{end}'
    [ "$(echo "$output" | sort -u)" = "v1 ReplicationController web $uid true true" ]
    run ck_kubectl get rc web -o jsonpath='{.status.fullyLabeledReplicas} {.status.observedGeneration} {.status.readyReplicas}'
    [ "$output" = "3 1 " ]
    sleep 1 # events are written asynchronously
    run ck_kubectl get events --field-selector involvedObject.kind=ReplicationController \
        -o jsonpath='{range .items[?(@.reason=="SuccessfulCreate")]}{.source.component} {.message}{"\n"}{end}'
    [ "$(echo "$output" | grep -c '^replication-controller Created pod: web-')" = 3 ]
}

@test "scaling a ReplicationController down deletes pods and records SuccessfulDelete" {
    ck_kubectl scale rc web --replicas=1
    ck_kcm_wait_output "1 2" get rc web -o jsonpath='{.status.replicas} {.status.observedGeneration}'
    run pods_of web
    [ "$(echo "$output" | wc -l)" = 1 ]
    sleep 1
    run ck_kubectl get events -o jsonpath='{range .items[?(@.reason=="SuccessfulDelete")]}{.involvedObject.kind} {.message}{"\n"}{end}'
    [ "$(echo "$output" | grep -c '^ReplicationController Deleted pod: web-')" = 2 ]
}

@test "a matching orphan is adopted by the ReplicationController, a non-matching one is not" {
    ck_kubectl run orphan --image=busybox:1.36 --labels=app=web,tier=web
    ck_kubectl run stranger --image=busybox:1.36 --labels=app=other
    # adopted, it makes two pods for one replica: the newer one (the orphan) is deleted
    ck_kcm_wait_output "" get pods orphan --ignore-not-found -o name
    ck_kcm_wait_output 1 get rc web -o jsonpath='{.status.replicas}'
    run ck_kubectl get pod stranger -o jsonpath='{.metadata.ownerReferences}'
    [ "$status" = 0 ]
    [ "$output" = "" ]
    ck_kubectl delete pod stranger --wait=false
}

@test "--controllers=replicationcontroller runs only that controller, with --concurrent-rc-syncs workers" {
    grep -q '"replicaset-controller" is disabled' "$CK_KCM_LOG"
    grep -q 'Controller workers controller="replicationcontroller-controller" workers=2' "$CK_KCM_LOG"
    ! grep -q 'Controller workers controller="replicaset-controller"' "$CK_KCM_LOG"
}

@test "a refused pod gives the ReplicationController ReplicaFailure=True FailedCreate" {
    rc_yaml nopc 1 'priorityClassName: ck-rc-missing' | ck_kubectl apply -f -
    ck_kcm_wait_output "True FailedCreate" get rc nopc \
        -o jsonpath='{.status.conditions[?(@.type=="ReplicaFailure")].status} {.status.conditions[?(@.type=="ReplicaFailure")].reason}'
    run ck_kubectl get rc nopc -o jsonpath='{.status.conditions[?(@.type=="ReplicaFailure")].message}'
    [[ $output =~ ^pods\ \"nopc-[a-z0-9]{5}\"\ is\ forbidden:\ no\ PriorityClass\ with\ name\ ck-rc-missing\ was\ found$ ]]
    sleep 1
    run ck_kubectl get events --field-selector involvedObject.name=nopc \
        -o jsonpath='{range .items[?(@.reason=="FailedCreate")]}{.type} {.source.component} {.message}{"\n"}{end}'
    [[ ${lines[0]} =~ ^Warning\ replication-controller\ Error\ creating:\ pods\ \"nopc-[a-z0-9]{5}\"\ is\ forbidden: ]]
    ck_curl POST /apis/scheduling.k8s.io/v1/priorityclasses \
        '{"apiVersion":"scheduling.k8s.io/v1","kind":"PriorityClass","metadata":{"name":"ck-rc-missing"},"value":1000}' >/dev/null
    ck_kubectl annotate rc nopc ck/nudge=1
    ck_kcm_wait_output "1 " get rc nopc -o jsonpath='{.status.replicas} {.status.conditions}'
    ck_kubectl delete rc nopc
    ck_curl DELETE /apis/scheduling.k8s.io/v1/priorityclasses/ck-rc-missing >/dev/null
}

@test "--controllers refuses unknown names (with or without '-') with upstream's message" {
    kcm_fails --controllers=replicaset-controller,no-such-controller
    [ "$output" = 'Error: "no-such-controller" is not in the list of known controllers' ]
    kcm_fails --controllers='*,-nope,bogus'
    [ "$output" = 'Error: ["nope" is not in the list of known controllers, "bogus" is not in the list of known controllers]' ]
    kcm_fails --controllers='-*'
    [ "$output" = 'Error: "*" is not in the list of known controllers' ]
}

@test "--controllers accepts canonical names, aliases, '*' and '-name'" {
    # names that pass leave the next check to refuse the command line
    kcm_fails --controllers='*,-garbagecollector,replicaset,endpoint,-endpoints-controller,-serviceaccount,nodeipam,deployment-controller' \
        --concurrent-service-endpoint-syncs=0
    [ "$output" = 'Error: concurrent-service-endpoint-syncs must not be less than 1, but got 0' ]
}

@test "--concurrent-*-syncs refuse values that are not int32 numbers or out of range" {
    local f
    for f in replicaset rc deployment endpoint service-endpoint namespace gc; do
        kcm_fails --concurrent-$f-syncs=abc
        [ "$output" = "Error: invalid argument \"abc\" for \"--concurrent-$f-syncs\" flag: strconv.ParseInt: parsing \"abc\": invalid syntax" ]
    done
    kcm_fails --concurrent-gc-syncs=2147483648
    [[ $output == *'parsing "2147483648": value out of range' ]]
    kcm_fails --concurrent-service-endpoint-syncs=51
    [ "$output" = 'Error: concurrent-service-endpoint-syncs must not be more than 50, but got 51' ]
}

@test "--help lists the --concurrent-*-syncs flags with upstream's defaults" {
    run "$CK_KCM" --help
    [ "$status" = 0 ]
    [[ $output =~ --concurrent-replicaset-syncs\ int\ +The\ number\ of\ replica\ sets[^$'\n']*\(default\ 5\) ]]
    [[ $output =~ --concurrent-rc-syncs\ int\ [^$'\n']*\(default\ 5\) ]]
    [[ $output =~ --concurrent-deployment-syncs\ int\ [^$'\n']*\(default\ 5\) ]]
    [[ $output =~ --concurrent-endpoint-syncs\ int\ [^$'\n']*\(default\ 5\) ]]
    [[ $output =~ --concurrent-service-endpoint-syncs\ int\ [^$'\n']*\(default\ 5\) ]]
    [[ $output =~ --concurrent-namespace-syncs\ int\ [^$'\n']*\(default\ 10\) ]]
    [[ $output =~ --concurrent-gc-syncs\ int\ [^$'\n']*\(default\ 20\) ]]
}
