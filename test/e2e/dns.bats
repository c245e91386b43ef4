#!/usr/bin/env bats
# Cluster DNS on the lab (deploy/lab): ckube-dns (bin/ckube-dns in image ckube/dns) installed as
# kubeadm installs CoreDNS (Deployment kube-system/coredns, Service kube-system/kube-dns at the
# 10th service address), the kubelets' --cluster-dns/--cluster-domain written into pods'
# /etc/resolv.conf, and answers seen from busybox pods through the kube-dns ClusterIP (so
# through kube-proxy): service and headless names, StatefulSet-style hostnames, SRV, PTR,
# NXDOMAIN, prompt failure of names outside the cluster, a new Service resolving within
# seconds, TCP, and the /health /ready /metrics endpoints.
#
# Busybox's nslookup applies the search list only to names without a dot (busybox >= 1.29), so
# "kubernetes.default" is resolved with ping (libc's resolver, search list and ndots) as well.
#
# One lab for the file, with its own prefix, subnets and directory; down in teardown_file.

ROOT=${CKUBE_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
. "$ROOT/test/lib/e2e.sh" # LAB, lab, k, wait_for

ready_pods() {
    local want=$1
    shift
    local n
    n=$(k get pods "$@" -o json 2>/dev/null |
        jq '[.items[] | select(any(.status.conditions[]?; .type == "Ready" and .status == "True"))] | length')
    [ "${n:-0}" -ge "$want" ]
}

probe_done() {
    k logs probe 2>/dev/null | grep -q '^== end'
}

# the lines of the probe pod's log between "== NAME" and the next "== "
section() {
    k logs probe | awk -v s="== $1" '$0 == s {on = 1; next} /^== / {on = 0} on'
}

manifests() {
    cat <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: hl}
spec:
  clusterIP: None
  selector: {app: hl}
  ports: [{name: web, port: 80, protocol: TCP}]
---
apiVersion: v1
kind: Pod
metadata: {name: hl-0, labels: {app: hl}}
spec:
  hostname: hl-0
  subdomain: hl
  nodeName: node-1
  terminationGracePeriodSeconds: 1
  containers: [{name: c, image: busybox, command: [sleep, "3600"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: hl-1, labels: {app: hl}}
spec:
  nodeName: node-2
  terminationGracePeriodSeconds: 1
  containers: [{name: c, image: busybox, command: [sleep, "3600"]}]
EOF
}

probe_yaml() {
    cat <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: probe}
spec:
  nodeName: node-2
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox
    command:
    - sh
    - -c
    - |
      echo "== resolv.conf"; cat /etc/resolv.conf
      echo "== ping kubernetes.default"; ping -c 1 -W 1 kubernetes.default 2>&1 | head -n 1
      echo "== kubernetes fqdn"; nslookup kubernetes.default.svc.cluster.local
      echo "== hl"; nslookup hl.default.svc.cluster.local
      echo "== ping hl-0.hl"; ping -c 1 -W 1 hl-0.hl 2>&1 | head -n 1
      echo "== nothere"; nslookup nothere.default.svc.cluster.local; echo "rc=$?"
      echo "== srv"; nslookup -type=SRV _web._tcp.hl.default.svc.cluster.local
      echo "== outside"; s=$(date +%s); nslookup outside.example; echo "rc=$? took=$(( $(date +%s) - s ))"
      echo "== end"
      sleep 3600
EOF
}

setup_file() {
    [ "$(id -u)" = 0 ] || skip "the lab needs root"
    command -v runc >/dev/null || skip "runc is not installed"
    command -v kubectl >/dev/null || skip "kubectl is not installed"
    local bin=${CKUBE_BIN:-$ROOT/bin} b
    for b in kubelet kube-proxy ckube-dns kube-controller-manager kube-scheduler; do
        [ -x "$bin/$b" ] || skip "$bin/$b is not built"
    done
    e2e_lab_up ckd 10.250 2 || return 0
    export T_DNS="$T_SVCNET.0.10"
    {
        manifests | k apply -f - &&
            wait_for 120 ready_pods 2 -n kube-system -l k8s-app=kube-dns &&
            wait_for 60 ready_pods 2 -l app=hl &&
            probe_yaml | k apply -f - &&
            wait_for 90 probe_done
    } >"$BATS_FILE_TMPDIR/apply.out" 2>&1 || e2e_lab_failed
    return 0
}

teardown_file() {
    e2e_lab_down
}

setup() {
    e2e_lab_check "$BATS_FILE_TMPDIR/apply.out" || {
        k -n kube-system get all 2>/dev/null
        false
    }
}

@test "dns: installed as kubeadm does: Deployment coredns, Service kube-dns at the 10th service IP" {
    run k -n kube-system get deployment coredns -o json
    [ "$status" -eq 0 ]
    [ "$(jq -r .spec.replicas <<<"$output")" = 2 ]
    [ "$(jq -r '.spec.template.metadata.labels["k8s-app"]' <<<"$output")" = kube-dns ]
    [ "$(jq -r '.spec.template.spec.containers[0].image' <<<"$output")" = ckube/dns:latest ]
    [ "$(jq -r '.spec.template.spec.containers[0].readinessProbe.httpGet.port' <<<"$output")" = 8181 ]
    [ "$(jq -r '.spec.template.spec.containers[0].livenessProbe.httpGet.port' <<<"$output")" = 8080 ]
    run k -n kube-system get service kube-dns -o json
    [ "$status" -eq 0 ]
    [ "$(jq -r .spec.clusterIP <<<"$output")" = "$T_DNS" ]
    [ "$(jq -c '[.spec.ports[] | [.name, .port, .protocol]]' <<<"$output")" = \
        '[["dns",53,"UDP"],["dns-tcp",53,"TCP"],["metrics",9153,"TCP"]]' ]
    # two ready ckube-dns pods behind it
    run k -n kube-system get endpointslices -l kubernetes.io/service-name=kube-dns -o json
    [ "$(jq '[.items[].endpoints[] | select(.conditions.ready)] | length' <<<"$output")" = 2 ]
}

@test "dns: the kubelet writes the cluster DNS into a pod's /etc/resolv.conf" {
    run section resolv.conf
    [ "$output" = "search default.svc.cluster.local svc.cluster.local cluster.local
nameserver $T_DNS
options ndots:5" ]
}

@test "dns: kubernetes.default resolves to the kubernetes Service's ClusterIP" {
    local ip
    ip=$(k get service kubernetes -o 'jsonpath={.spec.clusterIP}')
    [ -n "$ip" ]
    run section "ping kubernetes.default"
    [[ "$output" == "PING kubernetes.default ($ip):"* ]]
    run section "kubernetes fqdn"
    [[ "$output" == *"Server:"*"$T_DNS"* ]]
    [[ "$output" == *"Name:"*"kubernetes.default.svc.cluster.local"*"Address: $ip"* ]]
}

@test "dns: a headless service's name gives its pods' IPs, hostname.subdomain one pod" {
    local ip0 ip1
    ip0=$(k get pod hl-0 -o 'jsonpath={.status.podIP}')
    ip1=$(k get pod hl-1 -o 'jsonpath={.status.podIP}')
    run section hl
    [[ "$output" == *"Address: $ip0"* ]]
    [[ "$output" == *"Address: $ip1"* ]]
    run section "ping hl-0.hl"
    [[ "$output" == "PING hl-0.hl ($ip0):"* ]]
    # SRV: one per endpoint, hl-0 by its hostname, hl-1 by its dashed address
    run section srv
    [[ "$output" == *"service = 0 50 80 hl-0.hl.default.svc.cluster.local"* ]]
    [[ "$output" == *"service = 0 50 80 ${ip1//./-}.hl.default.svc.cluster.local"* ]]
}

@test "dns: an unknown name is NXDOMAIN" {
    run section nothere
    [[ "$output" == *"can't find nothere.default.svc.cluster.local: NXDOMAIN"* ]]
    [[ "$output" == *"rc=1"* ]]
}

@test "dns: names outside the cluster fail promptly (the lab has no upstream)" {
    run section outside
    [[ "$output" == *"can't find outside.example"* ]]
    local took=${output##*took=}
    [ "$took" -le 4 ]
}

@test "dns: PTR of a ClusterIP, over the kube-dns service from a node" {
    local ip
    ip=$(k get service kubernetes -o 'jsonpath={.spec.clusterIP}')
    run lab exec node-1 -- busybox nslookup "$ip" "$T_DNS"
    [ "$status" -eq 0 ]
    [[ "$output" == *"name = kubernetes.default.svc.cluster.local"* ]]
}

@test "dns: a new Service resolves within seconds, and stops resolving once deleted" {
    k create service clusterip late --tcp=8080:8080
    local ip
    ip=$(k get service late -o 'jsonpath={.spec.clusterIP}')
    late_resolves() {
        lab exec node-1 -- busybox nslookup late.default.svc.cluster.local "$T_DNS" 2>&1 |
            grep -q "Address: $ip"
    }
    wait_for 10 late_resolves
    k delete service late
    late_gone() {
        lab exec node-1 -- busybox nslookup late.default.svc.cluster.local "$T_DNS" 2>&1 |
            grep -q NXDOMAIN
    }
    wait_for 10 late_gone
}

@test "dns: answers over TCP through the kube-dns service" {
    run lab exec node-2 -- python3 - "$T_DNS" <<'EOF'
import socket, struct, sys
q = struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0)
for label in b"kubernetes.default.svc.cluster.local".split(b"."):
    q += bytes([len(label)]) + label
q += b"\0" + struct.pack(">HH", 1, 1)
s = socket.create_connection((sys.argv[1], 53), timeout=5)
s.sendall(struct.pack(">H", len(q)) + q)
n = struct.unpack(">H", s.recv(2))[0]
d = b""
while len(d) < n:
    d += s.recv(n - len(d))
print("id=%d rcode=%d answers=%d ip=%s" % (struct.unpack(">H", d[:2])[0], d[3] & 15,
      struct.unpack(">H", d[6:8])[0], socket.inet_ntoa(d[-4:])))
EOF
    [ "$status" -eq 0 ]
    local ip
    ip=$(k get service kubernetes -o 'jsonpath={.spec.clusterIP}')
    [ "$output" = "id=7 rcode=0 answers=1 ip=$ip" ]
}

@test "dns: /health, /ready and /metrics answer as CoreDNS' plugins" {
    local pod ip
    pod=$(k -n kube-system get pods -l k8s-app=kube-dns -o 'jsonpath={.items[0].metadata.name}')
    ip=$(k -n kube-system get pod "$pod" -o 'jsonpath={.status.podIP}')
    run lab exec node-1 -- curl -fsS -m 3 "http://$ip:8080/health"
    [ "$output" = OK ]
    run lab exec node-1 -- curl -fsS -m 3 "http://$ip:8181/ready"
    [ "$output" = OK ]
    run lab exec node-1 -- curl -fsS -m 3 "http://$ip:9153/metrics"
    [[ "$output" == *'coredns_dns_requests_total{proto="udp",type="A"}'* ]]
    [[ "$output" == *'coredns_dns_responses_total{rcode="NXDOMAIN"}'* ]]
}
