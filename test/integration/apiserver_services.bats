#!/usr/bin/env bats
# Service IP and node port allocation, the kubernetes Service, graceful pod deletion, namespace
# termination.

load_lib() {
    CKUBE_ROOT=${CKUBE_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
    . "$CKUBE_ROOT/test/lib/apiserver.sh"
}

setup_file() {
    load_lib
    ck_apiserver_start --advertise-address=10.250.0.1
}

teardown_file() {
    load_lib
    ck_apiserver_stop
}

setup() {
    load_lib
}

api() {
    local out
    out=$(ck_curl "$@")
    code=${out##*$'\n'}
    body=${out%$'\n'*}
}
jqb() { echo "$body" | jq -r "$@"; }

@test "the kubernetes Service holds 10.96.0.1 and points at the apiserver" {
    api GET /api/v1/namespaces/default/services/kubernetes
    [ "$code" = 200 ]
    [ "$(jqb .spec.clusterIP)" = 10.96.0.1 ]
    [ "$(jqb '.spec.ports[0].port')" = 443 ]
    api GET /api/v1/namespaces/default/endpoints/kubernetes
    [ "$(jqb '.subsets[0].addresses[0].ip')" = 10.250.0.1 ]
}

@test "cluster IPs are unique, in the service CIDR, and a taken one is refused" {
    ips=()
    for i in 1 2 3 4 5; do
        api POST /api/v1/namespaces/default/services "{\"metadata\":{\"name\":\"s$i\"},\"spec\":{\"ports\":[{\"port\":80}]}}"
        [ "$code" = 201 ]
        ip=$(jqb .spec.clusterIP)
        [[ "$ip" =~ ^10\.(9[6-9]|10[0-9]|11[01])\.[0-9]+\.[0-9]+$ ]]
        [ "$(jqb '.spec.clusterIPs[0]')" = "$ip" ]
        ips+=("$ip")
    done
    [ "$(printf '%s\n' "${ips[@]}" | sort -u | wc -l)" = 5 ]
    api POST /api/v1/namespaces/default/services "{\"metadata\":{\"name\":\"taken\"},\"spec\":{\"clusterIP\":\"${ips[0]}\",\"ports\":[{\"port\":80}]}}"
    [ "$code" = 422 ]
    [ "$(jqb .message)" = "Service \"taken\" is invalid: spec.clusterIPs: Invalid value: []string{\"${ips[0]}\"}: failed to allocate IP ${ips[0]}: provided IP is already allocated" ]
    # deleting a service frees its IP
    api DELETE /api/v1/namespaces/default/services/s1
    api POST /api/v1/namespaces/default/services "{\"metadata\":{\"name\":\"reuse\"},\"spec\":{\"clusterIP\":\"${ips[0]}\",\"ports\":[{\"port\":80}]}}"
    [ "$code" = 201 ]
}

@test "headless services get no IP" {
    api POST /api/v1/namespaces/default/services '{"metadata":{"name":"hl"},"spec":{"clusterIP":"None","selector":{"a":"b"},"ports":[{"port":80}]}}'
    [ "$code" = 201 ]
    [ "$(jqb .spec.clusterIP)" = None ]
}

@test "node ports are allocated in range, conflicts refused, and released on type change" {
    api POST /api/v1/namespaces/default/services '{"metadata":{"name":"np"},"spec":{"type":"NodePort","ports":[{"port":80}]}}'
    [ "$code" = 201 ]
    np=$(jqb '.spec.ports[0].nodePort')
    [ "$np" -ge 30000 ] && [ "$np" -le 32767 ]
    api POST /api/v1/namespaces/default/services "{\"metadata\":{\"name\":\"np2\"},\"spec\":{\"type\":\"NodePort\",\"ports\":[{\"port\":80,\"nodePort\":$np}]}}"
    [ "$code" = 422 ]
    [ "$(jqb .message)" = "Service \"np2\" is invalid: spec.ports[0].nodePort: Invalid value: $np: provided port is already allocated" ]
    api PATCH /api/v1/namespaces/default/services/np '{"spec":{"type":"ClusterIP"}}' application/merge-patch+json
    [ "$code" = 200 ]
    [ "$(jqb '.spec.ports[0].nodePort')" = null ]
    api POST /api/v1/namespaces/default/services "{\"metadata\":{\"name\":\"np2\"},\"spec\":{\"type\":\"NodePort\",\"ports\":[{\"port\":80,\"nodePort\":$np}]}}"
    [ "$code" = 201 ]
}

@test "a scheduled pod is deleted gracefully; an unscheduled one at once" {
    api POST /api/v1/namespaces/default/pods '{"metadata":{"name":"loose"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}'
    api DELETE /api/v1/namespaces/default/pods/loose
    [ "$code" = 200 ]
    api GET /api/v1/namespaces/default/pods/loose
    [ "$code" = 404 ]
    api POST /api/v1/namespaces/default/pods '{"metadata":{"name":"bound"},"spec":{"nodeName":"node-1","terminationGracePeriodSeconds":20,"containers":[{"name":"c","image":"busybox"}]}}'
    api DELETE /api/v1/namespaces/default/pods/bound
    [ "$code" = 200 ]
    [ "$(jqb .metadata.deletionGracePeriodSeconds)" = 20 ]
    [ -n "$(jqb .metadata.deletionTimestamp)" ]
    api GET /api/v1/namespaces/default/pods/bound
    [ "$code" = 200 ]
    # the kubelet's final delete with grace 0 removes it
    api DELETE "/api/v1/namespaces/default/pods/bound?gracePeriodSeconds=0"
    [ "$code" = 200 ]
    api GET /api/v1/namespaces/default/pods/bound
    [ "$code" = 404 ]
}

@test "a deleted namespace is Terminating, refuses new content, and goes once finalized" {
    api POST /api/v1/namespaces '{"metadata":{"name":"doomed"}}'
    [ "$code" = 201 ]
    [ "$(jqb '.spec.finalizers[0]')" = kubernetes ]
    api DELETE /api/v1/namespaces/doomed
    [ "$code" = 200 ]
    api GET /api/v1/namespaces/doomed
    [ "$(jqb .status.phase)" = Terminating ]
    api POST /api/v1/namespaces/doomed/configmaps '{"metadata":{"name":"late"}}'
    [ "$code" = 403 ]
    [ "$(jqb .message)" = 'configmaps "late" is forbidden: unable to create new content in namespace doomed because it is being terminated' ]
    api PUT /api/v1/namespaces/doomed/finalize '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"doomed"},"spec":{"finalizers":[]}}'
    [ "$code" = 200 ]
    api GET /api/v1/namespaces/doomed
    [ "$code" = 404 ]
}

@test "Priority admission: classes resolve into spec.priority; unknown classes and hand-set priorities are refused" {
    api GET /apis/scheduling.k8s.io/v1/priorityclasses/system-cluster-critical
    [ "$(jqb .value)" = 2000000000 ]
    api POST /apis/scheduling.k8s.io/v1/priorityclasses '{"metadata":{"name":"gold"},"value":500}'
    [ "$code" = 201 ]
    api POST /api/v1/namespaces/default/pods '{"metadata":{"name":"pg"},"spec":{"priorityClassName":"gold","containers":[{"name":"c","image":"busybox"}]}}'
    [ "$code" = 201 ]
    [ "$(jqb .spec.priority)" = 500 ]
    [ "$(jqb .spec.preemptionPolicy)" = PreemptLowerPriority ]
    api POST /api/v1/namespaces/default/pods '{"metadata":{"name":"p0"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}'
    [ "$(jqb .spec.priority)" = 0 ]
    api POST /api/v1/namespaces/default/pods '{"metadata":{"name":"px"},"spec":{"priorityClassName":"nope","containers":[{"name":"c","image":"busybox"}]}}'
    [ "$code" = 403 ]
    [ "$(jqb .message)" = 'pods "px" is forbidden: no PriorityClass with name nope was found' ]
    api POST /api/v1/namespaces/default/pods '{"metadata":{"name":"py"},"spec":{"priority":7,"containers":[{"name":"c","image":"busybox"}]}}'
    [ "$code" = 403 ]
}

@test "DefaultTolerationSeconds admission: 300 s not-ready/unreachable tolerations unless tolerated; admission also runs for dry runs" {
    api POST /api/v1/namespaces/default/pods '{"metadata":{"name":"dt"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}'
    [ "$code" = 201 ]
    [ "$(jqb -c .spec.tolerations)" = '[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300},{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}]' ]
    # admission's additions belong to no field manager
    [[ "$(jqb -c '.metadata.managedFields[0].fieldsV1')" != *tolerations* ]]
    # a pod that tolerates every NoExecute taint, or not-ready itself, keeps its own
    api POST /api/v1/namespaces/default/pods '{"metadata":{"name":"dt2"},"spec":{"tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":10},{"key":"x","operator":"Exists","effect":"NoSchedule"}],"containers":[{"name":"c","image":"busybox"}]}}'
    [ "$code" = 201 ]
    [ "$(jqb -c '[.spec.tolerations[] | [.key, .effect, .tolerationSeconds]]')" = '[["node.kubernetes.io/not-ready","NoExecute",10],["x","NoSchedule",null],["node.kubernetes.io/unreachable","NoExecute",300]]' ]
    api POST /api/v1/namespaces/default/pods '{"metadata":{"name":"dt3"},"spec":{"tolerations":[{"operator":"Exists"}],"containers":[{"name":"c","image":"busybox"}]}}'
    [ "$(jqb -c .spec.tolerations)" = '[{"operator":"Exists"}]' ]
    # dry run: admitted (tolerations, priority) but not stored
    api POST '/api/v1/namespaces/default/pods?dryRun=All' '{"metadata":{"name":"dt4"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}'
    [ "$code" = 201 ]
    [ "$(jqb '.spec.tolerations | length')" = 2 ]
    [ "$(jqb .spec.priority)" = 0 ]
    api GET /api/v1/namespaces/default/pods/dt4
    [ "$code" = 404 ]
    api POST '/api/v1/namespaces/default/pods?dryRun=All' '{"metadata":{"name":"dt5"},"spec":{"priorityClassName":"nope","containers":[{"name":"c","image":"busybox"}]}}'
    [ "$code" = 403 ]
}
