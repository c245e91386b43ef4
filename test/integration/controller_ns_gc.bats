#!/usr/bin/env bats
# kube-controller-manager's serviceaccount-controller and namespace-controller against a real
# etcd + kube-apiserver: default ServiceAccounts, namespace deletion with contents; and the
# garbage-collector-controller: background, foreground and orphan propagation over hand-made
# ownerReferences, and OwnerRefInvalidNamespace for references across namespaces.

load_lib() {
    CKUBE_ROOT=${CKUBE_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
    . "$CKUBE_ROOT/test/lib/apiserver.sh"
    . "$CKUBE_ROOT/test/lib/kcm.sh"
}

. "${CKUBE_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}/test/lib/wait.sh" # wait_for SECONDS CMD...

setup_file() {
    load_lib
    ck_apiserver_start
    ck_kcm_start --controllers=serviceaccount-controller,namespace-controller,garbage-collector-controller --v=2
}

teardown_file() {
    load_lib
    ck_kcm_teardown
}

setup() {
    load_lib
}

has_sa() { ck_kubectl get serviceaccount default -n "$1" >/dev/null 2>&1; }
ns_gone() { ! ck_kubectl get namespace "$1" >/dev/null 2>&1; }

@test "every namespace gets a default ServiceAccount, recreated when deleted" {
    wait_for 20 has_sa default
    wait_for 10 has_sa kube-system
    ck_kubectl create namespace sa-test
    wait_for 10 has_sa sa-test
    uid1=$(ck_kubectl get sa default -n sa-test -o jsonpath='{.metadata.uid}')
    ck_kubectl delete serviceaccount default -n sa-test
    wait_for 10 has_sa sa-test
    uid2=$(ck_kubectl get sa default -n sa-test -o jsonpath='{.metadata.uid}')
    [ -n "$uid2" ] && [ "$uid1" != "$uid2" ]
}

@test "deleting a namespace deletes its content, then the namespace" {
    ck_kubectl create namespace ns-del
    ck_kubectl create configmap cm1 -n ns-del --from-literal=a=b
    ck_kubectl create secret generic s1 -n ns-del --from-literal=a=b
    ck_kubectl run p1 -n ns-del --image=busybox:1.36 --restart=Never
    ck_kubectl create deployment d1 -n ns-del --image=busybox:1.36
    run ck_kubectl delete namespace ns-del --wait=false
    [ "$status" = 0 ]
    wait_for 30 ns_gone ns-del
    run ck_kubectl get configmaps,secrets,pods,deployments,serviceaccounts -n ns-del -o name
    [ "$status" = 0 ]
    [ -z "$output" ]
}

@test "a namespace waits for finalizers of its content, with upstream's conditions" {
    ck_kubectl create namespace ns-fin
    ck_kubectl create configmap held -n ns-fin --from-literal=a=b
    ck_kubectl patch configmap held -n ns-fin --type=merge -p '{"metadata":{"finalizers":["example.com/hold"]}}'
    ck_kubectl delete namespace ns-fin --wait=false
    cond() {
        [ "$(ck_kubectl get ns ns-fin -o jsonpath='{.status.conditions[?(@.type=="NamespaceFinalizersRemaining")].message}')" = \
          "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances" ]
    }
    wait_for 20 cond
    run ck_kubectl get ns ns-fin -o jsonpath='{.status.phase} {.status.conditions[?(@.type=="NamespaceContentRemaining")].message}'
    [ "$output" = "Terminating Some resources are remaining: configmaps. has 1 resource instances" ]
    run ck_kubectl get ns ns-fin -o jsonpath='{.status.conditions[?(@.type=="NamespaceDeletionDiscoveryFailure")].reason}'
    [ "$output" = "ResourcesDiscovered" ]
    ck_kubectl patch configmap held -n ns-fin --type=merge -p '{"metadata":{"finalizers":null}}'
    wait_for 30 ns_gone ns-fin
}

# own NS DEPENDENT OWNER [BLOCK]: makes configmap DEPENDENT owned by configmap OWNER.
own() {
    local uid
    uid=$(ck_kubectl get configmap "$3" -n "$1" -o jsonpath='{.metadata.uid}')
    ck_kubectl patch configmap "$2" -n "$1" --type=merge -p \
        "{\"metadata\":{\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"$3\",\"uid\":\"$uid\",\"blockOwnerDeletion\":${4:-false}}]}}"
}
cm_gone() { ! ck_kubectl get configmap "$2" -n "$1" >/dev/null 2>&1; }

@test "gc: background deletion of an owner deletes its dependents (and theirs)" {
    ck_kubectl create namespace gc-bg
    ck_kubectl create configmap owner -n gc-bg --from-literal=a=b
    ck_kubectl create configmap dep -n gc-bg --from-literal=a=b
    ck_kubectl create configmap grand -n gc-bg --from-literal=a=b
    ck_kubectl create configmap keep -n gc-bg --from-literal=a=b
    own gc-bg dep owner
    own gc-bg grand dep
    ck_kubectl delete configmap owner -n gc-bg
    wait_for 20 cm_gone gc-bg dep
    wait_for 20 cm_gone gc-bg grand
    run ck_kubectl get configmap keep -n gc-bg -o name
    [ "$output" = "configmap/keep" ]
}

@test "gc: a dependent whose owner never existed is collected; a live second owner keeps it" {
    ck_kubectl create namespace gc-dangle
    ck_kubectl create configmap live -n gc-dangle --from-literal=a=b
    ck_kubectl create configmap orphaned -n gc-dangle --from-literal=a=b
    ck_kubectl create configmap shared -n gc-dangle --from-literal=a=b
    ck_kubectl patch configmap orphaned -n gc-dangle --type=merge -p \
        '{"metadata":{"ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"ghost","uid":"00000000-0000-0000-0000-000000000001"}]}}'
    uid=$(ck_kubectl get configmap live -n gc-dangle -o jsonpath='{.metadata.uid}')
    ck_kubectl patch configmap shared -n gc-dangle --type=merge -p \
        "{\"metadata\":{\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"ghost\",\"uid\":\"00000000-0000-0000-0000-000000000002\"},{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"live\",\"uid\":\"$uid\"}]}}"
    wait_for 20 cm_gone gc-dangle orphaned
    refs() { [ "$(ck_kubectl get configmap shared -n gc-dangle -o jsonpath='{.metadata.ownerReferences[*].name}')" = live ]; }
    wait_for 20 refs
}

@test "gc: --cascade=orphan keeps the dependent and removes its owner reference" {
    ck_kubectl create namespace gc-orphan
    ck_kubectl create configmap owner -n gc-orphan --from-literal=a=b
    ck_kubectl create configmap dep -n gc-orphan --from-literal=a=b
    own gc-orphan dep owner
    run ck_kubectl delete configmap owner -n gc-orphan --cascade=orphan
    [ "$status" = 0 ]
    wait_for 20 cm_gone gc-orphan owner
    sleep 1
    run ck_kubectl get configmap dep -n gc-orphan -o jsonpath='{.metadata.name}:{.metadata.ownerReferences}'
    [ "$output" = "dep:" ]
}

@test "gc: foreground deletion waits for blocking dependents, then removes the owner" {
    ck_kubectl create namespace gc-fg
    ck_kubectl create configmap owner -n gc-fg --from-literal=a=b
    ck_kubectl create configmap dep -n gc-fg --from-literal=a=b
    own gc-fg dep owner true
    # a finalizer of its own holds the dependent, so the owner must wait
    ck_kubectl patch configmap dep -n gc-fg --type=merge -p '{"metadata":{"finalizers":["example.com/hold"]}}'
    run ck_kubectl delete configmap owner -n gc-fg --cascade=foreground --wait=false
    [ "$status" = 0 ]
    dep_deleting() { [ -n "$(ck_kubectl get configmap dep -n gc-fg -o jsonpath='{.metadata.deletionTimestamp}')" ]; }
    wait_for 20 dep_deleting
    sleep 1
    run ck_kubectl get configmap owner -n gc-fg -o jsonpath='{.metadata.finalizers}'
    [ "$output" = '["foregroundDeletion"]' ]
    ck_kubectl patch configmap dep -n gc-fg --type=merge -p '{"metadata":{"finalizers":null}}'
    wait_for 20 cm_gone gc-fg owner
    cm_gone gc-fg dep
}

# gc_events NS: the OwnerRefInvalidNamespace events of NS as
# [type, involvedObject kind/namespace/name, source, message]
gc_events() {
    ck_kubectl get events -n "$1" -o json | jq -c '[.items[]|select(.reason=="OwnerRefInvalidNamespace")|
        [.type,.involvedObject.kind,(.involvedObject.namespace // ""),.involvedObject.name,.source.component,.message]]'
}
gc_events_are() { [ "$(gc_events "$1")" = "$2" ]; }

@test "gc: an owner reference to an object of another namespace is OwnerRefInvalidNamespace, the dependent is collected" {
    ck_kubectl create namespace gc-nsa
    ck_kubectl create namespace gc-nsb
    ck_kubectl create configmap owner -n gc-nsa --from-literal=a=b
    ck_kubectl create configmap dep -n gc-nsb --from-literal=a=b
    uid=$(ck_kubectl get configmap owner -n gc-nsa -o jsonpath='{.metadata.uid}')
    ck_kubectl patch configmap dep -n gc-nsb --type=merge -p \
        "{\"metadata\":{\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"owner\",\"uid\":\"$uid\"}]}}"
    # the owner does not exist where the dependent lives: the dependent goes
    wait_for 20 cm_gone gc-nsb dep
    want=$(jq -cn --arg u "$uid" '[["Warning","ConfigMap","gc-nsb","dep","garbage-collector-controller",
        "ownerRef [v1/ConfigMap, namespace: gc-nsb, name: owner, uid: \($u)] does not exist in namespace \"gc-nsb\""]]')
    wait_for 20 gc_events_are gc-nsb "$want"
    # the owner itself is untouched, and reported once only
    ck_kubectl get configmap owner -n gc-nsa
    sleep 1
    gc_events_are gc-nsb "$want"
}

@test "gc: a cluster-scoped dependent of a namespaced owner is reported in default and never collected" {
    ck_kubectl create namespace gc-cs
    ck_kubectl create configmap owner -n gc-cs --from-literal=a=b
    uid=$(ck_kubectl get configmap owner -n gc-cs -o jsonpath='{.metadata.uid}')
    ck_curl POST /api/v1/nodes "{\"metadata\":{\"name\":\"gc-node\",\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"owner\",\"uid\":\"$uid\"}]}}"
    # the Event has no namespace to go to: upstream's recorder puts it in "default"
    want=$(jq -cn --arg u "$uid" '[["Warning","Node","","gc-node","garbage-collector-controller",
        "ownerRef [v1/ConfigMap, namespace: , name: owner, uid: \($u)] does not exist in namespace \"\""]]')
    wait_for 20 gc_events_are default "$want"
    # an impossible owner never makes the node garbage, even once the owner is deleted
    ck_kubectl delete configmap owner -n gc-cs
    # a node naming a namespaced kind that never existed is left alone too
    ck_curl POST /api/v1/nodes '{"metadata":{"name":"gc-node2","ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"ghost","uid":"00000000-0000-0000-0000-0000000000aa"}]}}'
    sleep 3
    ck_kubectl get node gc-node
    ck_kubectl get node gc-node2
    ck_kubectl delete node gc-node gc-node2
}

@test "gc: a namespaced dependent of a cluster-scoped owner is valid: no event, kept while the owner lives" {
    ck_kubectl create namespace gc-cso
    ck_curl POST /api/v1/nodes '{"metadata":{"name":"gc-owner-node"}}'
    uid=$(ck_kubectl get node gc-owner-node -o jsonpath='{.metadata.uid}')
    ck_kubectl create configmap dep -n gc-cso --from-literal=a=b
    ck_kubectl patch configmap dep -n gc-cso --type=merge -p \
        "{\"metadata\":{\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"name\":\"gc-owner-node\",\"uid\":\"$uid\"}]}}"
    sleep 2
    ck_kubectl get configmap dep -n gc-cso
    gc_events_are gc-cso '[]'
    ck_kubectl delete node gc-owner-node
    wait_for 20 cm_gone gc-cso dep
}
