#!/usr/bin/env bats
# The kubelet on the lab (deploy/lab): Nodes register and become Ready, pods run in runc with
# an IP from their node's pod CIDR, reach each other, end as Completed / Error / OOMKilled,
# crash-loop, fail to pull, see their configMap volumes, survive a kubelet restart, and leave
# nothing behind once deleted. Checked with the real kubectl, as a user sees it.
#
# Pod CIDRs come from node IPAM (the lab creates no Node): nothing here assumes which node got
# which /24. Runs its own lab (unique prefix, subnets, directory). The kubelets are started through a
# small wrapper that adds the flags the lab does not pass yet: a per-node --cgroup-root (so
# the suite's pod cgroups are its own and removed at the end) and --registry-mirrors-only
# (the lab has no internet, so a missing image fails at the lab registry).

ROOT=${CKUBE_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
. "$ROOT/test/lib/e2e.sh" # LAB, lab, k, wait_for

# the pod's field by jsonpath
jp() {
    k get pod "$1" -o "jsonpath=$2" 2>/dev/null
}

field_is() {
    [ "$(jp "$1" "$2")" = "$3" ]
}

# getpod NAME: the pod's JSON into $P (one API call), read with pj JQ_FILTER
getpod() {
    P=$(k get pod "$1" -o json)
}

pj() {
    jq -r "$1" <<<"$P"
}

# pod manifests, created at once in setup_file so the slow parts (back-offs) overlap
pods_yaml() {
    cat <<EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {greeting: "hello from a configMap", mode: fast}
---
apiVersion: v1
kind: Pod
metadata: {name: hello}
spec:
  nodeName: node-1
  terminationGracePeriodSeconds: 2
  containers:
  - {name: c, image: busybox, command: [sh, -c, 'echo hello; sleep 3600']}
---
apiVersion: v1
kind: Pod
metadata: {name: web-a, labels: {app: web}}
spec:
  nodeName: node-1
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: ckube/agnhost
    args: [netexec, --http-port=8080]
    volumeMounts: [{name: cfg, mountPath: /etc/settings}]
    readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1}
  volumes: [{name: cfg, configMap: {name: settings}}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-b}
spec:
  nodeName: node-1
  terminationGracePeriodSeconds: 2
  containers:
  - {name: c, image: ckube/agnhost, args: [netexec, --http-port=8080]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-c}
spec:
  nodeName: node-2
  terminationGracePeriodSeconds: 2
  containers:
  - {name: c, image: ckube/agnhost, args: [netexec, --http-port=8080]}
---
apiVersion: v1
kind: Pod
metadata: {name: done-ok}
spec:
  nodeName: node-2
  restartPolicy: Never
  containers:
  - {name: c, image: busybox:1.36, command: [sh, -c, 'echo finished; exit 0']}
---
apiVersion: v1
kind: Pod
metadata: {name: done-bad}
spec:
  nodeName: node-2
  restartPolicy: Never
  containers:
  - {name: c, image: busybox:1.36, command: [sh, -c, 'echo broken >&2; exit 1']}
---
apiVersion: v1
kind: Pod
metadata: {name: crasher}
spec:
  nodeName: node-1
  containers:
  - {name: c, image: busybox:1.36, command: [sh, -c, 'exit 3']}
---
apiVersion: v1
kind: Pod
metadata: {name: no-image}
spec:
  nodeName: node-2
  containers:
  - {name: c, image: busybox:does-not-exist}
---
apiVersion: v1
kind: Pod
metadata: {name: inits}
spec:
  nodeName: node-2
  terminationGracePeriodSeconds: 2
  initContainers:
  - name: first
    image: busybox:1.36
    command: [sh, -c, 'echo first >> /work/order']
    volumeMounts: [{name: work, mountPath: /work}]
  - name: second
    image: busybox:1.36
    command: [sh, -c, 'echo second >> /work/order']
    volumeMounts: [{name: work, mountPath: /work}]
  containers:
  - name: app
    image: ckube/agnhost
    args: [netexec, --http-port=8080]
    volumeMounts: [{name: work, mountPath: /work}]
  volumes: [{name: work, emptyDir: {}}]
---
apiVersion: v1
kind: Pod
metadata: {name: unhealthy}
spec:
  nodeName: node-2
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.36
    command: [sh, -c, 'touch /tmp/healthy; sleep 2; rm /tmp/healthy; sleep 3600']
    livenessProbe: {exec: {command: [cat, /tmp/healthy]}, periodSeconds: 1, failureThreshold: 1}
---
apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  nodeName: node-1
  restartPolicy: Never
  containers:
  - name: c
    image: busybox:1.36
    command: [sh, -c, 'head -c 200m /dev/zero | tail']
    resources: {limits: {memory: 16Mi}}
EOF
}

setup_file() {
    [ "$(id -u)" = 0 ] || skip "the lab needs root"
    command -v runc >/dev/null || skip "runc is not installed"
    local bin=${CKUBE_BIN:-$ROOT/bin}
    [ -x "$bin/kubelet" ] || skip "$bin/kubelet is not built"
    e2e_lab_up ckk 10.250 2 || return 0
    pods_yaml | kubectl --kubeconfig "$T_DIR/kubeconfig" apply -f - >"$BATS_FILE_TMPDIR/apply.out" 2>&1
}

teardown_file() {
    e2e_lab_down
}

setup() {
    e2e_lab_check
}

# pod_netns_exec POD CMD...: runs CMD in the pod's network namespace (its sandbox's ns/net)
pod_netns_exec() {
    local uid node s
    uid=$(jp "$1" '{.metadata.uid}')
    node=$(jp "$1" '{.spec.nodeName}')
    shift
    for s in "$T_DIR/$node"/kubelet/runtime/sandboxes/*; do
        grep -qs "\"$uid\"" "$s/meta.json" || continue
        nsenter --net="$s/ns/net" "$@"
        return
    done
    return 1
}

# the pod CIDR node IPAM gave NODE (node-1, node-2)
node_cidr() {
    k get node "$1" -o 'jsonpath={.spec.podCIDR}'
}

# in_cidr24 IP CIDR: is IP inside the /24 CIDR?
in_cidr24() {
    [[ "$2" == */24 ]] && [[ "$1" == "${2%.0/24}".* ]]
}

node_ready() {
    [ "$(k get node "$1" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')" = True ]
}

@test "kubelet: both nodes register, become Ready and renew their Lease" {
    wait_for 30 node_ready node-1
    wait_for 30 node_ready node-2
    run k get node node-1 -o json
    [ "$status" -eq 0 ]
    local n=$output
    [ "$(jq -r '.status.conditions[] | select(.type=="Ready") | .reason' <<<"$n")" = KubeletReady ]
    [ "$(jq -r '.status.conditions[] | select(.type=="Ready") | .message' <<<"$n")" = \
        "kubelet is posting ready status" ]
    [ "$(jq -r '.status.conditions[] | select(.type=="MemoryPressure") | .reason' <<<"$n")" = \
        KubeletHasSufficientMemory ]
    [ "$(jq -r '[.status.conditions[].type] | join(",")' <<<"$n")" = \
        "MemoryPressure,DiskPressure,PIDPressure,Ready" ]
    [ "$(jq -r '.metadata.labels["kubernetes.io/hostname"]' <<<"$n")" = node-1 ]
    [ "$(jq -r '.metadata.labels["kubernetes.io/os"]' <<<"$n")" = linux ]
    [ "$(jq -r '.metadata.labels["kubernetes.io/arch"]' <<<"$n")" = amd64 ]
    # the pod CIDR comes from node IPAM: a /24 of the lab's cluster CIDR, the one the lab routes
    local cidr
    cidr=$(jq -r '.spec.podCIDR' <<<"$n")
    [[ "$cidr" =~ ^${T_PODNET//./\\.}\.[0-9]+\.0/24$ ]]
    [ "$(jq -c '.spec.podCIDRs' <<<"$n")" = "[\"$cidr\"]" ]
    [ "$(node_cidr node-2)" != "$cidr" ]
    run ip -n "$T_PREFIX-node-2" -4 route show "$cidr"
    [[ "$output" == *"via $T_SUBNET.11 dev eth0"* ]]
    [ "$(jq -r '.status.nodeInfo.kubeletVersion' <<<"$n")" = v1.32.4 ]
    [[ "$(jq -r '.status.nodeInfo.containerRuntimeVersion' <<<"$n")" == runc://* ]]
    [ "$(jq -r '.status.capacity.pods' <<<"$n")" = 110 ]
    [ "$(jq -r '.status.allocatable.cpu' <<<"$n")" = "$(jq -r '.status.capacity.cpu' <<<"$n")" ]
    [ -n "$(jq -r '.status.allocatable.memory' <<<"$n")" ]
    [ "$(jq -r '.status.addresses[] | select(.type=="InternalIP") | .address' <<<"$n")" = \
        "$T_SUBNET.11" ]
    [ "$(jq -r '.status.daemonEndpoints.kubeletEndpoint.Port' <<<"$n")" = 10250 ]
    run k get lease -n kube-node-lease node-2 -o json
    [ "$status" -eq 0 ]
    [ "$(jq -r .spec.holderIdentity <<<"$output")" = node-2 ]
    [ "$(jq -r .spec.leaseDurationSeconds <<<"$output")" = 40 ]
    [ "$(jq -r '.metadata.ownerReferences[0].kind' <<<"$output")" = Node ]
    # kubectl's view
    run k get nodes
    [[ "$output" == *"node-1   Ready"* ]]
    [[ "$output" == *"node-2   Ready"* ]]
    # the health endpoint, inside the node's namespace
    run lab exec node-1 -- curl -fsS -m 3 http://127.0.0.1:10248/healthz
    [ "$output" = ok ]
}

@test "kubelet: a busybox pod runs on node-1 with an IP of node-1's pod CIDR" {
    wait_for 60 field_is hello '{.status.phase}' Running
    getpod hello
    local ip
    ip=$(pj .status.podIP)
    in_cidr24 "$ip" "$(node_cidr node-1)"
    [ "$(pj '.status.podIPs[0].ip')" = "$ip" ]
    [ "$(pj .status.hostIP)" = "$T_SUBNET.11" ]
    [ "$(pj '.status.containerStatuses[0].state.running.startedAt')" != null ]
    [ "$(pj '.status.containerStatuses[0].ready')" = true ]
    [ "$(pj '.status.containerStatuses[0].started')" = true ]
    [ "$(pj '.status.containerStatuses[0].restartCount')" = 0 ]
    [[ "$(pj '.status.containerStatuses[0].containerID')" == runc://* ]]
    [ "$(pj '.status.containerStatuses[0].image')" = docker.io/library/busybox:latest ]
    [[ "$(pj '.status.containerStatuses[0].imageID')" == docker.io/library/busybox@sha256:* ]]
    [ "$(pj .status.qosClass)" = BestEffort ]
    [ "$(pj .status.startTime)" != null ]
    [ "$(pj '[.status.conditions[] | .type + "=" + .status] | join(",")')" = \
        "PodReadyToStartContainers=True,Initialized=True,Ready=True,ContainersReady=True,PodScheduled=True" ]
    # kubectl get -o wide: STATUS, IP, NODE
    run k get pod hello -o wide --no-headers
    [ "$status" -eq 0 ]
    read -r name ready st restarts age podip node _ <<<"$output"
    [ "$name" = hello ]
    [ "$ready" = 1/1 ]
    [ "$st" = Running ]
    [ "$restarts" = 0 ]
    [ "$podip" = "$ip" ]
    [ "$node" = node-1 ]
    # the container's output in its CRI log
    local log="$T_DIR/node-1/kubelet/pods-logs/default_hello_$(pj .metadata.uid)/c/0.log"
    wait_for 10 test -s "$log"
    grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z stdout F hello$' "$log"
    # the pod's own network namespace has that address on eth0
    run pod_netns_exec hello ip -4 -o addr show dev eth0
    [ "$status" -eq 0 ]
    [[ "$output" == *" inet $ip/24 "* ]]
}

@test "kubectl run: the scheduler places the pod and a kubelet runs it in runc" {
    [ -x "$T_BIN/kube-scheduler" ] || skip "kube-scheduler not built"
    run k run via-scheduler --image=busybox:1.36 -- sh -c 'echo scheduled; sleep 3600'
    [ "$status" = 0 ]
    [ "$output" = "pod/via-scheduler created" ]
    wait_for 60 field_is via-scheduler '{.status.phase}' Running
    run k get pod via-scheduler -o jsonpath='{.spec.nodeName} {.status.conditions[?(@.type=="PodScheduled")].status}'
    [[ "$output" =~ ^node-[12]\ True$ ]]
    run k get pod via-scheduler -o wide --no-headers
    [[ "$output" =~ ^via-scheduler\ +1/1\ +Running ]]
    # gone before later tests count what is left on the nodes
    k delete pod via-scheduler --grace-period=1 --timeout=60s >/dev/null
}

@test "kubelet: pods reach each other on one node and across nodes" {
    wait_for 60 field_is web-a '{.status.containerStatuses[0].ready}' true
    wait_for 60 field_is web-b '{.status.phase}' Running
    wait_for 60 field_is web-c '{.status.phase}' Running
    local a b c
    a=$(jp web-a '{.status.podIP}')
    b=$(jp web-b '{.status.podIP}')
    c=$(jp web-c '{.status.podIP}')
    # web-a and web-b on node-1, web-c on node-2: each inside its node's pod CIDR
    in_cidr24 "$a" "$(node_cidr node-1)"
    in_cidr24 "$b" "$(node_cidr node-1)"
    in_cidr24 "$c" "$(node_cidr node-2)"
    # from node-1 into web-a, and from web-a to web-b (same node) and web-c (node-2)
    run lab exec node-1 -- curl -fsS -m 5 "http://$a:8080/hostname"
    [ "$output" = web-a ]
    run lab exec node-1 -- curl -fsS -m 5 "http://$a:8080/shell?cmd=wget+-qO-+http://$b:8080/hostname"
    [[ "$output" == *'"output":"web-b"'* ]]
    run lab exec node-1 -- curl -fsS -m 5 "http://$a:8080/shell?cmd=wget+-qO-+http://$c:8080/clientip"
    [[ "$output" == *"\"output\":\"$a:"* ]]
    # ICMP too, both ways across the nodes (the lab's routes follow the allocated CIDRs)
    run lab exec node-1 -- curl -fsS -m 10 "http://$a:8080/shell?cmd=ping+-c+1+-W+3+$c"
    [[ "$output" == *"1 packets transmitted, 1 packets received"* ]]
    run lab exec node-2 -- curl -fsS -m 10 "http://$c:8080/shell?cmd=ping+-c+1+-W+3+$a"
    [[ "$output" == *"1 packets transmitted, 1 packets received"* ]]
    # the readiness probe made web-a Ready
    [ "$(jp web-a '{.status.conditions[?(@.type=="Ready")].status}')" = True ]
}

@test "kubelet: a configMap volume's files are visible in the container" {
    wait_for 60 field_is web-a '{.status.phase}' Running
    local a
    a=$(jp web-a '{.status.podIP}')
    run lab exec node-1 -- curl -fsS -m 5 "http://$a:8080/shell?cmd=cat+/etc/settings/greeting"
    [[ "$output" == *'"output":"hello from a configMap"'* ]]
    run lab exec node-1 -- curl -fsS -m 5 "http://$a:8080/shell?cmd=readlink+/etc/settings/mode"
    [[ "$output" == *'"output":"..data/mode\n"'* ]]
}

@test "kubelet: restartPolicy Never: exit 0 is Succeeded/Completed, exit 1 is Failed/Error" {
    wait_for 60 field_is done-ok '{.status.phase}' Succeeded
    wait_for 60 field_is done-bad '{.status.phase}' Failed
    getpod done-ok
    [ "$(pj '.status.containerStatuses[0].state.terminated.reason')" = Completed ]
    [ "$(pj '.status.containerStatuses[0].state.terminated.exitCode')" = 0 ]
    [ "$(pj '.status.conditions[] | select(.type=="Ready") | .reason')" = PodCompleted ]
    getpod done-bad
    [ "$(pj '.status.containerStatuses[0].state.terminated.reason')" = Error ]
    [ "$(pj '.status.containerStatuses[0].state.terminated.exitCode')" = 1 ]
    [ "$(pj '.status.conditions[] | select(.type=="Ready") | .reason')" = PodFailed ]
    run k get pods done-ok done-bad --no-headers
    [[ "$output" == *"done-ok "*"0/1"*"Completed"* ]]
    [[ "$output" == *"done-bad "*"0/1"*"Error"* ]]
}

@test "kubelet: a crashing container with restartPolicy Always goes CrashLoopBackOff" {
    crashlooping() {
        getpod crasher &&
            [ "$(pj '.status.containerStatuses[0].state.waiting.reason')" = CrashLoopBackOff ] &&
            [ "$(pj '.status.containerStatuses[0].restartCount')" -gt 0 ]
    }
    wait_for 60 crashlooping
    [ "$(pj .status.phase)" = Running ]
    [ "$(pj '.status.containerStatuses[0].lastState.terminated.exitCode')" = 3 ]
    [ "$(pj '.status.containerStatuses[0].lastState.terminated.reason')" = Error ]
    [[ "$(pj '.status.containerStatuses[0].state.waiting.message')" == \
        "back-off "*" restarting failed container=c pod=crasher_default("* ]]
    # the printed STATUS follows the container: it reads CrashLoopBackOff while
    # the kubelet waits out the back-off and Error or Running around each restart
    printed_backoff() { [[ "$(k get pod crasher --no-headers)" == *CrashLoopBackOff* ]]; }
    wait_for 60 printed_backoff
    run k get events --field-selector involvedObject.name=crasher,reason=BackOff -o name
    [ -n "$output" ]
}

@test "kubelet: a missing image gives ErrImagePull, then ImagePullBackOff" {
    pull_failed() {
        k get events --field-selector involvedObject.name=no-image,reason=Failed \
            -o jsonpath='{.items[*].message}' 2>/dev/null | grep -q 'Error: ErrImagePull'
    }
    wait_for 60 pull_failed
    wait_for 30 field_is no-image '{.status.containerStatuses[0].state.waiting.reason}' \
        ImagePullBackOff
    getpod no-image
    [ "$(pj '.status.containerStatuses[0].state.waiting.message')" = \
        'Back-off pulling image "busybox:does-not-exist"' ]
    [ "$(pj .status.phase)" = Pending ]
    run k get events --field-selector involvedObject.name=no-image,reason=Failed \
        -o jsonpath='{.items[*].message}'
    [[ "$output" == *'Failed to pull image "busybox:does-not-exist": '*'not found'* ]]
}

@test "kubelet: a container over its 16Mi memory limit is OOMKilled" {
    wait_for 60 field_is hog '{.status.phase}' Failed
    getpod hog
    [ "$(pj '.status.containerStatuses[0].state.terminated.reason')" = OOMKilled ]
    [ "$(pj '.status.containerStatuses[0].state.terminated.exitCode')" = 137 ]
    run k get pod hog --no-headers
    [[ "$output" == *OOMKilled* ]]
}

@test "kubelet: init containers run in order to completion before the app container" {
    wait_for 60 field_is inits '{.status.phase}' Running
    getpod inits
    [ "$(pj '[.status.initContainerStatuses[] | .name + "=" + .state.terminated.reason] | join(",")')" = \
        "first=Completed,second=Completed" ]
    [ "$(pj '.status.initContainerStatuses[1].state.terminated.exitCode')" = 0 ]
    [ "$(pj '.status.initContainerStatuses[0].ready')" = true ]
    [ "$(pj '.status.conditions[] | select(.type=="Initialized") | .status')" = True ]
    [ "$(pj '.status.containerStatuses[0].state.running.startedAt')" != null ]
    # both wrote into the shared emptyDir, in order
    run lab exec node-2 -- curl -fsS -m 5 "http://$(pj .status.podIP):8080/shell?cmd=cat+/work/order"
    [[ "$output" == *'"output":"first\nsecond\n"'* ]]
    run k get pod inits --no-headers
    [[ "$output" == *"inits "*"1/1"*"Running"* ]]
}

@test "kubelet: a failing liveness probe restarts the container" {
    restarted() {
        [ "$(jp unhealthy '{.status.containerStatuses[0].restartCount}')" -gt 0 ] 2>/dev/null
    }
    wait_for 60 restarted
    getpod unhealthy
    [ "$(pj '.status.containerStatuses[0].lastState.terminated.exitCode')" = 137 ]
    # the kubelet records events in the background: they may land just after the restart
    probe_events() {
        local ev
        ev=$(k get events --field-selector involvedObject.name=unhealthy -o json) &&
            # one of them (under load a probe may also time out, which is worded otherwise)
            jq -r '.items[] | select(.reason=="Unhealthy") | .message' <<<"$ev" | grep -qxF \
                "Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory" &&
            [ "$(jq -r '.items[] | select(.reason=="Killing") | .message' <<<"$ev" | head -n1)" = \
                "Container c failed liveness probe, will be restarted" ] &&
            [ "$(jq -r '.items[] | select(.reason=="Unhealthy") | .involvedObject.fieldPath' <<<"$ev" | head -n1)" = \
                "spec.containers{c}" ]
    }
    wait_for 20 probe_events
}

@test "kubelet: a restarted kubelet adopts running containers without restarting them" {
    wait_for 60 field_is hello '{.status.phase}' Running
    getpod hello
    local cid started
    cid=$(pj '.status.containerStatuses[0].containerID')
    started=$(pj '.status.containerStatuses[0].state.running.startedAt')
    local log=$T_DIR/logs/node-1-kubelet.log starts
    starts=$(grep -c "Started kubelet" "$log")
    run lab restart node-1 kubelet
    [ "$status" -eq 0 ]
    started_again() { [ "$(grep -c "Started kubelet" "$log")" -gt "$starts" ]; }
    wait_for 30 started_again
    # it found the pods the runtime runs (hello among them)
    [ "$(grep "Adopted" "$log" | tail -n1 | grep -oE '[0-9]+ pods')" != "0 pods" ]
    sleep 2 # a few syncs of the adopted pods
    getpod hello
    [ "$(pj '.status.containerStatuses[0].containerID')" = "$cid" ]
    [ "$(pj '.status.containerStatuses[0].state.running.startedAt')" = "$started" ]
    [ "$(pj '.status.containerStatuses[0].restartCount')" = 0 ]
    [ "$(pj .status.phase)" = Running ]
    wait_for 30 node_ready node-1
    # the adopted pod keeps its network
    run pod_netns_exec hello ip -4 -o addr show dev eth0
    [[ "$output" == *" inet $(jp hello '{.status.podIP}')/24 "* ]]
}

@test "kubelet: deleting a pod stops its container and removes it, its mounts and its netns" {
    wait_for 60 field_is hello '{.status.phase}' Running
    getpod hello
    local uid cid root=$T_DIR/node-1/kubelet
    uid=$(pj .metadata.uid)
    cid=$(pj '.status.containerStatuses[0].containerID')
    cid=${cid#runc://}
    runc --root "$root/runtime/runc" state "$cid" >/dev/null
    run k delete pod hello --wait=true --timeout=30s
    [ "$status" -eq 0 ]
    run k get pod hello
    [ "$status" -ne 0 ]
    [[ "$output" == *NotFound* ]]
    # no runc state, no container or sandbox directory, no mount, no netns left
    run runc --root "$root/runtime/runc" state "$cid"
    [ "$status" -ne 0 ]
    [ -z "$(runc --root "$root/runtime/runc" list -q)" ] || [[ "$(runc --root "$root/runtime/runc" list -q)" != *"$cid"* ]]
    [ ! -e "$root/runtime/containers/$cid" ]
    [ ! -e "$root/pods/$uid" ]
    run grep -F -e "$uid" -e "$cid" /proc/self/mountinfo
    [ "$status" -ne 0 ]
    local s
    for s in "$root"/runtime/sandboxes/*; do
        [ -e "$s" ] || continue
        ! grep -qs "$uid" "$s/meta.json"
    done
    # no cgroup for the pod on the node either
    [ -z "$(find /sys/fs/cgroup/memory/"$T_PREFIX"-node-1 -maxdepth 3 -name "pod$uid" 2>/dev/null)" ]
}

# the deployment's pods (app=web with a pod-template-hash: not the suite's web-a/b/c pods) as
# "name node phase image deleting" lines
web_pods() {
    k get pods -l app=web,pod-template-hash -o jsonpath='{range .items[*]}{.metadata.name} {.spec.nodeName} {.status.phase} {.spec.containers[0].image} {.metadata.deletionTimestamp}{"\n"}{end}'
}

web_running_count() {
    [ "$(web_pods | awk '$3 == "Running" && $5 == ""' | wc -l)" = "$1" ]
}

web_pod_count() {
    [ "$(web_pods | grep -c .)" = "$1" ]
}

# the containers of the web pods the runtime of both nodes still has
web_containers() {
    local d
    for d in "$T_DIR"/node-*/kubelet/runtime/containers/*; do
        [ -e "$d/meta.json" ] || continue
        jq -r '.labels["io.kubernetes.pod.name"]' "$d/meta.json"
    done | grep -cE '^web-[0-9a-z]+-[0-9a-z]{5}$'
}

# "image=replicas " of each of the deployment's ReplicaSets, sorted
web_replicasets_are() {
    [ "$(k get rs -l app=web,pod-template-hash -o jsonpath='{range .items[*]}{.spec.template.spec.containers[0].image}={.spec.replicas}{"\n"}{end}' | sort | tr '\n' ' ')" = "$1" ]
}

web_containers_are() {
    [ "$(web_containers)" = "$1" ]
}

@test "kubelet: the nodes report no memory, disk or PID pressure, as upstream words it" {
    local n c want
    for n in node-1 node-2; do
        for want in "MemoryPressure False KubeletHasSufficientMemory kubelet has sufficient memory available" \
            "DiskPressure False KubeletHasNoDiskPressure kubelet has no disk pressure" \
            "PIDPressure False KubeletHasSufficientPID kubelet has sufficient PID available"; do
            c=${want%% *}
            [ "$(k get node "$n" -o "jsonpath={.status.conditions[?(@.type==\"$c\")].status} {.status.conditions[?(@.type==\"$c\")].reason} {.status.conditions[?(@.type==\"$c\")].message}")" = "${want#* }" ]
        done
    done
}

@test "kubectl create deployment: 4 replicas run spread over both nodes; scale to 1; set image rolls out" {
    # `kubectl create deployment web --image=busybox:1.36 --replicas=4 -- sleep 3600`, with a
    # 2 s grace period so the scale-down does not wait 30 s for sleep (PID 1 ignores SIGTERM)
    k create deployment web --image=busybox:1.36 --replicas=4 --dry-run=client -o json \
        -- sleep 3600 | jq '.spec.template.spec.terminationGracePeriodSeconds = 2' | k create -f -
    wait_for 60 web_running_count 4 || {
        web_pods
        false
    }
    # the scheduler spread them: both nodes run some
    [ "$(web_pods | awk '{print $2}' | sort -u | tr '\n' ' ')" = "node-1 node-2 " ]
    wait_for 10 web_containers_are 4
    # scale to 1: three pods go, and so do their containers
    k scale deployment web --replicas=1
    wait_for 40 web_pod_count 1 || {
        web_pods
        false
    }
    wait_for 20 web_containers_are 1
    local first
    first=$(web_pods | awk '{print $1}')
    # set image: a new ReplicaSet whose pod runs the new image, the old pod goes
    k set image deployment/web busybox=busybox:1.37
    run k rollout status deployment/web --timeout=60s
    [ "$status" -eq 0 ]
    wait_for 30 web_replicasets_are "busybox:1.36=0 busybox:1.37=1 " || {
        k get rs -l app=web,pod-template-hash
        false
    }
    wait_for 30 web_pod_count 1
    wait_for 30 web_running_count 1
    web_pods | awk '{print $1, $4}' | grep -q ' busybox:1.37$'
    [ -z "$(web_pods | awk -v f="$first" '$1 == f')" ]
    [ "$(k get deployment web -o jsonpath='{.status.updatedReplicas}/{.status.availableReplicas}')" = 1/1 ]
    k delete deployment web --wait=false
    wait_for 30 web_pod_count 0
}

@test "kubelet: deleted finished pods leave nothing behind on their nodes" {
    run k delete pod done-ok done-bad hog crasher no-image web-a web-b web-c inits unhealthy \
        --wait=true --timeout=60s
    [ "$status" -eq 0 ]
    # what is left on the nodes belongs to the pods still in the API (the lab's cluster DNS
    # pods in kube-system) and to nothing else
    local live n root d sb
    live=" $(k get pods -A -o jsonpath='{.items[*].metadata.uid}') "
    for n in 1 2; do
        root=$T_DIR/node-$n/kubelet
        for d in "$root"/pods/*; do
            [ -e "$d" ] || continue
            [[ "$live" == *" $(basename "$d") "* ]]
        done
        local sandboxes=" "
        for d in "$root"/runtime/sandboxes/*; do
            [ -e "$d" ] || continue
            [[ "$live" == *" $(jq -r .podUid "$d/meta.json") "* ]]
            sandboxes+="$(basename "$d") "
        done
        for d in "$root"/runtime/containers/*; do
            [ -e "$d" ] || continue
            sb=$(jq -r .sandboxId "$d/meta.json")
            [[ "$sandboxes" == *" $sb "* ]]
            sandboxes+="$(basename "$d") "
        done
        # every mount left under the node's directory is one of those pods' or containers'
        local line ok id
        while read -r line; do
            ok=
            for id in $live $sandboxes; do
                [[ "$line" == *"$id"* ]] && ok=1 && break
            done
            [ -n "$ok" ] || {
                echo "left mounted: $line"
                return 1
            }
        done < <(grep -F "$T_DIR/node-$n/" /proc/self/mountinfo)
    done
}

# the test below stops kube-controller-manager (SIGSTOP); whatever happens, it resumes
teardown() {
    local f=$BATS_FILE_TMPDIR/kcm-stopped
    [ -f "$f" ] || return 0
    kill -CONT "$(cat "$f")" 2>/dev/null
    rm -f "$f"
}

node_ready_is() {
    [ "$(k get node "$1" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' \
        2>/dev/null)" = "$2" ]
}

@test "kubelet: until node IPAM gives its Node a pod CIDR the node is NotReady and its pods wait" {
    # last of the suite: node-2 comes back with another pod CIDR than the lab routed
    local kcm
    kcm=$(cat "$T_DIR/run/kube-controller-manager.pid")
    [[ "$kcm" =~ ^[0-9]+$ ]]
    kill -0 "$kcm"
    echo "$kcm" >"$BATS_FILE_TMPDIR/kcm-stopped"
    kill -STOP "$kcm"
    # a new Node node-2 from a kubelet that has no network configuration yet
    local kubelet
    kubelet=$(cat "$T_DIR/run/node-2-kubelet.pid")
    [[ "$kubelet" =~ ^[0-9]+$ ]]
    kill -TERM "$kubelet"
    gone() { ! kill -0 "$kubelet" 2>/dev/null || [ "$(awk '{print $3}' "/proc/$kubelet/stat")" = Z ]; }
    wait_for 20 gone
    rm -f "$T_DIR"/node-2/kubelet/cni/net.d/*
    k delete node node-2 --wait=true >/dev/null
    run lab restart node-2 kubelet
    [ "$status" -eq 0 ]
    wait_for 30 node_ready_is node-2 False
    run k get node node-2 -o json
    [ "$(jq -r '.spec.podCIDR // ""' <<<"$output")" = "" ]
    [ "$(jq -c '.status.conditions[] | select(.type=="Ready") | [.reason, .message]' <<<"$output")" = \
        '["KubeletNotReady","container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized"]' ]
    run k get nodes --no-headers
    [[ "$output" == *"node-2   NotReady"* ]]
    # a pod bound to it waits (no sandbox, no IP) and is not failed
    k apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: waits-for-cidr}
spec:
  nodeName: node-2
  containers:
  - {name: c, image: ckube/agnhost, args: [netexec, --http-port=8080]}
YAML
    net_event() {
        k get events --field-selector involvedObject.name=waits-for-cidr -o json |
            jq -e '.items[] | select(.reason=="NetworkNotReady" and .type=="Warning" and .message=="network is not ready: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized")' >/dev/null
    }
    wait_for 20 net_event
    getpod waits-for-cidr
    [ "$(pj .status.phase)" = Pending ]
    [ "$(pj '.status.podIP // ""')" = "" ]
    # node IPAM back: the CIDR arrives, the kubelet takes it at once (not after its 10 s
    # status period), the node turns Ready and the pod runs with an IP of the new CIDR
    kill -CONT "$kcm"
    rm -f "$BATS_FILE_TMPDIR/kcm-stopped"
    local t0=$SECONDS
    wait_for 20 node_ready_is node-2 True
    [ $((SECONDS - t0)) -le 5 ]
    local cidr
    cidr=$(node_cidr node-2)
    [[ "$cidr" =~ ^${T_PODNET//./\\.}\.[0-9]+\.0/24$ ]]
    [ "$cidr" != "$(node_cidr node-1)" ]
    grep -qF "Updating Pod CIDR originalPodCIDR=\"\" newPodCIDR=\"$cidr\"" \
        "$T_DIR/logs/node-2-kubelet.log"
    wait_for 30 field_is waits-for-cidr '{.status.phase}' Running
    in_cidr24 "$(jp waits-for-cidr '{.status.podIP}')" "$cidr"
    # upstream records NodeReady for the change, and nothing for a new Node's first NotReady
    run k get events -o json
    [ "$(jq '[.items[] | select(.involvedObject.name=="node-2" and .reason=="NodeNotReady")] | length' <<<"$output")" = 0 ]
    [ "$(jq '[.items[] | select(.involvedObject.name=="node-2" and .reason=="NodeReady")] | length' <<<"$output")" -ge 2 ]
    k delete pod waits-for-cidr --grace-period=1 --wait=true --timeout=60s >/dev/null
}

@test "kubelet: no daemon wrote a sanitizer report (SAN builds)" {
    # a graceful stop of each kubelet (LeakSanitizer reports at exit)
    run lab restart node-1 kubelet
    [ "$status" -eq 0 ]
    run lab restart node-2 kubelet
    [ "$status" -eq 0 ]
    run grep -l -e "ERROR: AddressSanitizer" -e "ERROR: LeakSanitizer" -e "runtime error:" \
        "$T_DIR"/logs/*.log
    [ "$status" -ne 0 ]
}
