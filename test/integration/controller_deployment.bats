#!/usr/bin/env bats
# The Deployment controller of kube-controller-manager (with the ReplicaSet controller under
# it) against a real etcd + kube-apiserver, driven by the real kubectl. The test plays kubelet:
# it marks pods Running and Ready through pods/status. Covers: kubectl create deployment, the
# pod-template-hash ReplicaSet with revision 1, scaling, a RollingUpdate that stays within
# maxSurge/maxUnavailable at every observed step, Recreate, kubectl rollout
# status/history/undo/pause/resume, the progress deadline and revisionHistoryLimit.

load_lib() {
    CKUBE_ROOT=${CKUBE_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
    . "$CKUBE_ROOT/test/lib/apiserver.sh"
    . "$CKUBE_ROOT/test/lib/kcm.sh"
}

setup_file() {
    load_lib
    ck_apiserver_start
    ck_kcm_start --controllers=replicaset-controller,deployment-controller --v=2
}

teardown_file() {
    load_lib
    ck_kcm_teardown
}

setup() {
    load_lib
}

# mark_ready POD: what a kubelet reports for a running, ready pod.
mark_ready() {
    local now
    now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    ck_curl PATCH "/api/v1/namespaces/default/pods/$1/status" \
        "{\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":\"$now\"}]}}" \
        application/merge-patch+json >/dev/null
}

# ready_all APP: marks every pod of app=APP that is not Running yet.
ready_all() {
    local p
    for p in $(ck_kubectl get pods -l "app=$1" -o jsonpath='{range .items[?(@.status.phase!="Running")]}{.metadata.name}{"\n"}{end}'); do
        mark_ready "$p"
    done
}

# rolled_out NAME: plays kubelet until the Deployment reports a finished rollout (30 s).
rolled_out() {
    local i out want
    for i in $(seq 1 150); do
        ready_all "$1"
        want=$(ck_kubectl get deploy "$1" -o jsonpath='{.spec.replicas} {.metadata.generation}')
        out=$(ck_kubectl get deploy "$1" -o jsonpath='{.status.updatedReplicas} {.status.availableReplicas} {.status.observedGeneration}')
        local r=${want% *} g=${want#* }
        [ "$out" = "$r $r $g" ] && [ "$(ck_kubectl get deploy "$1" -o jsonpath='{.status.replicas}')" = "$r" ] && return 0
        sleep 0.2
    done
    echo "deployment $1 did not roll out: $out (want $want)" >&2
    ck_kubectl get rs,pods -o wide >&2
    tail -30 "$CK_KCM_LOG" >&2
    return 1
}

rs_names() { # APP: the ReplicaSets of app=APP
    ck_kubectl get rs -l "app=$1" -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}'
}

events_of() { # REASON
    ck_kubectl get events -o jsonpath="{range .items[?(@.reason==\"$1\")]}{.message}{\"\\n\"}{end}"
}

@test "kubectl create deployment makes a pod-template-hash ReplicaSet at revision 1 with pods" {
    run ck_kubectl create deployment web --image=busybox:1.36 --replicas=3
    [ "$status" = 0 ]
    [ "$output" = "deployment.apps/web created" ]
    ck_kcm_wait_output 3 get rs -l app=web -o 'jsonpath={.items[0].status.replicas}'
    rs=$(rs_names web)
    hash=$(ck_kubectl get rs "$rs" -o jsonpath='{.metadata.labels.pod-template-hash}')
    [[ $hash =~ ^[bcdfghjklmnpqrstvwxz2456789]{1,10}$ ]]
    [ "$rs" = "web-$hash" ]
    # upstream's value: a v1.32 kube-controller-manager names this ReplicaSet the same
    [ "$hash" = 67d686db67 ]
    run ck_kubectl get rs "$rs" -o jsonpath='{.spec.selector.matchLabels.pod-template-hash} {.spec.template.metadata.labels.pod-template-hash} {.metadata.annotations.deployment\.kubernetes\.io/revision} {.metadata.annotations.deployment\.kubernetes\.io/desired-replicas} {.metadata.annotations.deployment\.kubernetes\.io/max-replicas}'
    [ "$output" = "$hash $hash 1 3 4" ]
    uid=$(ck_kubectl get deploy web -o jsonpath='{.metadata.uid}')
    run ck_kubectl get rs "$rs" -o jsonpath='{.metadata.ownerReferences[0].kind} {.metadata.ownerReferences[0].name} {.metadata.ownerReferences[0].uid} {.metadata.ownerReferences[0].controller} {.metadata.ownerReferences[0].blockOwnerDeletion}'
    [ "$output" = "Deployment web $uid true true" ]
    run ck_kubectl get pods -l "app=web,pod-template-hash=$hash" -o name
    [ "$(echo "$output" | wc -l)" = 3 ]
    sleep 1 # events are written asynchronously
    run events_of ScalingReplicaSet
    [[ $output == *"Scaled up replica set $rs from 0 to 3"* ]]
    run ck_kubectl get events -o jsonpath='{range .items[?(@.reason=="ScalingReplicaSet")]}{.involvedObject.kind}/{.involvedObject.name} {.source.component}{"\n"}{end}'
    [ "$(echo "$output" | sort -u)" = "Deployment/web deployment-controller" ]
    # pods that exist but are not ready yet: the rollout is progressing, not available
    ck_kcm_wait_output "True|ReplicaSetUpdated|ReplicaSet \"$rs\" is progressing." get deploy web -o jsonpath='{.status.conditions[?(@.type=="Progressing")].status}|{.status.conditions[?(@.type=="Progressing")].reason}|{.status.conditions[?(@.type=="Progressing")].message}'
}

@test "the Deployment carries the revision annotation of its new ReplicaSet" {
    # the controller sets it through deployments/status, as upstream does (the status
    # strategy of deployments keeps annotations from the request)
    run ck_kubectl get deploy web -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}'
    [ "$output" = 1 ]
}

@test "rollout status, conditions and the READY/UP-TO-DATE/AVAILABLE columns follow pod readiness" {
    mark_ready "$(ck_kubectl get pods -l app=web -o jsonpath='{.items[0].metadata.name}')"
    ck_kcm_wait_output 1 get deploy web -o jsonpath='{.status.availableReplicas}'
    run ck_kubectl rollout status deployment/web --watch=false
    [ "$output" = 'Waiting for deployment "web" rollout to finish: 1 of 3 updated replicas are available...' ]
    run ck_kubectl get deploy web -o jsonpath='{.status.conditions[?(@.type=="Available")].status} {.status.conditions[?(@.type=="Available")].reason}'
    [ "$output" = "False MinimumReplicasUnavailable" ]
    rolled_out web
    run ck_kubectl rollout status deployment/web --timeout=10s
    [ "$status" = 0 ]
    [ "${lines[-1]}" = 'deployment "web" successfully rolled out' ]
    run ck_kubectl get deploy web -o jsonpath='{.status.conditions[?(@.type=="Available")].reason}|{.status.conditions[?(@.type=="Available")].message}|{.status.conditions[?(@.type=="Progressing")].reason}|{.status.conditions[?(@.type=="Progressing")].message}'
    [ "$output" = "MinimumReplicasAvailable|Deployment has minimum availability.|NewReplicaSetAvailable|ReplicaSet \"$(rs_names web)\" has successfully progressed." ]
    run ck_kubectl get deploy web
    [[ ${lines[0]} =~ ^NAME\ +READY\ +UP-TO-DATE\ +AVAILABLE\ +AGE$ ]]
    [[ ${lines[1]} =~ ^web\ +3/3\ +3\ +3\  ]]
}

@test "scaling a Deployment scales its ReplicaSet up and down" {
    ck_kubectl scale deployment web --replicas=5
    ck_kcm_wait_output 5 get rs "$(rs_names web)" -o jsonpath='{.spec.replicas}'
    rolled_out web
    ck_kubectl scale deployment web --replicas=4
    ck_kcm_wait_output 4 get rs "$(rs_names web)" -o jsonpath='{.spec.replicas}'
    rolled_out web
    sleep 1
    run events_of ScalingReplicaSet
    [[ $output == *"Scaled up replica set $(rs_names web) from 3 to 5"* ]]
    [[ $output == *"Scaled down replica set $(rs_names web) from 5 to 4"* ]]
    run ck_kubectl get deploy web -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/desired-replicas}{.status.replicas}'
    [ "$output" = 4 ]
}

@test "a RollingUpdate never exceeds maxSurge nor drops below replicas - maxUnavailable" {
    ck_kubectl patch deployment web -p '{"spec":{"strategy":{"rollingUpdate":{"maxSurge":1,"maxUnavailable":1}}}}'
    old=$(rs_names web)
    ck_kubectl set image deployment/web busybox=busybox:1.37
    local i total ready done=0
    for i in $(seq 1 200); do
        # the ReplicaSets' sizes may never exceed 4 + maxSurge
        total=$(ck_kubectl get rs -l app=web -o jsonpath='{range .items[*]}{.spec.replicas}{"\n"}{end}' | awk '{s+=$1} END {print s}')
        [ "$total" -le 5 ] || { echo "step $i: $total replicas > 5" >&2; return 1; }
        # pods ready (the test is the kubelet) may never go below 4 - maxUnavailable
        ready=$(ck_kubectl get pods -l app=web -o jsonpath='{range .items[?(@.status.phase=="Running")]}{.metadata.name}{"\n"}{end}' | grep -c . || true)
        [ "$ready" -ge 3 ] || { echo "step $i: $ready ready pods < 3" >&2; return 1; }
        ready_all web
        out=$(ck_kubectl get deploy web -o jsonpath='{.status.updatedReplicas} {.status.availableReplicas} {.status.replicas} {.status.observedGeneration}')
        gen=$(ck_kubectl get deploy web -o jsonpath='{.metadata.generation}')
        [ "$out" = "4 4 4 $gen" ] && { done=1; break; }
        sleep 0.1
    done
    [ "$done" = 1 ]
    new=$(ck_kubectl get rs -l app=web -o jsonpath='{range .items[?(@.spec.replicas==4)]}{.metadata.name}{end}')
    [ "$new" != "$old" ]
    # the first steps as upstream takes them: surge by one, then drop one old replica
    sleep 1
    run events_of ScalingReplicaSet
    [[ $output == *"Scaled up replica set $new from 0 to 1"* ]]
    [[ $output == *"Scaled down replica set $old from 4 to 3"* ]]
    run ck_kubectl get rs "$old" "$new" -o jsonpath='{range .items[*]}{.metadata.annotations.deployment\.kubernetes\.io/revision} {.spec.replicas}{"\n"}{end}'
    [ "$output" = "1 0
2 4" ] || [ "$output" = "2 4
1 0" ]
    run ck_kubectl get pods -l app=web -o jsonpath='{range .items[*]}{.spec.containers[0].image}{"\n"}{end}'
    [ "$(echo "$output" | sort -u)" = "busybox:1.37" ]
}

@test "kubectl rollout history lists the revisions and rollout undo brings the template back as revision 3" {
    run ck_kubectl rollout history deployment/web
    [ "$status" = 0 ]
    [[ $output == *"REVISION  CHANGE-CAUSE"* ]]
    [[ $output == *"1         <none>"* ]]
    [[ $output == *"2         <none>"* ]]
    first=$(ck_kubectl get rs -l app=web -o jsonpath='{range .items[?(@.metadata.annotations.deployment\.kubernetes\.io/revision=="1")]}{.metadata.name}{end}')
    [ -n "$first" ]
    run ck_kubectl rollout undo deployment/web
    [ "$status" = 0 ]
    [ "$output" = "deployment.apps/web rolled back" ]
    ck_kcm_wait_output busybox:1.36 get deploy web -o jsonpath='{.spec.template.spec.containers[0].image}'
    ck_kcm_wait_output 3 get rs "$first" -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}'
    rolled_out web
    run ck_kubectl get rs "$first" -o jsonpath='{.spec.replicas} {.metadata.annotations.deployment\.kubernetes\.io/revision-history}'
    [ "$output" = "4 1" ]
    ck_kcm_wait_output 3 get deploy web -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}'
    run ck_kubectl rollout history deployment/web
    [[ $output == *"2         <none>"* ]]
    [[ $output == *"3         <none>"* ]]
    [[ $output != *"1         <none>"* ]]
}

@test "a paused Deployment does not roll out until resumed" {
    run ck_kubectl rollout pause deployment/web
    [ "$output" = "deployment.apps/web paused" ]
    ck_kcm_wait_output DeploymentPaused get deploy web -o jsonpath='{.status.conditions[?(@.type=="Progressing")].reason}'
    run ck_kubectl get deploy web -o jsonpath='{.status.conditions[?(@.type=="Progressing")].status} {.status.conditions[?(@.type=="Progressing")].message}'
    [ "$output" = "Unknown Deployment is paused" ]
    before=$(rs_names web | sort)
    ck_kubectl set image deployment/web busybox=busybox:1.38
    sleep 2
    [ "$(rs_names web | sort)" = "$before" ]
    run ck_kubectl rollout resume deployment/web
    [ "$output" = "deployment.apps/web resumed" ]
    rolled_out web
    [ "$(rs_names web | wc -l)" = 3 ]
    run ck_kubectl get pods -l app=web -o jsonpath='{range .items[*]}{.spec.containers[0].image}{"\n"}{end}'
    [ "$(echo "$output" | sort -u)" = "busybox:1.38" ]
}

@test "Recreate removes every old pod before the new ReplicaSet scales up" {
    ck_kubectl create deployment rec --image=busybox:1.36 --replicas=2
    ck_kubectl patch deployment rec -p '{"spec":{"strategy":{"type":"Recreate","rollingUpdate":null}}}'
    rolled_out rec
    old=$(rs_names rec)
    ck_kubectl set image deployment/rec busybox=busybox:1.37
    local i done=0 oldpods newsize
    for i in $(seq 1 150); do
        oldpods=$(ck_kubectl get pods -l "app=rec,pod-template-hash=${old#rec-}" -o name | grep -c . || true)
        newsize=$(ck_kubectl get rs -l app=rec -o jsonpath="{range .items[?(@.metadata.name!=\"$old\")]}{.spec.replicas}{end}")
        if [ "$oldpods" -gt 0 ] && [ -n "$newsize" ] && [ "$newsize" -gt 0 ]; then
            echo "step $i: new replica set at $newsize while $oldpods old pods exist" >&2
            return 1
        fi
        ready_all rec
        [ "$(ck_kubectl get deploy rec -o jsonpath='{.status.updatedReplicas} {.status.availableReplicas}')" = "2 2" ] && { done=1; break; }
        sleep 0.1
    done
    [ "$done" = 1 ]
    sleep 1
    run events_of ScalingReplicaSet
    [[ $output == *"Scaled down replica set $old from 2 to 0"* ]]
    new=$(rs_names rec | grep -v "^$old$")
    [[ $output == *"Scaled up replica set $new from 0 to 2"* ]]
}

@test "progressDeadlineSeconds exceeded sets Progressing False ProgressDeadlineExceeded" {
    cat <<EOF | ck_kubectl apply -f -
apiVersion: apps/v1
kind: Deployment
metadata:
  name: slow
spec:
  replicas: 1
  progressDeadlineSeconds: 2
  selector:
    matchLabels:
      app: slow
  template:
    metadata:
      labels:
        app: slow
    spec:
      containers:
      - name: c
        image: busybox:1.36
EOF
    ck_kcm_wait_output ProgressDeadlineExceeded get deploy slow -o jsonpath='{.status.conditions[?(@.type=="Progressing")].reason}'
    run ck_kubectl get deploy slow -o jsonpath='{.status.conditions[?(@.type=="Progressing")].status}|{.status.conditions[?(@.type=="Progressing")].message}'
    [ "$output" = "False|ReplicaSet \"$(rs_names slow)\" has timed out progressing." ]
    run ck_kubectl rollout status deployment/slow --timeout=5s
    [ "$status" != 0 ]
    [[ $output == *'deployment "slow" exceeded its progress deadline'* ]]
}

@test "revisionHistoryLimit deletes the oldest scaled-down ReplicaSets" {
    ck_kubectl create deployment hist --image=busybox:1.36 --replicas=1
    ck_kubectl patch deployment hist -p '{"spec":{"revisionHistoryLimit":1}}'
    rolled_out hist
    local v
    for v in 1.37 1.38 1.39; do
        ck_kubectl set image deployment/hist busybox=busybox:$v
        rolled_out hist
    done
    for v in $(seq 1 50); do
        [ "$(rs_names hist | wc -l)" = 2 ] && break
        sleep 0.2
    done
    run rs_names hist
    [ "$(echo "$output" | wc -l)" = 2 ]
    run ck_kubectl get rs -l app=hist -o jsonpath='{range .items[*]}{.metadata.annotations.deployment\.kubernetes\.io/revision}{"\n"}{end}'
    [ "$(echo "$output" | sort -n | tr '\n' ' ')" = "3 4 " ]
}

@test "scaling mid-rollout spreads the new replicas proportionally (desired/max-replicas)" {
    ck_kubectl create deployment prop --image=busybox:1.36 --replicas=10
    ck_kubectl patch deployment prop -p '{"spec":{"strategy":{"rollingUpdate":{"maxSurge":3,"maxUnavailable":2}}}}'
    rolled_out prop
    old=$(rs_names prop)
    # the new pods never become ready: the rollout stops at old 8 + new 5 (13 = 10 + maxSurge)
    ck_kubectl set image deployment/prop busybox=busybox:1.37
    ck_kcm_wait_output "8 5" get rs -l app=prop -o jsonpath="{.items[?(@.metadata.name==\"$old\")].spec.replicas} {.items[?(@.metadata.name!=\"$old\")].spec.replicas}"
    sleep 1
    ck_kcm_wait_output "8 5" get rs -l app=prop -o jsonpath="{.items[?(@.metadata.name==\"$old\")].spec.replicas} {.items[?(@.metadata.name!=\"$old\")].spec.replicas}"
    new=$(rs_names prop | grep -v "^$old$")
    ck_kubectl scale deployment prop --replicas=30
    # 33 allowed for 13 annotated: 8 -> round(8*33/13) = 20, 5 -> round(5*33/13) = 13
    ck_kcm_wait_output "20 13" get rs -l app=prop -o jsonpath="{.items[?(@.metadata.name==\"$old\")].spec.replicas} {.items[?(@.metadata.name!=\"$old\")].spec.replicas}"
    run ck_kubectl get rs "$old" "$new" -o jsonpath='{range .items[*]}{.metadata.annotations.deployment\.kubernetes\.io/desired-replicas}/{.metadata.annotations.deployment\.kubernetes\.io/max-replicas}{"\n"}{end}'
    [ "$output" = "30/33
30/33" ]
    sleep 1
    run events_of ScalingReplicaSet
    [[ $output == *"Scaled up replica set $old from 8 to 20"* ]]
    [[ $output == *"Scaled up replica set $new from 5 to 13"* ]]
    ck_kubectl delete deployment prop --wait=false
}

@test "an orphan ReplicaSet that matches is adopted; one whose labels stop matching is released" {
    cat <<EOF2 | ck_kubectl apply -f -
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: stray
  labels:
    app: adopt
spec:
  replicas: 1
  selector:
    matchLabels:
      app: adopt
      v: stray
  template:
    metadata:
      labels:
        app: adopt
        v: stray
    spec:
      containers:
      - name: c
        image: busybox:1.35
EOF2
    ck_kubectl create deployment adopt --image=busybox:1.36 --replicas=1
    uid=$(ck_kubectl get deploy adopt -o jsonpath='{.metadata.uid}')
    ck_kcm_wait_output "Deployment adopt $uid true true" get rs stray -o jsonpath='{.metadata.ownerReferences[0].kind} {.metadata.ownerReferences[0].name} {.metadata.ownerReferences[0].uid} {.metadata.ownerReferences[0].controller} {.metadata.ownerReferences[0].blockOwnerDeletion}'
    # an adopted ReplicaSet with another template is an old one: scaled away by the rollout
    rolled_out adopt
    ck_kcm_wait_output 0 get rs stray -o jsonpath='{.spec.replicas}'
    ck_kubectl label rs stray app=gone --overwrite
    ck_kcm_wait_output "" get rs stray -o jsonpath='{.metadata.ownerReferences}'
}

@test "a ReplicaSet name taken by a foreign ReplicaSet bumps collisionCount and picks a new hash" {
    ck_kubectl create deployment col --image=busybox:1.36 --replicas=1
    ck_kcm_wait_output 1 get rs -l app=col -o jsonpath='{.items[0].spec.replicas}'
    taken=$(rs_names col)
    # make it a stranger: no owner, labels that no longer match the Deployment's selector
    ck_kubectl patch rs "$taken" --type=merge -p '{"metadata":{"ownerReferences":null,"labels":{"app":"stranger"}}}'
    ck_kcm_wait_output 1 get deploy col -o jsonpath='{.status.collisionCount}'
    ck_kcm_wait_output 1 get rs -l app=col -o 'jsonpath={.items[0].spec.replicas}'
    fresh=$(rs_names col)
    [ -n "$fresh" ]
    [ "$fresh" != "$taken" ]
    [[ $fresh =~ ^col-[bcdfghjklmnpqrstvwxz2456789]{1,10}$ ]]
    run ck_kubectl get rs "$taken" -o jsonpath='{.metadata.ownerReferences}'
    [ "$output" = "" ]
}
