#!/usr/bin/env bats
# The lab itself (deploy/lab): network namespaces per node, the bridge, routes that never use the
# default route, the apiserver relay and the registry reached from inside nodes, kubelets started
# in their node namespaces with the lab's flags, crash recovery and a `down` that leaves nothing.
#
# Runs its own lab with a unique prefix, subnet, pod net, service CIDR and directory, so it never
# meets a developer's lab. Kubelet and kube-proxy are small fakes (they record their arguments
# and network namespace, then sleep; the fake kubelet first registers its Node, as a kubelet
# does, so the real kube-controller-manager's node IPAM gives it a pod CIDR): this suite tests
# the lab, not the node daemons. Pods on the lab's real kubelets: kubelet.bats.

ROOT=${CKUBE_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
. "$ROOT/test/lib/e2e.sh" # LAB, lab, k, wait_for

lab_up() {
    "$LAB" up --dir "$T_DIR" --prefix "$T_PREFIX" --subnet "$T_SUBNET" --pod-net "$T_PODNET" \
        --service-cidr "$T_SVC" --bin "$T_BIN" --nodes 2 --no-wait "$@"
}

fake_daemon() {
    # $1: file; records "$@", the network namespace and each start next to --root-dir (kubelet)
    # or --kubeconfig (kube-proxy)
    cat >"$1" <<'EOF'
#!/bin/sh
d=""
for a in "$@"; do
    case "$a" in
    --root-dir=*) d=${a#--root-dir=} ;;
    --kubeconfig=*) [ -z "$d" ] && d=$(dirname "${a#--kubeconfig=}")/proxy ;;
    esac
done
mkdir -p "$d"
printf '%s\n' "$@" >"$d/fake-args"
readlink /proc/self/ns/net >"$d/fake-netns"
echo $$ >>"$d/fake-starts"
# the kubelet registers its Node (no podCIDR: node IPAM assigns it), unless told not to
node="" kc=""
for a in "$@"; do
    case "$a" in
    --hostname-override=*) node=${a#*=} ;;
    --kubeconfig=*) kc=${a#*=} ;;
    esac
done
case "$d" in
*/kubelet)
    if [ "$node" != "${CKUBE_FAKE_NO_REGISTER:-}" ]; then
        server=$(sed -n 's/^ *server: *//p' "$kc")
        for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
            code=$(curl -s -o /dev/null -w '%{http_code}' -m 3 -X POST \
                -H 'Content-Type: application/json' "$server/api/v1/nodes" \
                --data "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"$node\"}}")
            case "$code" in 201 | 409) break ;; esac
            sleep 0.5
        done
        echo "$code" >"$d/fake-register"
    fi
    ;;
esac
exec sleep 100000
EOF
    chmod +x "$1"
}

setup_file() {
    [ "$(id -u)" = 0 ] || skip "the lab needs root"
    local bin=${CKUBE_BIN:-$ROOT/bin}
    export T_ID="$((RANDOM % 100))$(head -c 2 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    export T_PREFIX="ckt${T_ID}"
    export T_DIR="$BATS_FILE_TMPDIR/lab dir" # a blank in the path on purpose
    export T_SUBNET="10.250.$((100 + RANDOM % 150))"
    export T_PODNET="10.$((200 + RANDOM % 50))"
    export T_SVC="10.$((160 + RANDOM % 30)).0.0/16"
    export T_BIN="$BATS_FILE_TMPDIR/bin"
    mkdir -p "$T_BIN"
    ln -s "$bin/kube-apiserver" "$T_BIN/kube-apiserver"
    local b
    for b in kube-scheduler kube-controller-manager; do
        [ -x "$bin/$b" ] && ln -s "$bin/$b" "$T_BIN/$b"
    done
    fake_daemon "$T_BIN/kubelet"
    fake_daemon "$T_BIN/kube-proxy"
    local t0=$SECONDS
    lab_up >"$BATS_FILE_TMPDIR/up1.out" 2>&1
    echo "$? $((SECONDS - t0))" >"$BATS_FILE_TMPDIR/up1.rc"
}

# the pod CIDR node-N got from node IPAM
node_cidr() {
    kubectl --kubeconfig "$T_DIR/kubeconfig" get node "node-$1" -o 'jsonpath={.spec.podCIDR}'
}

# an address inside a /24 CIDR: cidr_addr 10.1.2.0/24 7 -> 10.1.2.7
cidr_addr() {
    local c=${1%/24}
    echo "${c%.*}.$2"
}

teardown_file() {
    [ -n "${T_DIR:-}" ] || return 0
    "$LAB" down --dir "$T_DIR" --prefix "$T_PREFIX" >/dev/null 2>&1
    return 0
}

# nothing of the test lab exists any more: processes, namespaces, links, mounts, routes, rules
assert_nothing_left() {
    local leftovers=""
    local ns
    ns=$(ip netns list | grep "^$T_PREFIX-" || true)
    [ -z "$ns" ] || leftovers+="netns: $ns; "
    ls /run/netns/"$T_PREFIX"-* >/dev/null 2>&1 && leftovers+="/run/netns files; "
    local links
    links=$(ip -o link show | grep -E ": $T_PREFIX(0|-n[0-9]+)[@:]" || true)
    [ -z "$links" ] || leftovers+="links: $links; "
    local procs
    procs=$(grep -lzFx "CKUBE_LAB_DIR=$T_DIR" /proc/[0-9]*/environ 2>/dev/null || true)
    [ -z "$procs" ] || leftovers+="marked processes: $procs; "
    procs=$(pgrep -af -- "$T_DIR/" || true)
    [ -z "$procs" ] || leftovers+="processes: $procs; "
    local mnt
    mnt=$(grep -F -e "${T_DIR// /\\040}/" -e "/run/netns/$T_PREFIX-" /proc/self/mountinfo || true)
    [ -z "$mnt" ] || leftovers+="mounts: $mnt; "
    local routes
    routes=$(ip -4 route show | grep -F -e "$T_SUBNET." -e "$T_PODNET." -e "${T_SVC%%.0.0/16}." || true)
    [ -z "$routes" ] || leftovers+="routes: $routes; "
    local rules
    rules=$(iptables -w 5 -S 2>/dev/null | grep -F "ckube-lab:$T_PREFIX" || true)
    [ -z "$rules" ] || leftovers+="iptables: $rules; "
    [ ! -e "/run/ckube-lab/$T_PREFIX" ] || leftovers+="owner file; "
    if [ -n "$leftovers" ]; then
        echo "left behind: $leftovers" >&2
        return 1
    fi
}

@test "lab up: starts a 2-node lab in under a minute and says how to use it" {
    read -r rc secs <"$BATS_FILE_TMPDIR/up1.rc"
    cat "$BATS_FILE_TMPDIR/up1.out"
    [ "$rc" = 0 ]
    [ "$secs" -lt 60 ]
    grep -qF "export KUBECONFIG=$(printf '%q' "$T_DIR/kubeconfig")" "$BATS_FILE_TMPDIR/up1.out"
    grep -qF "kubectl get nodes" "$BATS_FILE_TMPDIR/up1.out"
}

@test "lab: each node namespace has its address, loopback up and no default route" {
    local n
    for n in 1 2; do
        run ip -n "$T_PREFIX-node-$n" -4 -o addr show dev eth0
        [ "$status" -eq 0 ]
        [[ "$output" == *" inet $T_SUBNET.1$n/24 "* ]]
        run ip -n "$T_PREFIX-node-$n" -o link show lo
        [[ "$output" == *"LOWER_UP"* ]]
        run ip -n "$T_PREFIX-node-$n" route show default
        [ "$status" -eq 0 ]
        [ -z "$output" ]
        # an outside address is unreachable from a node: nothing can leave through it
        run ip -n "$T_PREFIX-node-$n" route get 192.0.2.1
        [ "$status" -ne 0 ]
        [[ "$output" == *"unreachable"* ]]
    done
}

@test "lab: nodes route other nodes' pod CIDRs to them, services to the bridge, and forward" {
    local c1 c2
    c1=$(node_cidr 1)
    c2=$(node_cidr 2)
    [ -n "$c1" ] && [ -n "$c2" ]
    run ip -n "$T_PREFIX-node-1" -4 route show "$c2"
    [[ "$output" == *"via $T_SUBNET.12 dev eth0"* ]]
    run ip -n "$T_PREFIX-node-2" -4 route show "$c1"
    [[ "$output" == *"via $T_SUBNET.11 dev eth0"* ]]
    # and no route for its own CIDR (its pods are on its own bridge)
    run ip -n "$T_PREFIX-node-1" -4 route show "$c1"
    [ -z "$output" ]
    run ip -n "$T_PREFIX-node-1" -4 route show "$T_SVC"
    [[ "$output" == *"via $T_SUBNET.1 dev eth0"* ]]
    run lab exec node-2 -- cat /proc/sys/net/ipv4/ip_forward
    [ "$output" = 1 ]
}

@test "lab: the root namespace routes pod and service addresses to the bridge only" {
    run ip -4 -o addr show dev "${T_PREFIX}0"
    [[ "$output" == *" inet $T_SUBNET.1/24 "* ]]
    run ip -4 route get "$(cidr_addr "$(node_cidr 1)" 7)"
    [[ "$output" == *"via $T_SUBNET.11 dev ${T_PREFIX}0"* ]]
    run ip -4 route get "$(cidr_addr "$(node_cidr 2)" 7)"
    [[ "$output" == *"via $T_SUBNET.12 dev ${T_PREFIX}0"* ]]
    # a pod CIDR no node has yet still stays on the bridge
    run ip -4 route get "$T_PODNET.77.7"
    [[ "$output" == *"dev ${T_PREFIX}0"* ]]
    run ip -4 route get "${T_SVC%%.0.0/16}.0.10"
    [[ "$output" == *"via $T_SUBNET.11 dev ${T_PREFIX}0"* ]]
    # and packets from the bridge never get forwarded elsewhere
    run iptables -w 5 -S FORWARD
    [[ "$output" == *"-i ${T_PREFIX}0 ! -o ${T_PREFIX}0 -m comment --comment \"ckube-lab:$T_PREFIX\" -j DROP"* ]]
}

@test "lab: a node reaches the apiserver through the relay on the bridge" {
    run lab exec node-1 -- curl -fsS -m 5 "http://$T_SUBNET.1:6443/healthz"
    [ "$status" -eq 0 ]
    [ "$output" = ok ]
    # with the node's own kubeconfig and the real kubectl
    run lab exec node-2 -- kubectl --kubeconfig "$T_DIR/node-2/kubeconfig" get namespace default \
        -o 'jsonpath={.metadata.name}'
    [ "$status" -eq 0 ]
    [ "$output" = default ]
}

@test "lab: the admin kubeconfig and DIR/env work from the root namespace" {
    run kubectl --kubeconfig "$T_DIR/kubeconfig" get namespaces -o name
    [ "$status" -eq 0 ]
    [[ "$output" == *"namespace/kube-system"* ]]
    run bash -c ". '$T_DIR/env' && etcdctl endpoint health"
    [ "$status" -eq 0 ]
    [[ "$output" == *"is healthy"* ]]
}

@test "lab: the registry serves busybox latest 1.35 1.36 1.37, pause and agnhost inside a node" {
    run lab exec node-2 -- curl -fsS -m 5 "http://$T_SUBNET.1:5000/v2/library/busybox/tags/list"
    [ "$status" -eq 0 ]
    local tags
    tags=$(echo "$output" | jq -r '.tags | sort | join(" ")')
    [ "$tags" = "1.35 1.36 1.37 latest" ]
    local accept="application/vnd.oci.image.manifest.v1+json"
    run lab exec node-1 -- curl -fsS -m 5 -H "Accept: $accept" \
        "http://$T_SUBNET.1:5000/v2/pause/manifests/3.10"
    [ "$status" -eq 0 ]
    run lab exec node-1 -- curl -fsS -m 5 -H "Accept: $accept" \
        "http://$T_SUBNET.1:5000/v2/ckube/agnhost/manifests/latest"
    [ "$status" -eq 0 ]
    # the busybox image runs sh by default, for amd64 linux
    local cfg
    cfg=$(echo "$output" | jq -r .config.digest)
    run lab exec node-1 -- curl -fsS -m 5 \
        "http://$T_SUBNET.1:5000/v2/ckube/agnhost/blobs/$cfg"
    [ "$(echo "$output" | jq -c .config.Entrypoint)" = '["/agnhost"]' ]
}

@test "lab: kubelets run in their node namespace with the lab's flags and no --pod-cidr" {
    local n args
    for n in 1 2; do
        args="$T_DIR/node-$n/kubelet/fake-args"
        [ -f "$args" ]
        grep -qx -- "--hostname-override=node-$n" "$args"
        grep -qx -- "--kubeconfig=$T_DIR/node-$n/kubeconfig" "$args"
        grep -qx -- "--root-dir=$T_DIR/node-$n/kubelet" "$args"
        # the pod CIDR comes from the Node (node IPAM), not from the lab
        run grep -e "--pod-cidr" "$args"
        [ "$status" -ne 0 ]
        grep -qx -- "--node-ip=$T_SUBNET.1$n" "$args"
        grep -qx -- "--registry-mirror=docker.io=http://$T_SUBNET.1:5000" "$args"
        [ "$(cat "$T_DIR/node-$n/kubelet/fake-netns")" = \
            "net:[$(stat -L -c %i "/run/netns/$T_PREFIX-node-$n")]" ]
        [ "$(cat "$T_DIR/node-$n/proxy/fake-netns")" = \
            "net:[$(stat -L -c %i "/run/netns/$T_PREFIX-node-$n")]" ]
        # the kubelet registered the Node itself: the lab created none
        [ "$(cat "$T_DIR/node-$n/kubelet/fake-register")" = 201 ]
    done
    [ -s "$T_DIR/logs/node-1-kubelet.log" ]
}

@test "lab: node IPAM gives each registered Node a distinct /24 of the cluster CIDR" {
    [ -x "$T_BIN/kube-controller-manager" ] || skip "kube-controller-manager not built"
    local n cidr all=()
    for n in 1 2; do
        run kubectl --kubeconfig "$T_DIR/kubeconfig" get node "node-$n" \
            -o 'jsonpath={.spec.podCIDR} {.spec.podCIDRs}'
        [ "$status" -eq 0 ]
        cidr=${output%% *}
        [[ "$cidr" =~ ^${T_PODNET//./\\.}\.([0-9]+)\.0/24$ ]]
        [ "${BASH_REMATCH[1]}" -le 255 ]
        [ "$output" = "$cidr [\"$cidr\"]" ]
        all+=("$cidr")
        # the controller set it (the lab never writes a Node)
        grep -q "Set node PodCIDR node=node-$n podCIDRs=$cidr" \
            "$T_DIR/logs/kube-controller-manager.log"
    done
    [ "${all[0]}" != "${all[1]}" ]
    # up reported them
    grep -qF "pod CIDRs from node IPAM: node-1 ${all[0]}, node-2 ${all[1]}, routed" \
        "$BATS_FILE_TMPDIR/up1.out"
    # the root routes to them are in the state file, so down removes them even after a crash
    grep -qF "route"$'\t'"${all[0]}"$'\t'"via"$'\t'"$T_SUBNET.11"$'\t' "$T_DIR/state"
    grep -qF "route"$'\t'"${all[1]}"$'\t'"via"$'\t'"$T_SUBNET.12"$'\t' "$T_DIR/state"
    # and recorded for status
    [ "$(cat "$T_DIR/run/pod-cidrs")" = "1"$'\t'"${all[0]}"$'\n'"2"$'\t'"${all[1]}" ]
}

@test "lab restart: restarts one node's kubelet and nothing else" {
    local before proxy_before
    before=$(cat "$T_DIR/run/node-1-kubelet.pid")
    proxy_before=$(cat "$T_DIR/run/node-1-kube-proxy.pid")
    run lab restart node-1 kubelet
    [ "$status" -eq 0 ]
    local after
    after=$(cat "$T_DIR/run/node-1-kubelet.pid")
    [ "$after" != "$before" ]
    # gone (or a zombie waiting for init to reap it)
    [ ! -d "/proc/$before" ] || [ "$(awk '{print $3}' "/proc/$before/stat" 2>/dev/null)" = Z ]
    kill -0 "$after"
    [ "$(wc -l <"$T_DIR/node-1/kubelet/fake-starts")" -eq 2 ]
    [ "$(wc -l <"$T_DIR/node-2/kubelet/fake-starts")" -eq 1 ]
    [ "$(cat "$T_DIR/run/node-1-kube-proxy.pid")" = "$proxy_before" ]
    run lab restart node-3 kubelet
    [ "$status" -ne 0 ]
    [[ "$output" == *"no node 'node-3'"* ]]
    run lab restart node-1 etcd
    [ "$status" -ne 0 ]
}

@test "lab status: lists every component running; exec refuses unknown nodes" {
    run lab status
    [ "$status" -eq 0 ]
    local c
    for c in etcd-m0 kube-apiserver apiserver-relay registry node-1-kubelet node-2-kube-proxy; do
        [[ "$output" == *"$c "*running* ]]
    done
    # the pod CIDRs the Nodes really have
    local n
    for n in 1 2; do
        [[ "$output" == *"netns $T_PREFIX-node-$n "*"$T_SUBNET.1$n, pods $(node_cidr "$n")"* ]]
    done
    run lab exec node-9 -- true
    [ "$status" -eq 2 ]
}

@test "lab up after kill -9 of every lab process: starts a fresh lab" {
    local f pids=()
    for f in "$T_DIR"/run/*.pid; do pids+=("$(cat "$f")"); done
    kill -9 "${pids[@]}"
    run lab_up
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"removing the previous lab"* ]]
    # a new apiserver serves the nodes (the old one is gone)
    [[ " ${pids[*]} " != *" $(cat "$T_DIR/run/kube-apiserver.pid") "* ]]
    run lab exec node-2 -- curl -fsS -m 5 "http://$T_SUBNET.1:6443/healthz"
    [ "$output" = ok ]
    run lab status
    [ "$status" -eq 0 ]
}

@test "lab down: leaves no process, namespace, link, mount, route or rule" {
    # what node daemons leave behind: a pod sandbox (a process in its own network namespace,
    # bind-mounted under the kubelet's root dir) and a process in a node's namespace
    local pod=$T_DIR/node-1/kubelet/pods/netns-test
    mkdir -p "$(dirname "$pod")"
    touch "$pod"
    unshare --net="$pod" sleep 876543 </dev/null >/dev/null 2>&1 3>&- &
    lab exec node-2 -- sleep 876544 </dev/null >/dev/null 2>&1 3>&- &
    local i
    for ((i = 0; i < 50; i++)); do
        [ "$(pgrep -c -x -f 'sleep 87654[34]')" = 2 ] && break
        sleep 0.1
    done
    grep -qF "${pod// /\\040}" /proc/self/mountinfo
    run lab down
    [ "$status" -eq 0 ]
    [ -z "$(pgrep -x -f 'sleep 87654[34]')" ]
    run grep -qF "${pod// /\\040}" /proc/self/mountinfo
    [ "$status" -ne 0 ]
    assert_nothing_left
    [ -d "$T_DIR/logs" ]
    [ ! -e "$T_DIR/etcd" ]
    # a second down is harmless
    run lab down
    [ "$status" -eq 0 ]
}

@test "lab: no daemon wrote a sanitizer report (SAN builds)" {
    run grep -l -e "ERROR: AddressSanitizer" -e "ERROR: LeakSanitizer" -e "runtime error:" \
        "$T_DIR"/logs/*.log "$T_DIR"/logs.prev/*.log
    [ "$status" -ne 0 ]
}

@test "lab up: a Node that never gets a pod CIDR fails up with a clear error, nothing left" {
    [ -x "$T_BIN/kube-controller-manager" ] || skip "kube-controller-manager not built"
    CKUBE_FAKE_NO_REGISTER=node-2 CKUBE_LAB_POD_CIDR_TIMEOUT=3 run lab_up
    echo "$output"
    [ "$status" -ne 0 ]
    [[ "$output" == *"the Nodes did not all get a pod CIDR from kube-controller-manager's node IPAM (--cluster-cidr $T_PODNET.0.0/16) within 3 s"* ]]
    [[ "$output" == *"node-2: no Node object (its kubelet did not register"* ]]
    [[ "$output" != *"node-1: "* ]]
    [[ "$output" == *"up failed after"* ]]
    assert_nothing_left
}

@test "lab down: cleans up after up itself was killed half-way" {
    lab_up >"$BATS_FILE_TMPDIR/up3.out" 2>&1 3>&- &
    local up=$! i
    for ((i = 0; i < 300; i++)); do
        grep -qs "etcd-m0" "$T_DIR/state" && break
        sleep 0.05
    done
    kill -9 "$up"
    wait "$up" || true
    [ -e "/run/netns/$T_PREFIX-node-1" ]
    run lab down
    [ "$status" -eq 0 ]
    assert_nothing_left
}
