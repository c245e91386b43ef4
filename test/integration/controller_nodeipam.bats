#!/usr/bin/env bats
# The node-ipam controller of kube-controller-manager (upstream's RangeAllocator) against a real
# etcd + kube-apiserver: --allocate-node-cidrs with a small --cluster-cidr (10.244.0.0/22: four
# /24s) so exhaustion is reachable. CIDRs Nodes carry at start are kept and skipped, new Nodes
# get the next free /24 in spec.podCIDR and spec.podCIDRs, a full range gives the Node a
# CIDRNotAvailable event, a deleted Node's CIDR goes back to the pool; bad flags stop the
# binary with upstream's message. Node objects are fake: no kubelet runs.

load_lib() {
    CKUBE_ROOT=${CKUBE_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
    . "$CKUBE_ROOT/test/lib/apiserver.sh"
    . "$CKUBE_ROOT/test/lib/kcm.sh"
}

kcm_bin() {
    echo "${CK_KCM_BIN:-${CKUBE_BIN:-$CKUBE_ROOT/bin}/kube-controller-manager}"
}

node_json() { # name [podCIDR]
    if [ -n "${2:-}" ]; then
        printf '{"apiVersion":"v1","kind":"Node","metadata":{"name":"%s"},"spec":{"podCIDR":"%s","podCIDRs":["%s"]}}' "$1" "$2" "$2"
    else
        printf '{"apiVersion":"v1","kind":"Node","metadata":{"name":"%s"}}' "$1"
    fi
}

setup_file() {
    load_lib
    ck_apiserver_start
    # a Node that already has a CIDR before the controller starts: it must be marked used
    node_json ipam-n0 10.244.0.0/24 | ck_kubectl create -f - >/dev/null
    ck_kcm_start --controllers=node-ipam-controller --allocate-node-cidrs=true \
        --cluster-cidr=10.244.0.0/22 --node-cidr-mask-size=24 --v=4
}

teardown_file() {
    load_lib
    ck_kcm_teardown
}

setup() {
    load_lib
}

cidr_of() {
    ck_kubectl get node "$1" -o jsonpath='{.spec.podCIDR} {.spec.podCIDRs}'
}

@test "a Node created without a podCIDR gets the next free /24, skipping the one already used" {
    node_json ipam-n1 | ck_kubectl create -f -
    ck_kcm_wait_output '10.244.1.0/24 ["10.244.1.0/24"]' get node ipam-n1 -o jsonpath='{.spec.podCIDR} {.spec.podCIDRs}'
    run cidr_of ipam-n0
    [ "$output" = '10.244.0.0/24 ["10.244.0.0/24"]' ]
    grep -q 'Set node PodCIDR node=ipam-n1 podCIDRs=10.244.1.0/24' "$CK_KCM_LOG"
}

@test "Nodes get distinct CIDRs in order until the range is full" {
    node_json ipam-n2 | ck_kubectl create -f -
    ck_kcm_wait_output 10.244.2.0/24 get node ipam-n2 -o jsonpath='{.spec.podCIDR}'
    node_json ipam-n3 | ck_kubectl create -f -
    ck_kcm_wait_output 10.244.3.0/24 get node ipam-n3 -o jsonpath='{.spec.podCIDR}'
    run ck_kubectl get nodes -o jsonpath='{range .items[*]}{.spec.podCIDR}{"\n"}{end}'
    [ "$(echo "$output" | sort | uniq -d)" = "" ]
    [ "$(echo "$output" | grep -c .)" = 4 ]
}

@test "a full range records CIDRNotAvailable on the Node and leaves it without a CIDR" {
    node_json ipam-n4 | ck_kubectl create -f -
    ck_kcm_wait_output "Node ipam-n4 status is now: CIDRNotAvailable" get events \
        --field-selector involvedObject.name=ipam-n4,reason=CIDRNotAvailable \
        -o jsonpath='{.items[0].message}'
    run ck_kubectl get events --field-selector involvedObject.name=ipam-n4 \
        -o jsonpath='{.items[0].type} {.items[0].involvedObject.kind} {.items[0].source.component}'
    [ "$output" = "Normal Node cidrAllocator" ]
    run ck_kubectl get node ipam-n4 -o jsonpath='{.spec.podCIDR}'
    [ "$output" = "" ]
    grep -q 'CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range' "$CK_KCM_LOG"
}

@test "deleting a Node releases its CIDR to the Node that was waiting" {
    ck_kubectl delete node ipam-n1
    ck_kcm_wait_output 10.244.1.0/24 get node ipam-n4 -o jsonpath='{.spec.podCIDR}'
}

@test "a CIDR set on a Node by someone else is kept and not handed out again" {
    ck_kubectl delete node ipam-n2
    # ipam-n5 arrives with the CIDR ipam-n2 had; the next Node must not get it
    node_json ipam-n5 10.244.2.0/24 | ck_kubectl create -f -
    sleep 1
    node_json ipam-n6 | ck_kubectl create -f -
    sleep 2
    run ck_kubectl get node ipam-n6 -o jsonpath='{.spec.podCIDR}'
    [ "$output" = "" ]
    run cidr_of ipam-n5
    [ "$output" = '10.244.2.0/24 ["10.244.2.0/24"]' ]
}

@test "bad --cluster-cidr / --node-cidr-mask-size stop the controller-manager with upstream's message" {
    run timeout 20 "$(kcm_bin)" --master="$CK_API" --leader-elect=false \
        --secure-port="$(ck_free_port)" --controllers=node-ipam-controller \
        --allocate-node-cidrs=true --cluster-cidr=10.244.0.0/25
    [ "$status" -ne 0 ]
    [[ "$output" == *"Controller: Invalid --cluster-cidr, mask size of cluster CIDR must be less than or equal to --node-cidr-mask-size configured for CIDR family"* ]]
    run timeout 20 "$(kcm_bin)" --master="$CK_API" --leader-elect=false \
        --secure-port="$(ck_free_port)" --controllers=node-ipam-controller \
        --allocate-node-cidrs=true
    [ "$status" -ne 0 ]
    [[ "$output" == *"Controller: Must specify --cluster-cidr if --allocate-node-cidrs is set"* ]]
}

@test "without --allocate-node-cidrs the controller leaves Nodes alone" {
    local log=$CK_APISERVER_DIR/kcm-off.log
    "$(kcm_bin)" --master="$CK_API" --leader-elect=false --secure-port="$(ck_free_port)" \
        --controllers=node-ipam-controller --cluster-cidr=10.250.0.0/16 >"$log" 2>&1 &
    local pid=$!
    ck_kubectl delete node ipam-n3 ipam-n4 ipam-n6 >/dev/null
    # the running controller (with a free range now) is stopped first so only this one runs
    # (teardown_file still checks its log for sanitizer reports)
    kill "$CK_KCM_PID"
    local i
    for i in $(seq 1 50); do
        kill -0 "$CK_KCM_PID" 2>/dev/null || break
        sleep 0.1
    done
    node_json ipam-n7 | ck_kubectl create -f -
    sleep 2
    run ck_kubectl get node ipam-n7 -o jsonpath='{.spec.podCIDR}'
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    [ "$output" = "" ]
    ! grep -q "AddressSanitizer\|runtime error:" "$log"
}
