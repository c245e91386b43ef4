#!/usr/bin/env bats
# The review resources (authentication.k8s.io TokenReview/SelfSubjectReview, authorization.k8s.io
# SubjectAccessReview/LocalSubjectAccessReview/SelfSubjectAccessReview/SelfSubjectRulesReview):
# a create answers in the status and stores nothing, with upstream's validation. Until authn and
# authz exist, requests come through the insecure port as upstream's insecure superuser and
# everything is allowed (AlwaysAllow), which is what `kubectl auth` reports.

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

# POST body to /apis/PATH; sets $code and $body
post() {
    local out
    out=$(ck_curl POST "/apis/$1" "$2")
    code=${out##*$'\n'}
    body=${out%$'\n'*}
}

@test "kubectl auth can-i answers yes (SelfSubjectAccessReview), --list shows every rule (SelfSubjectRulesReview)" {
    run ck_kubectl auth can-i get pods
    [ "$status" -eq 0 ]
    [ "$output" = yes ]
    run ck_kubectl auth can-i create deployments.apps -n kube-system --subresource=scale
    [ "$status" -eq 0 ]
    [ "$output" = yes ]
    run ck_kubectl auth can-i get /healthz
    [ "$output" = yes ]
    run ck_kubectl auth can-i --list -n default
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == "Resources"*"Non-Resource URLs"*"Resource Names"*"Verbs" ]]
    [[ "$output" == *"*.*"*"[*]"* ]]
}

@test "kubectl auth whoami (SelfSubjectReview) names the insecure port's superuser" {
    run ck_kubectl auth whoami -o json
    [ "$status" -eq 0 ]
    [ "$(jq -r .status.userInfo.username <<<"$output")" = system:unsecured ]
    [ "$(jq -c .status.userInfo.groups <<<"$output")" = '["system:masters","system:authenticated"]' ]
    [ "$(jq -r .kind <<<"$output")" = SelfSubjectReview ]
    [ "$(jq -r .metadata.creationTimestamp <<<"$output")" != null ]
}

@test "a SelfSubjectAccessReview comes back 201 with its spec, allowed, and nothing is stored" {
    post authorization.k8s.io/v1/selfsubjectaccessreviews \
        '{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"verb":"delete","resource":"secrets","namespace":"default"}}}'
    [ "$code" = 201 ]
    [ "$(jq -r 'keys_unsorted | join(",")' <<<"$body")" = kind,apiVersion,metadata,spec,status ]
    [ "$(jq -c .status <<<"$body")" = '{"allowed":true}' ]
    [ "$(jq -r .spec.resourceAttributes.verb <<<"$body")" = delete ]
    [ "$(jq -r .metadata.creationTimestamp <<<"$body")" = null ]
    [ "$(jq -r '.metadata.managedFields[0].manager' <<<"$body")" = curl ]
    run ck_curl GET /apis/authorization.k8s.io/v1/selfsubjectaccessreviews
    [ "${lines[-1]}" = 405 ]
}

@test "access reviews are validated as upstream" {
    post authorization.k8s.io/v1/subjectaccessreviews '{"spec":{"resourceAttributes":{"verb":"get","resource":"pods"}}}'
    [ "$code" = 422 ]
    [ "$(jq -r .message <<<"$body")" = 'SubjectAccessReview.authorization.k8s.io "" is invalid: spec.user: Invalid value: "": at least one of user or group must be specified' ]
    post authorization.k8s.io/v1/subjectaccessreviews '{"spec":{"groups":["devs"]}}'
    [ "$code" = 422 ]
    [ "$(jq -r '.details.causes[0].field' <<<"$body")" = spec.resourceAttributes ]
    [ "$(jq -r '.details.causes[0].message' <<<"$body")" = 'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified' ]
    post authorization.k8s.io/v1/selfsubjectaccessreviews '{"spec":{"resourceAttributes":{"verb":"get"},"nonResourceAttributes":{"path":"/api","verb":"get"}}}'
    [ "$code" = 422 ]
    [ "$(jq -r '.details.causes[0].message' <<<"$body")" = 'Invalid value: authorization.NonResourceAttributes{Path:"/api", Verb:"get"}: cannot be specified in combination with resourceAttributes' ]
    post authorization.k8s.io/v1/subjectaccessreviews '{"metadata":{"name":"x"},"spec":{"user":"bob","resourceAttributes":{"verb":"get"}}}'
    [ "$code" = 422 ]
    [ "$(jq -r '.details.causes[0].field' <<<"$body")" = metadata ]
    [[ "$(jq -r '.details.causes[0].message' <<<"$body")" == *": must be empty" ]]
    post authorization.k8s.io/v1/subjectaccessreviews '{"spec":{"user":"bob","groups":["devs"],"nonResourceAttributes":{"path":"/metrics","verb":"get"}}}'
    [ "$code" = 201 ]
    [ "$(jq -r .status.allowed <<<"$body")" = true ]
}

@test "a LocalSubjectAccessReview belongs to the URL's namespace" {
    post authorization.k8s.io/v1/namespaces/default/localsubjectaccessreviews '{"spec":{"user":"bob","resourceAttributes":{"verb":"get","namespace":"default"}}}'
    [ "$code" = 201 ]
    [ "$(jq -r .metadata.namespace <<<"$body")" = default ]
    [ "$(jq -r .status.allowed <<<"$body")" = true ]
    post authorization.k8s.io/v1/namespaces/default/localsubjectaccessreviews '{"spec":{"user":"bob","resourceAttributes":{"verb":"get","namespace":"other"}}}'
    [ "$code" = 422 ]
    [ "$(jq -r .message <<<"$body")" = 'LocalSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes.namespace: Invalid value: "other": must match metadata.namespace' ]
    post authorization.k8s.io/v1/namespaces/default/localsubjectaccessreviews '{"metadata":{"namespace":"kube-system"},"spec":{"user":"bob","resourceAttributes":{"verb":"get","namespace":"kube-system"}}}'
    [ "$code" = 400 ]
    [ "$(jq -r .message <<<"$body")" = "spec.resourceAttributes.namespace must match namespace: default" ]
    post authorization.k8s.io/v1/namespaces/default/localsubjectaccessreviews '{"spec":{"user":"bob","nonResourceAttributes":{"path":"/api","verb":"get"}}}'
    [ "$code" = 422 ]
    [[ "$(jq -r .message <<<"$body")" == *'spec.nonResourceAttributes: Invalid value: authorization.NonResourceAttributes{Path:"/api", Verb:"get"}: disallowed on this kind of request'* ]]
}

@test "SelfSubjectRulesReview needs a namespace; TokenReview needs a token and authenticates nothing" {
    post authorization.k8s.io/v1/selfsubjectrulesreviews '{"spec":{}}'
    [ "$code" = 400 ]
    [ "$(jq -r .message <<<"$body")" = "no namespace on request" ]
    post authorization.k8s.io/v1/selfsubjectrulesreviews '{"spec":{"namespace":"default"}}'
    [ "$code" = 201 ]
    [ "$(jq -c .spec <<<"$body")" = '{}' ]
    [ "$(jq -c .status <<<"$body")" = '{"resourceRules":[{"verbs":["*"],"apiGroups":["*"],"resources":["*"]}],"nonResourceRules":[{"verbs":["*"],"nonResourceURLs":["*"]}],"incomplete":false}' ]
    post authentication.k8s.io/v1/tokenreviews '{"spec":{}}'
    [ "$code" = 400 ]
    [ "$(jq -r .message <<<"$body")" = "token is required for TokenReview in authentication" ]
    post authentication.k8s.io/v1/tokenreviews '{"spec":{"token":"abc"}}'
    [ "$code" = 201 ]
    [ "$(jq -r .spec.token <<<"$body")" = abc ]
    [ "$(jq -r .status <<<"$body")" = null ]
}
