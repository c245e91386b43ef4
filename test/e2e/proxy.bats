#!/usr/bin/env bats
# kube-proxy on the lab (deploy/lab): Services programmed into each node's iptables by the real
# kube-proxy, checked with the real kubectl and agnhost pods (netexec: HTTP 8080 answers
# /hostname, UDP 8081 answers "hostname"), from node namespaces and from pods on both nodes:
# ClusterIP reachability and balancing, NodePort on every node IP, backends following pod
# labels, REJECT of a service without endpoints, ClientIP affinity, hairpin, the Local external
# traffic policy, stale UDP conntrack entries flushed, and --cleanup.
#
# One lab for the file, with its own prefix, subnets and directory; down in teardown_file.

ROOT=${CKUBE_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
. "$ROOT/test/lib/e2e.sh" # LAB, lab, k, wait_for

# node N's network namespace: on N CMD...
on() {
    local n=$1
    shift
    nsenter "--net=/run/netns/$T_PREFIX-node-$n" "$@"
}

svc_ip() {
    k get svc "$1" -o 'jsonpath={.spec.clusterIP}'
}

pod_ip() {
    k get pod "$1" -o 'jsonpath={.status.podIP}'
}

# the hostname a GET of URL answers from node N (empty on failure)
node_get() {
    on "$1" curl -sS -m 3 "$2" 2>/dev/null
}

# the hostname URL answers from inside POD (through agnhost's /shell and busybox wget)
pod_get() {
    local out ip
    ip=$(pod_ip "$1")
    out=$(on "$(node_of "$1")" curl -sS -m 8 -G "http://$ip:8080/shell" \
        --data-urlencode "cmd=timeout 3 wget -qO- $2") || return 1
    jq -r '.output // empty' <<<"$out"
}

node_of() {
    local n
    n=$(k get pod "$1" -o 'jsonpath={.spec.nodeName}')
    echo "${n#node-}"
}

# COUNT GETs of URL from node N: the distinct answers, sorted, one per line
node_answers() {
    local n=$1 url=$2 count=$3 i
    for ((i = 0; i < count; i++)); do
        node_get "$n" "$url"
        echo
    done | sed '/^$/d' | sort -u
}

# one UDP "hostname" request to IP PORT from node N (answer on stdout)
node_udp() {
    on "$1" bash -c "exec 3<>/dev/udp/$2/$3 && printf hostname >&3 && timeout 2 dd bs=256 count=1 status=none <&3"
}

manifests() {
    local p n
    for p in 1a 1b 2a 2b; do
        n=${p:0:1}
        cat <<EOF
---
apiVersion: v1
kind: Pod
metadata: {name: web-$p, labels: {app: web}}
spec:
  nodeName: node-$n
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: ckube/agnhost
    args: [netexec, --http-port=8080, --udp-port=8081]
    readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1}
EOF
    done
    cat <<EOF
---
apiVersion: v1
kind: Pod
metadata: {name: unready, labels: {app: unready}}
spec:
  nodeName: node-2
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: ckube/agnhost
    args: [netexec, --http-port=8080]
    readinessProbe: {exec: {command: ["false"]}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080}
  - {name: dns-like, port: 81, targetPort: 8081, protocol: UDP}
---
apiVersion: v1
kind: Service
metadata: {name: web-np}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080, nodePort: $T_NP}]
---
apiVersion: v1
kind: Service
metadata: {name: web-local}
spec:
  type: NodePort
  externalTrafficPolicy: Local
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080, nodePort: $((T_NP + 1))}]
---
apiVersion: v1
kind: Service
metadata: {name: empty}
spec:
  selector: {app: unready}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: sticky}
spec:
  selector: {app: web}
  sessionAffinity: ClientIP
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: solo}
spec:
  selector: {solo: "yes"}
  ports: [{port: 80, targetPort: 8080}]
EOF
}

setup_file() {
    [ "$(id -u)" = 0 ] || skip "the lab needs root"
    command -v runc >/dev/null || skip "runc is not installed"
    local bin=${CKUBE_BIN:-$ROOT/bin}
    [ -x "$bin/kubelet" ] && [ -x "$bin/kube-proxy" ] || skip "kubelet or kube-proxy not built"
    export T_NP=$((30100 + (RANDOM % 1000) * 2)) # and T_NP + 1, both below 32768
    e2e_lab_up ckp 10.250 2 || return 0
    manifests | k apply -f - >"$BATS_FILE_TMPDIR/apply.out" 2>&1 || e2e_lab_failed
    return 0
}

teardown_file() {
    e2e_lab_down
}

all_ready() {
    local ready
    ready=$(k get pods -l app=web -o json 2>/dev/null |
        jq '[.items[] | select(any(.status.conditions[]?; .type == "Ready" and .status == "True"))] | length')
    [ "${ready:-0}" -ge 4 ]
}

setup() {
    e2e_lab_check "$BATS_FILE_TMPDIR/apply.out"
    wait_for 90 all_ready
}

@test "kube-proxy: runs on both nodes, sets its sysctls in the node namespace and logs them" {
    local n log
    for n in 1 2; do
        run lab status
        [[ "$output" == *"node-$n-kube-proxy"*running* ]]
        log=$T_DIR/logs/node-$n-kube-proxy.log
        grep -q '"Set sysctl" entry="net/ipv4/ip_forward" value=1' "$log"
        grep -q '"Set sysctl" entry="net/bridge/bridge-nf-call-iptables" value=1' "$log"
        [ "$(on "$n" cat /proc/sys/net/ipv4/ip_forward)" = 1 ]
        # per network namespace since Linux 5.3, when br_netfilter is loaded
        [ ! -e /proc/sys/net/bridge/bridge-nf-call-iptables ] ||
            [ "$(on "$n" cat /proc/sys/net/bridge/bridge-nf-call-iptables)" = 1 ]
        [ "$(on "$n" cat /proc/sys/net/ipv4/conf/all/route_localnet)" = 1 ]
        # its chains are in the node's tables, not the host's
        on "$n" iptables -w 5 -t nat -S KUBE-SERVICES >/dev/null
        on "$n" iptables -w 5 -t nat -S PREROUTING | grep -q -- '-j KUBE-SERVICES'
    done
    [[ "$(iptables -w 5 -t nat -S 2>/dev/null)" != *"${T_SVC%.0.0/16}."* ]]
    # /healthz of upstream's health server, inside the node
    run on 1 curl -fsS -m 3 http://127.0.0.1:10256/healthz
    [ "$status" -eq 0 ]
    [[ "$output" == *'"nodeEligible": true'* ]]
}

@test "ClusterIP: reachable from every node namespace and balanced over its endpoints" {
    local ip n answers
    ip=$(svc_ip web)
    [[ "$ip" == "${T_SVC%.0.0/16}."* ]]
    for n in 1 2; do
        answers=$(node_answers "$n" "http://$ip/hostname" 20)
        # only the service's pods answer, and several of them
        [ -z "$(grep -vE '^web-[12][ab]$' <<<"$answers")" ]
        [ "$(wc -l <<<"$answers")" -ge 2 ]
    done
    # over both nodes every endpoint answered at least once
    answers=$({ node_answers 1 "http://$ip/hostname" 20; node_answers 2 "http://$ip/hostname" 20; } | sort -u)
    [ "$answers" = $'web-1a\nweb-1b\nweb-2a\nweb-2b' ]
    # kubectl shows the endpoints kube-proxy balances over
    run k get endpointslices -l kubernetes.io/service-name=web -o 'jsonpath={.items[*].endpoints[*].addresses[0]}'
    [ "$(wc -w <<<"$output")" = 4 ]
}

@test "ClusterIP: reachable from pods on both nodes, TCP and UDP" {
    local ip out p
    ip=$(svc_ip web)
    for p in web-1a web-2a; do
        out=$(pod_get "$p" "http://$ip/hostname")
        [[ "$out" =~ ^web-[12][ab]$ ]]
    done
    # UDP through the same ClusterIP, from both nodes
    out=$(node_udp 1 "$ip" 81)
    [[ "$out" =~ ^web-[12][ab]$ ]]
    out=$(node_udp 2 "$ip" 81)
    [[ "$out" =~ ^web-[12][ab]$ ]]
}

@test "NodePort: answers on every node's IP, from every node" {
    local n t out
    [ "$(k get svc web-np -o 'jsonpath={.spec.ports[0].nodePort}')" = "$T_NP" ]
    for n in 1 2; do
        for t in 11 12; do
            out=$(node_get "$n" "http://$T_SUBNET.$t:$T_NP/hostname")
            [[ "$out" =~ ^web-[12][ab]$ ]]
        done
    done
    # from the host (through the bridge) too
    out=$(curl -sS -m 3 "http://$T_SUBNET.12:$T_NP/hostname")
    [[ "$out" =~ ^web-[12][ab]$ ]]
}

@test "externalTrafficPolicy Local: a node's NodePort only reaches that node's endpoints" {
    local np=$((T_NP + 1)) answers
    answers=$(node_answers 1 "http://$T_SUBNET.12:$np/hostname" 12)
    [ -n "$answers" ]
    [ -z "$(grep -vE '^web-2[ab]$' <<<"$answers")" ]
    answers=$(node_answers 2 "http://$T_SUBNET.11:$np/hostname" 12)
    [ -n "$answers" ]
    [ -z "$(grep -vE '^web-1[ab]$' <<<"$answers")" ]
    # the plain NodePort service on the same node reaches the other node's pods too
    answers=$(node_answers 1 "http://$T_SUBNET.12:$T_NP/hostname" 20)
    grep -qE '^web-1[ab]$' <<<"$answers"
}

@test "a service without ready endpoints rejects at once (connection refused, not a timeout)" {
    local ip t0 t1 ms
    ip=$(svc_ip empty)
    # its only endpoint is a running pod whose readiness probe fails
    unready_listed() {
        [ "$(k get endpointslices -l kubernetes.io/service-name=empty \
            -o 'jsonpath={.items[*].endpoints[*].conditions.ready}')" = false ]
    }
    wait_for 60 unready_listed
    t0=$EPOCHREALTIME
    run on 1 curl -sS -m 5 "http://$ip/"
    t1=$EPOCHREALTIME
    [ "$status" -eq 7 ]
    [[ "$output" == *"Couldn't connect to server"* || "$output" == *"Connection refused"* ]]
    ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 1000 }')
    echo "refused after $ms ms"
    [ "$ms" -lt 900 ]
    # the REJECT rule in the node's filter table, upstream's comment
    on 1 iptables -w 5 -S KUBE-SERVICES | grep -F -- "-d $ip/32" | grep -q 'has no endpoints'
    on 1 iptables -w 5 -S KUBE-SERVICES | grep -F -- "-d $ip/32" | grep -q 'icmp-port-unreachable'
}

@test "sessionAffinity ClientIP: one client keeps reaching the same endpoint" {
    local ip answers
    ip=$(svc_ip sticky)
    answers=$(node_answers 1 "http://$ip/hostname" 12)
    [ "$(wc -l <<<"$answers")" = 1 ]
    [[ "$answers" =~ ^web-[12][ab]$ ]]
    # the same service without affinity spreads the same client (see the balancing test)
    on 1 iptables -w 5 -t nat -S | grep -F 'default/sticky' | grep -q -- '--rcheck --seconds 10800 --reap'
}

@test "hairpin: a pod reaches itself through its own service" {
    k label pod web-1a solo=yes --overwrite >/dev/null
    local ip out
    ip=$(svc_ip solo)
    has_endpoint() {
        [ -n "$(k get endpointslices -l kubernetes.io/service-name=solo -o 'jsonpath={.items[*].endpoints[*].addresses[0]}')" ]
    }
    wait_for 20 has_endpoint
    answered() { [ "$(node_get 1 "http://$ip/hostname")" = web-1a ]; }
    wait_for 10 answered
    out=$(pod_get web-1a "http://$ip/hostname")
    [ "$out" = web-1a ]
    # hairpin traffic is masqueraded (upstream's KUBE-SEP rule for the endpoint's own address)
    on 1 iptables -w 5 -t nat -S | grep -F -- "-s $(pod_ip web-1a)/32" | grep -q KUBE-MARK-MASQ
}

@test "backends follow the pods: relabelled and re-added pods leave and join the service" {
    local ip answers
    ip=$(svc_ip web)
    k label pod web-2b app=off --overwrite >/dev/null
    gone() {
        ! k get endpointslices -l kubernetes.io/service-name=web -o 'jsonpath={.items[*].endpoints[*].addresses[0]}' |
            grep -qw "$(pod_ip web-2b)"
    }
    wait_for 20 gone
    sleep 1.5 # kube-proxy's min sync period
    answers=$({ node_answers 1 "http://$ip/hostname" 16; node_answers 2 "http://$ip/hostname" 16; } | sort -u)
    [ -n "$answers" ]
    [[ $'\n'"$answers"$'\n' != *$'\n'web-2b$'\n'* ]]
    # back in the service
    k label pod web-2b app=web --overwrite >/dev/null
    back() { node_answers 2 "http://$ip/hostname" 8 | grep -qx web-2b; }
    wait_for 30 back
    # a deleted pod is gone from the rules of both nodes
    local gone_ip n
    gone_ip=$(pod_ip web-1b)
    k delete pod web-1b --grace-period=1 --wait=true --timeout=30s >/dev/null
    no_rule() { ! on "$1" iptables -w 5 -t nat -S | grep -qF -- "--to-destination $gone_ip:8080"; }
    for n in 1 2; do wait_for 20 no_rule "$n"; done
    answers=$({ node_answers 1 "http://$ip/hostname" 16; node_answers 2 "http://$ip/hostname" 16; } | sort -u)
    [ -n "$answers" ]
    [[ $'\n'"$answers"$'\n' != *$'\n'web-1b$'\n'* ]]
    # re-create it for the tests that follow
    manifests | k apply -f - >/dev/null
}

@test "UDP: conntrack entries of a removed endpoint are flushed" {
    command -v conntrack >/dev/null || skip "conntrack (Debian package conntrack) is not installed"
    local ip out pod pip
    ip=$(svc_ip web)
    out=$(node_udp 1 "$ip" 81)
    [[ "$out" =~ ^web-[12][ab]$ ]]
    pod=$out
    pip=$(pod_ip "$pod")
    # the flow's entry: to the service, answered by that pod
    on 1 conntrack -L -p udp --orig-dst "$ip" --reply-src "$pip" 2>/dev/null | grep -q "dport=81"
    k label pod "$pod" app=off --overwrite >/dev/null
    flushed() { ! on 1 conntrack -L -p udp --orig-dst "$ip" --reply-src "$pip" 2>/dev/null | grep -q .; }
    wait_for 10 flushed # well before the entry's own 30 s UDP timeout
    grep -q '"Deleted stale UDP conntrack entries"' "$T_DIR/logs/node-1-kube-proxy.log"
    k label pod "$pod" app=web --overwrite >/dev/null
}

@test "kube-proxy --cleanup removes every KUBE-* chain and rule of its node" {
    local pid
    pid=$(cat "$T_DIR/run/node-2-kube-proxy.pid")
    kill -TERM "$pid"
    wait_for 10 bash -c "! kill -0 $pid 2>/dev/null"
    [ -n "$(on 2 iptables-save | grep KUBE-)" ]
    run on 2 "$T_BIN/kube-proxy" --cleanup
    [ "$status" -eq 0 ]
    run on 2 iptables-save
    [ "$status" -eq 0 ]
    [[ "$output" != *KUBE-* ]]
    # started again, it programs everything back
    run lab restart node-2 kube-proxy
    [ "$status" -eq 0 ]
    programmed() { on 2 iptables -w 5 -t nat -S KUBE-SERVICES 2>/dev/null | grep -q 'default/web:http'; }
    wait_for 20 programmed
    local ok
    ok=$(node_get 2 "http://$(svc_ip web)/hostname")
    [[ "$ok" =~ ^web-[12][ab]$ ]]
}

@test "kube-proxy: no sanitizer report in its logs (SAN builds)" {
    run lab restart node-1 kube-proxy
    [ "$status" -eq 0 ]
    run grep -l -e "ERROR: AddressSanitizer" -e "ERROR: LeakSanitizer" -e "runtime error:" \
        "$T_DIR"/logs/node-*-kube-proxy.log
    [ "$status" -ne 0 ]
}
