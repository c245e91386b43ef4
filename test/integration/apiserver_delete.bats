#!/usr/bin/env bats
# kube-apiserver DELETE and deletecollection with DeleteOptions against a real etcd:
# preconditions (uid, resourceVersion), orphanDependents/propagationPolicy finalizers, upstream's
# ValidateDeleteOptions, body-or-query options, and what kubectl's --now/--grace-period send.

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

CM=/api/v1/namespaces/default/configmaps

mkcm() { # mkcm NAME [FINALIZERS-JSON] [LABEL]: creates a ConfigMap, sets $uid and $rv
    local fin=${2:-[]} label=${3:-x}
    api POST $CM "{\"metadata\":{\"name\":\"$1\",\"labels\":{\"del\":\"$label\"},\"finalizers\":$fin},\"data\":{\"k\":\"v\"}}"
    [ "$code" = 201 ]
    uid=$(jqb .metadata.uid)
    rv=$(jqb .metadata.resourceVersion)
}

@test "delete: a uid precondition that does not match is 409 Conflict named by Kind, and the object stays" {
    mkcm pre-uid
    api DELETE $CM/pre-uid '{"preconditions":{"uid":"not-the-uid"}}'
    [ "$code" = 409 ]
    [ "$(jqb .reason)" = Conflict ]
    [ "$(jqb .message)" = "Operation cannot be fulfilled on ConfigMap \"pre-uid\": the UID in the precondition (not-the-uid) does not match the UID in record ($uid). The object might have been deleted and then recreated" ]
    [ "$(jqb .details.name)" = pre-uid ]
    [ "$(jqb .details.kind)" = ConfigMap ]
    api GET $CM/pre-uid
    [ "$code" = 200 ]
    # the matching uid deletes
    api DELETE $CM/pre-uid "{\"preconditions\":{\"uid\":\"$uid\"}}"
    [ "$code" = 200 ]
    [ "$(jqb .status)" = Success ]
    api GET $CM/pre-uid
    [ "$code" = 404 ]
}

@test "delete: a stale resourceVersion precondition is 409; the current one deletes" {
    mkcm pre-rv
    local old=$rv
    api PATCH $CM/pre-rv '{"data":{"k":"w"}}' application/merge-patch+json
    [ "$code" = 200 ]
    local cur
    cur=$(jqb .metadata.resourceVersion)
    api DELETE $CM/pre-rv "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"preconditions\":{\"resourceVersion\":\"$old\"}}"
    [ "$code" = 409 ]
    [ "$(jqb .message)" = "Operation cannot be fulfilled on ConfigMap \"pre-rv\": the ResourceVersion in the precondition ($old) does not match the ResourceVersion in record ($cur). The object might have been modified" ]
    api DELETE $CM/pre-rv "{\"preconditions\":{\"uid\":\"$uid\",\"resourceVersion\":\"$cur\"}}"
    [ "$code" = 200 ]
    api GET $CM/pre-rv
    [ "$code" = 404 ]
}

@test "delete: the uid precondition is checked before the resourceVersion one" {
    mkcm pre-both
    api DELETE $CM/pre-both '{"preconditions":{"uid":"u","resourceVersion":"1"}}'
    [ "$code" = 409 ]
    [[ "$(jqb .message)" == *"the UID in the precondition (u) does not match"* ]]
}

@test "delete: a precondition on a grouped kind names Kind.group; a missing object is 404 first" {
    api POST /apis/apps/v1/namespaces/default/controllerrevisions '{"metadata":{"name":"rev1"},"revision":1}'
    [ "$code" = 201 ]
    api DELETE /apis/apps/v1/namespaces/default/controllerrevisions/rev1 '{"preconditions":{"uid":"nope"}}'
    [ "$code" = 409 ]
    [[ "$(jqb .message)" == 'Operation cannot be fulfilled on ControllerRevision.apps "rev1": the UID in the precondition (nope) does not match'* ]]
    [ "$(jqb .details.group)" = apps ]
    [ "$(jqb .details.kind)" = ControllerRevision ]
    api DELETE /apis/apps/v1/namespaces/default/controllerrevisions/none '{"preconditions":{"uid":"nope"}}'
    [ "$code" = 404 ]
}

@test "delete: a precondition also guards an object held by finalizers (no deletionTimestamp)" {
    mkcm pre-fin '["example.com/hold"]'
    api DELETE $CM/pre-fin '{"preconditions":{"uid":"other"}}'
    [ "$code" = 409 ]
    api GET $CM/pre-fin
    [ "$(jqb .metadata.deletionTimestamp)" = null ]
    api PATCH $CM/pre-fin '{"metadata":{"finalizers":null}}' application/merge-patch+json
    [ "$code" = 200 ]
}

@test "delete: dry-run with a bad precondition is still 409; with a good one nothing is deleted" {
    mkcm pre-dry
    api DELETE "$CM/pre-dry?dryRun=All" '{"preconditions":{"uid":"x"}}'
    [ "$code" = 409 ]
    api DELETE "$CM/pre-dry?dryRun=All" "{\"preconditions\":{\"uid\":\"$uid\"}}"
    [ "$code" = 200 ]
    api GET $CM/pre-dry
    [ "$code" = 200 ]
}

@test "deletecollection: body preconditions apply to every item; a mismatch is 409 and the item stays" {
    mkcm coll-a '[]' coll
    local uid_a=$uid
    mkcm coll-b '[]' coll
    api DELETE "$CM?labelSelector=del%3Dcoll" "{\"preconditions\":{\"uid\":\"$uid_a\"}}"
    [ "$code" = 409 ]
    [[ "$(jqb .message)" == *"the UID in the precondition ($uid_a) does not match the UID in record ($uid)"* ]]
    api GET $CM/coll-b
    [ "$code" = 200 ]
    api GET $CM/coll-a
    [ "$code" = 404 ]
    api DELETE "$CM?labelSelector=del%3Dcoll"
    [ "$code" = 200 ]
    [ "$(jqb '.items | length')" = 1 ]
    api GET $CM/coll-b
    [ "$code" = 404 ]
}

@test "orphanDependents=true (body) adds the orphan finalizer, as propagationPolicy=Orphan does" {
    mkcm od-true '["example.com/hold"]'
    api DELETE $CM/od-true '{"orphanDependents":true}'
    [ "$code" = 200 ]
    [ "$(jqb '.metadata.finalizers | join(",")')" = example.com/hold,orphan ]
    [ -n "$(jqb .metadata.deletionTimestamp)" ]
    api PATCH $CM/od-true '{"metadata":{"finalizers":null}}' application/merge-patch+json
    [ "$code" = 200 ]
}

@test "orphanDependents=false (query) drops an orphan finalizer; Foreground replaces it" {
    mkcm od-false '["example.com/hold","orphan"]'
    api DELETE "$CM/od-false?orphanDependents=false"
    [ "$code" = 200 ]
    [ "$(jqb '.metadata.finalizers | join(",")')" = example.com/hold ]
    api PATCH $CM/od-false '{"metadata":{"finalizers":["example.com/hold","orphan"]}}' application/merge-patch+json
    [ "$code" = 200 ]
    api DELETE $CM/od-false '{"propagationPolicy":"Foreground"}'
    [ "$code" = 200 ]
    [ "$(jqb '.metadata.finalizers | join(",")')" = example.com/hold,foregroundDeletion ]
    api PATCH $CM/od-false '{"metadata":{"finalizers":null}}' application/merge-patch+json
    [ "$code" = 200 ]
}

@test "Background on an object held only by the orphan finalizer deletes it at once" {
    mkcm bg-orphan '["orphan"]'
    api DELETE $CM/bg-orphan '{"propagationPolicy":"Background"}'
    [ "$code" = 200 ]
    [ "$(jqb .status)" = Success ]
    api GET $CM/bg-orphan
    [ "$code" = 404 ]
}

@test "no options keep the object's own orphan finalizer" {
    mkcm keep-orphan '["orphan"]'
    api DELETE $CM/keep-orphan
    [ "$code" = 200 ]
    [ "$(jqb '.metadata.finalizers | join(",")')" = orphan ]
    api PATCH $CM/keep-orphan '{"metadata":{"finalizers":null}}' application/merge-patch+json
    [ "$code" = 200 ]
    api GET $CM/keep-orphan
    [ "$code" = 404 ]
}

@test "DeleteOptions validation: orphanDependents with propagationPolicy, and an unknown policy, are 422" {
    mkcm val
    api DELETE $CM/val '{"orphanDependents":false,"propagationPolicy":"Orphan"}'
    [ "$code" = 422 ]
    [ "$(jqb .reason)" = Invalid ]
    [ "$(jqb .message)" = 'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Invalid value: "Orphan": orphanDependents and deletionPropagation cannot be both set' ]
    [ "$(jqb .details.kind)" = DeleteOptions ]
    [ "$(jqb .details.group)" = meta.k8s.io ]
    api DELETE "$CM/val?propagationPolicy=Sideways"
    [ "$code" = 422 ]
    [ "$(jqb .message)" = 'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Sideways": supported values: "Foreground", "Background", "Orphan", "nil"' ]
    api DELETE "$CM/val?orphanDependents=maybe"
    [ "$code" = 400 ]
    api GET $CM/val
    [ "$code" = 200 ]
}

@test "a body's DeleteOptions win over the query, as upstream's handler reads one or the other" {
    mkcm body-wins '["example.com/hold"]'
    api DELETE "$CM/body-wins?propagationPolicy=Orphan" '{"propagationPolicy":"Foreground"}'
    [ "$code" = 200 ]
    [ "$(jqb '.metadata.finalizers | join(",")')" = example.com/hold,foregroundDeletion ]
    api PATCH $CM/body-wins '{"metadata":{"finalizers":null}}' application/merge-patch+json
    [ "$code" = 200 ]
}

@test "kubectl delete --now, --grace-period=0 --force and --cascade=orphan still work" {
    ck_kubectl create configmap k-now --from-literal=a=b
    run ck_kubectl delete configmap k-now --now
    [ "$status" -eq 0 ]
    [ "$output" = 'configmap "k-now" deleted' ]
    ck_kubectl create configmap k-force --from-literal=a=b
    run ck_kubectl delete configmap k-force --grace-period=0 --force
    [ "$status" -eq 0 ]
    [[ "$output" == *'configmap "k-force" force deleted'* ]]
    api POST $CM '{"metadata":{"name":"k-orphan","finalizers":["example.com/hold"]}}'
    run ck_kubectl delete configmap k-orphan --cascade=orphan --wait=false
    [ "$status" -eq 0 ]
    api GET $CM/k-orphan
    [ "$(jqb '.metadata.finalizers | join(",")')" = example.com/hold,orphan ]
    api PATCH $CM/k-orphan '{"metadata":{"finalizers":null}}' application/merge-patch+json
    [ "$code" = 200 ]
}

@test "DeleteOptions.dryRun in the body (as kubectl --dry-run=server sends it) deletes nothing" {
    mkcm dry-body
    api DELETE $CM/dry-body '{"dryRun":["All"]}'
    [ "$code" = 200 ]
    [ "$(jqb .status)" = Success ]
    api GET $CM/dry-body
    [ "$code" = 200 ]
    run ck_kubectl delete configmap dry-body --dry-run=server
    [ "$status" -eq 0 ]
    [ "$output" = 'configmap "dry-body" deleted (server dry run)' ]
    api GET $CM/dry-body
    [ "$code" = 200 ]
    api DELETE $CM/dry-body '{"dryRun":["Some"]}'
    [ "$code" = 422 ]
    [ "$(jqb .message)" = 'DeleteOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"Some"}: supported values: "All"' ]
    api DELETE "$CM?labelSelector=del%3Dx" '{"dryRun":["All"]}'
    [ "$code" = 200 ]
    api GET $CM/dry-body
    [ "$code" = 200 ]
}
