# deploy/lab.d/control.sh - the processes of a lab: etcd members, kube-apiserver and its relay
# onto the bridge, the registry, kube-scheduler and kube-controller-manager in the root
# namespace; kubelet and kube-proxy in each node's namespace. Every daemon goes through
# lab_start (common.sh), so it is recorded, logged to DIR/logs/NAME.log and restartable.

# --- etcd -----------------------------------------------------------------------------------

lab_etcd_healthy() {
    local url
    for url in ${LAB_ETCD_ENDPOINTS//,/ }; do
        curl -fsS -m 2 "$url/health" 2>/dev/null | grep -q '"health":"true"' || return 1
    done
}

# any recorded daemon NAME... dead? prints the first dead one
lab_any_dead() {
    local name
    for name in "$@"; do
        lab_daemon_pid "$name" >/dev/null || {
            echo "$name"
            return 0
        }
    done
    return 1
}

lab_etcd_healthy_or_dead() {
    lab_etcd_healthy || lab_any_dead "${lab_etcd_names[@]}" >/dev/null
}

lab_etcd_up() {
    local attempt i ports clients peers initial token
    for attempt in 1 2 3; do
        token="ckube-lab-$LAB_PREFIX-$attempt-$RANDOM" # one for all members: one cluster ID
        mapfile -t ports < <(lab_free_ports $((2 * LAB_ETCD_MEMBERS)))
        clients=() peers=() initial="" lab_etcd_names=()
        for ((i = 0; i < LAB_ETCD_MEMBERS; i++)); do
            clients+=("http://127.0.0.1:${ports[2 * i]}")
            peers+=("http://127.0.0.1:${ports[2 * i + 1]}")
            initial+="${initial:+,}m$i=${peers[i]}"
            lab_etcd_names+=("etcd-m$i")
        done
        LAB_ETCD_ENDPOINTS=$(IFS=,; echo "${clients[*]}")
        rm -rf "$LAB_DIR/etcd"
        mkdir -p "$LAB_DIR/etcd"
        for ((i = 0; i < LAB_ETCD_MEMBERS; i++)); do
            lab_start "etcd-m$i" "" etcd --name "m$i" --data-dir "$LAB_DIR/etcd/m$i" \
                --listen-client-urls "${clients[i]}" --advertise-client-urls "${clients[i]}" \
                --listen-peer-urls "${peers[i]}" --initial-advertise-peer-urls "${peers[i]}" \
                --initial-cluster "$initial" --initial-cluster-state new \
                --initial-cluster-token "$token" \
                --logger zap --log-outputs stderr --log-level warn >/dev/null
        done
        if lab_wait 30 lab_etcd_healthy_or_dead && lab_etcd_healthy; then
            return 0
        fi
        local names=("${lab_etcd_names[@]}") pids=() n p
        for n in "${names[@]}"; do
            p=$(lab_daemon_pid "$n") && pids+=("$p")
        done
        lab_stop_pids 2 "${pids[@]}"
        if grep -qs 'address already in use' "$LAB_DIR"/logs/etcd-m*.log; then
            lab_warn "etcd: a port was taken, retrying with others"
            continue
        fi
        break
    done
    lab_err "etcd did not become healthy"
    for n in "${lab_etcd_names[@]}"; do lab_log_tail "$LAB_DIR/logs/$n.log"; done
    return 1
}

# --- kube-apiserver and its relay -----------------------------------------------------------

lab_api_healthy() {
    curl -fsS -m 2 "http://127.0.0.1:$LAB_API_PORT/healthz" >/dev/null 2>&1
}

lab_api_healthy_or_dead() {
    lab_api_healthy || ! lab_daemon_pid kube-apiserver >/dev/null
}

lab_apiserver_up() {
    local bin=$LAB_BIN/kube-apiserver attempt
    [ -x "$bin" ] || {
        lab_err "$bin not found: build first (make)"
        return 1
    }
    for attempt in 1 2 3; do
        LAB_API_PORT=$(lab_free_ports 1)
        lab_start kube-apiserver "" "$bin" --etcd-servers="$LAB_ETCD_ENDPOINTS" \
            --insecure-port="$LAB_API_PORT" --advertise-address="$LAB_HOST_IP" \
            --service-cluster-ip-range="$LAB_SERVICE_CIDR" --v=2 >/dev/null
        if lab_wait 30 lab_api_healthy_or_dead && lab_api_healthy; then
            return 0
        fi
        lab_stop_pids 2 "$(lab_daemon_pid kube-apiserver)"
        grep -qis 'address already in use' "$LAB_DIR/logs/kube-apiserver.log" || break
        lab_warn "kube-apiserver: port $LAB_API_PORT was taken, retrying"
    done
    lab_err "kube-apiserver did not become healthy"
    lab_log_tail "$LAB_DIR/logs/kube-apiserver.log"
    return 1
}

lab_relay_healthy() {
    curl -fsS -m 2 "http://$LAB_HOST_IP:$LAB_RELAY_PORT/healthz" >/dev/null 2>&1
}

# The apiserver serves plain HTTP on loopback only, which node namespaces cannot reach: until
# it serves TLS on the bridge, a TCP relay forwards $LAB_HOST_IP:6443 to it.
lab_relay_up() {
    if command -v socat >/dev/null; then
        lab_start apiserver-relay "" socat \
            "TCP-LISTEN:$LAB_RELAY_PORT,bind=$LAB_HOST_IP,reuseaddr,fork,backlog=256" \
            "TCP:127.0.0.1:$LAB_API_PORT" >/dev/null
    else
        lab_warn "socat not found (make deps installs it): relaying with python3"
        lab_start apiserver-relay "" python3 "$LAB_ROOT/deploy/lab.d/relay.py" \
            "$LAB_HOST_IP" "$LAB_RELAY_PORT" 127.0.0.1 "$LAB_API_PORT" >/dev/null
    fi
    lab_wait 10 lab_relay_healthy && return 0
    lab_err "the apiserver relay on $LAB_HOST_IP:$LAB_RELAY_PORT does not answer"
    lab_log_tail "$LAB_DIR/logs/apiserver-relay.log"
    return 1
}

# --- registry -------------------------------------------------------------------------------

lab_registry_healthy() {
    curl -fsS -m 2 "http://$LAB_REGISTRY/v2/" >/dev/null 2>&1
}

lab_registry_up() {
    mkdir -p "$LAB_DIR/registry"
    sed -e "s#@ADDR@#$LAB_REGISTRY#g" -e "s#@ROOT@#$LAB_DIR/registry#g" \
        -e "s#@SECRET@#$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')#g" \
        "$LAB_ROOT/deploy/lab.d/registry.yml" >"$LAB_DIR/run/registry.yml" || return 1
    lab_start registry "" docker-registry serve "$LAB_DIR/run/registry.yml" >/dev/null
    lab_wait 15 lab_registry_healthy && return 0
    lab_err "the registry on $LAB_REGISTRY does not answer"
    lab_log_tail "$LAB_DIR/logs/registry.log"
    return 1
}

# waits for the image build started earlier (its layouts listed in DIR/run/images.list), pushes
lab_images_push() {
    if ! wait "$lab_images_job"; then
        lab_err "building the test images failed"
        lab_log_tail "$LAB_DIR/logs/images.log" 30
        return 1
    fi
    local layout rc=0
    local -a pids=()
    while IFS= read -r layout; do
        [ -n "$layout" ] || continue
        ck_image_push "$layout" "$LAB_REGISTRY" >>"$LAB_DIR/logs/images.log" 2>&1 &
        pids+=($!)
    done <"$LAB_DIR/run/images.list"
    for layout in "${pids[@]}"; do wait "$layout" || rc=1; done
    if [ $rc -ne 0 ]; then
        lab_err "pushing the test images failed"
        lab_log_tail "$LAB_DIR/logs/images.log" 30
    fi
    return $rc
}

# --- kubeconfigs and env --------------------------------------------------------------------

lab_kubeconfig() {
    local server=$1 user=$2 out=$3
    sed -e "s#@SERVER@#$server#g" -e "s#@USER@#$user#g" \
        "$LAB_ROOT/deploy/lab.d/kubeconfig.yaml" >"$out"
}

lab_write_client_files() {
    local n
    lab_kubeconfig "http://127.0.0.1:$LAB_API_PORT" kubernetes-admin "$LAB_DIR/kubeconfig" || return 1
    for ((n = 1; n <= LAB_NODES; n++)); do
        mkdir -p "$LAB_DIR/node-$n/kubelet"
        lab_kubeconfig "http://$LAB_HOST_IP:$LAB_RELAY_PORT" "system:node:node-$n" \
            "$LAB_DIR/node-$n/kubeconfig" || return 1
    done
    {
        printf '# source me: . %q\n' "$LAB_DIR/env"
        echo "export ETCDCTL_API=3"
        printf 'export ETCDCTL_ENDPOINTS=%q\n' "$LAB_ETCD_ENDPOINTS"
        printf 'export KUBECONFIG=%q\n' "$LAB_DIR/kubeconfig"
    } >"$LAB_DIR/env"
}

# --- control plane and nodes ----------------------------------------------------------------

# starts a daemon if its binary exists; otherwise records its command for a later `restart`
lab_start_optional() {
    local name=$1 netns=$2 bin=$3
    shift 3
    if [ -x "$bin" ]; then
        lab_start "$name" "$netns" "$bin" "$@" >/dev/null
        return 0
    fi
    printf '%s\0' "$netns" "$bin" "$@" >"$LAB_DIR/run/$name.cmd"
    lab_skipped+=("$name ($bin not built yet)")
    return 0
}

lab_control_plane_up() {
    # health/metrics ports picked free, so several labs (and tests) share the machine
    local ports
    mapfile -t ports < <(lab_free_ports 2)
    lab_start_optional kube-scheduler "" "$LAB_BIN/kube-scheduler" \
        --kubeconfig="$LAB_DIR/kubeconfig" --secure-port="${ports[0]}" --v=2
    # node IPAM: every Node the kubelets register gets the next free /24 of the cluster CIDR
    lab_start_optional kube-controller-manager "" "$LAB_BIN/kube-controller-manager" \
        --kubeconfig="$LAB_DIR/kubeconfig" --secure-port="${ports[1]}" \
        --allocate-node-cidrs=true --cluster-cidr="$(lab_cluster_cidr)" --node-cidr-mask-size=24 \
        --service-cluster-ip-range="$LAB_SERVICE_CIDR" --v=2
}

lab_nodes_up() {
    local n ns
    # no Node objects and no --pod-cidr: each kubelet registers its Node, node IPAM gives it
    # its pod CIDR and the kubelet takes it from there (lab_pod_routes_up routes them)
    for ((n = 1; n <= LAB_NODES; n++)); do
        ns=$(lab_node_ns "$n")
        mkdir -p "$LAB_DIR/node-$n/kubelet"
        lab_start_optional "node-$n-kubelet" "$ns" "$LAB_BIN/kubelet" \
            --hostname-override="node-$n" \
            --kubeconfig="$LAB_DIR/node-$n/kubeconfig" \
            --root-dir="$LAB_DIR/node-$n/kubelet" \
            --node-ip="$(lab_node_ip "$n")" \
            --cgroup-root="$(lab_node_cgroup "$n")" \
            --registry-mirror="docker.io=http://$LAB_REGISTRY" \
            --registry-mirror="registry.k8s.io=http://$LAB_REGISTRY" \
            --registry-mirrors-only \
            --cluster-dns="$(lab_dns_ip)" --cluster-domain=cluster.local \
            --v=2
        lab_start_optional "node-$n-kube-proxy" "$ns" "$LAB_BIN/kube-proxy" \
            --hostname-override="node-$n" \
            --kubeconfig="$LAB_DIR/node-$n/kubeconfig" \
            --cluster-cidr="$(lab_cluster_cidr)" \
            --v=2
    done
    if [ -x "$LAB_BIN/kubelet" ]; then
        lab_dns_up || lab_warn "cluster DNS was not installed (see above)"
    fi
}

# --- cluster DNS ----------------------------------------------------------------------------

# the 10th address of the service CIDR, as kubeadm picks the DNS service IP (10.96.0.10)
lab_dns_ip() {
    local base=${LAB_SERVICE_CIDR%/*} a b c d
    IFS=. read -r a b c d <<<"$base"
    local n=$(((a << 24 | b << 16 | c << 8 | d) + 10))
    echo "$((n >> 24 & 255)).$((n >> 16 & 255)).$((n >> 8 & 255)).$((n & 255))"
}

lab_dns_kubectl() {
    KUBECONFIG="$LAB_DIR/kubeconfig" kubectl --request-timeout=10s "$@"
}

# kubeadm's CoreDNS add-on (deploy/lab.d/dns.yaml) with image ckube/dns: the Deployment
# kube-system/coredns behind the Service kube-dns. Not waited for: pods that need names wait
# for it as they would on a kubeadm cluster.
lab_dns_up() {
    command -v kubectl >/dev/null || {
        lab_warn "kubectl not found: cluster DNS not installed"
        return 1
    }
    sed -e "s#@DNS_IP@#$(lab_dns_ip)#g" -e "s#@APISERVER@#http://$LAB_HOST_IP:$LAB_RELAY_PORT#g" \
        "$LAB_ROOT/deploy/lab.d/dns.yaml" >"$LAB_DIR/run/dns.yaml" || return 1
    lab_dns_kubectl apply -f "$LAB_DIR/run/dns.yaml" >>"$LAB_DIR/logs/dns-install.log" 2>&1 || {
        lab_log_tail "$LAB_DIR/logs/dns-install.log"
        return 1
    }
}

# a daemon that died right after start is reported (the lab stays up: `status` shows it)
lab_check_started() {
    local f name
    for f in "$LAB_DIR"/run/*.pid; do
        [ -e "$f" ] || continue
        name=$(basename "$f" .pid)
        if ! lab_daemon_pid "$name" >/dev/null; then
            lab_warn "$name exited right after starting; its log:"
            lab_log_tail "$LAB_DIR/logs/$name.log" 10
        fi
    done
}

# up to N seconds for every node to be Ready (when kubelets run)
lab_nodes_ready() {
    local ready
    ready=$(curl -fsS -m 5 "http://127.0.0.1:$LAB_API_PORT/api/v1/nodes" 2>/dev/null |
        jq '[.items[] | select(any(.status.conditions[]?; .type == "Ready" and .status == "True"))] | length' 2>/dev/null) ||
        return 1
    [ "${ready:-0}" -ge "$LAB_NODES" ]
}

lab_nodes_ready_or_kubelet_dead() {
    local n
    lab_nodes_ready && return 0
    for ((n = 1; n <= LAB_NODES; n++)); do
        lab_daemon_pid "node-$n-kubelet" >/dev/null || return 0
    done
    return 1
}
