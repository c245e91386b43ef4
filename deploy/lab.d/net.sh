# deploy/lab.d/net.sh - the lab's network (DESIGN §7), set up by `up`:
#
#   root namespace:  bridge $LAB_BRIDGE ($LAB_HOST_IP/24; ckube0 10.250.0.1 by default)
#                    node N's pod CIDR   -> via node N         (so the host reaches pods)
#                    the whole pod range -> dev bridge          (never the default route)
#                    the service CIDR    -> via node 1          (its kube-proxy answers)
#                    FORWARD: bridge<->bridge accepted, bridge<->elsewhere dropped
#   node N (netns $LAB_PREFIX-node-N): eth0 = veth to the bridge, $LAB_SUBNET.(10+N)/24, lo up,
#                    NO default route, other nodes' pod CIDRs via those nodes,
#                    the service CIDR via the bridge address, ip_forward=1
#
# The pod CIDRs are not the lab's to choose: each kubelet registers its Node and the node-ipam
# controller of kube-controller-manager gives it a /24 of the cluster CIDR, in whatever order
# the Nodes arrive. lab_net_up makes everything else; once the Nodes have their CIDRs,
# lab_pod_routes_up (below) reads them through the apiserver and adds the per-node routes, and
# writes them to DIR/run/pod-cidrs (for status). Root routes are recorded in the state file
# before they are added, so `down` removes them also after a crash; the node namespaces' routes
# go with the namespaces.
#
# Nothing routes a cluster address to the machine's default route: node namespaces have none,
# the root routes cluster ranges to the bridge, and the FORWARD rules drop anything that would
# cross from the bridge to another interface even where the host forwards packets.

# is CIDR (or part of it) routed in the root namespace by something other than the default
# route? prints the offending routes
lab_net_routed() {
    local cidr=$1
    {
        ip -4 route show root "$cidr" 2>/dev/null
        ip -4 route show match "$cidr" 2>/dev/null
    } | grep -v '^default' | sort -u
}

# refuses to start on top of another lab or network using the same names or ranges
lab_net_preflight() {
    local bad=0 r cidr
    if ip link show "$LAB_BRIDGE" >/dev/null 2>&1; then
        lab_err "a link named $LAB_BRIDGE already exists (another lab? pick --prefix)"
        bad=1
    fi
    if ip -4 -o addr show | grep -q " inet $LAB_HOST_IP/"; then
        lab_err "$LAB_HOST_IP is already assigned on this machine (pick --subnet)"
        bad=1
    fi
    for cidr in "$LAB_SUBNET.0/24" "$(lab_cluster_cidr)" "$LAB_SERVICE_CIDR"; do
        r=$(lab_net_routed "$cidr")
        if [ -n "$r" ]; then
            lab_err "$cidr is already routed here ($(echo "$r" | head -n1)); pick other ranges" \
                "(--subnet, --pod-net, --service-cidr)"
            bad=1
        fi
    done
    if ls /run/netns/"$LAB_PREFIX"-* >/dev/null 2>&1; then
        lab_err "network namespaces $LAB_PREFIX-* exist already (another lab? pick --prefix)"
        bad=1
    fi
    return $bad
}

# root-namespace iptables rule, recorded: lab_net_ipt TABLE CHAIN RULE...
lab_net_ipt() {
    local table=$1 chain=$2
    shift 2
    if ! command -v iptables >/dev/null; then
        lab_warn "iptables not found: not adding the bridge's FORWARD guard rules"
        return 0
    fi
    lab_record ipt "$table" "$chain" "$@" -m comment --comment "$(lab_ipt_comment)"
    iptables -w 5 -t "$table" -I "$chain" "$@" -m comment --comment "$(lab_ipt_comment)" ||
        lab_warn "iptables -t $table -I $chain $* failed"
}

# root-namespace route, recorded
lab_net_route() {
    lab_record route "$@"
    ip route add "$@" || {
        lab_err "ip route add $* failed"
        return 1
    }
}

lab_net_up() {
    local n ns ip veth
    lab_record link "$LAB_BRIDGE"
    ip link add "$LAB_BRIDGE" type bridge || return 1
    # no IPv6 chatter (router solicitations) from the lab's links
    sysctl -qw "net.ipv6.conf.$LAB_BRIDGE.disable_ipv6=1" 2>/dev/null
    ip addr add "$LAB_HOST_IP/24" dev "$LAB_BRIDGE" || return 1
    ip link set "$LAB_BRIDGE" up || return 1

    # the bridge's guard rules: inserted in this order, so ACCEPT ends up first
    lab_net_ipt filter FORWARD ! -i "$LAB_BRIDGE" -o "$LAB_BRIDGE" -j DROP
    lab_net_ipt filter FORWARD -i "$LAB_BRIDGE" ! -o "$LAB_BRIDGE" -j DROP
    lab_net_ipt filter FORWARD -i "$LAB_BRIDGE" -o "$LAB_BRIDGE" -j ACCEPT

    # one `ip -batch` per namespace keeps this fast with many nodes; records come first
    local root_cmds="" node_cmds
    for ((n = 1; n <= LAB_NODES; n++)); do
        ns=$(lab_node_ns "$n")
        veth=$(lab_node_veth "$n")
        lab_record netns "$ns"
        lab_record link "$veth"
        ip netns add "$ns" || return 1
        root_cmds+="link add $veth type veth peer name eth0 netns $ns"$'\n'
        root_cmds+="link set $veth master $LAB_BRIDGE up"$'\n'
    done
    ip -batch - <<<"$root_cmds" || return 1
    for ((n = 1; n <= LAB_NODES; n++)); do
        ns=$(lab_node_ns "$n")
        ip=$(lab_node_ip "$n")
        node_cmds="link set lo up"$'\n'
        node_cmds+="addr add $ip/24 dev eth0"$'\n'
        node_cmds+="link set eth0 up"$'\n'
        node_cmds+="route add $LAB_SERVICE_CIDR via $LAB_HOST_IP dev eth0"$'\n'
        ip -n "$ns" -batch - <<<"$node_cmds" || return 1
        nsenter "--net=/run/netns/$ns" sysctl -qw net.ipv4.ip_forward=1 || return 1
        # the node routes service IPs back out of eth0: without this it sends ICMP redirects,
        # and their rate limit then eats kube-proxy's port-unreachable answers
        nsenter "--net=/run/netns/$ns" sysctl -qw net.ipv4.conf.all.send_redirects=0 \
            net.ipv4.conf.eth0.send_redirects=0 || return 1
    done
    lab_net_route "$(lab_cluster_cidr)" dev "$LAB_BRIDGE" || return 1
    lab_net_route "$LAB_SERVICE_CIDR" via "$(lab_node_ip 1)" dev "$LAB_BRIDGE" || return 1
    return 0
}

# --- pod CIDRs from node IPAM -------------------------------------------------------------

# is $1 an IPv4 CIDR inside the cluster CIDR ($LAB_POD_NET.0.0/16) with a /17../32 mask?
lab_pod_cidr_ok() {
    local o='(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])'
    [[ "$1" =~ ^${LAB_POD_NET//./\\.}\.$o\.$o/(1[7-9]|2[0-9]|3[0-2])$ ]]
}

# "NAME CIDR" for every Node (CIDR "-" when it has none yet), from the apiserver
lab_api_node_cidrs() {
    curl -fsS -m 5 "http://127.0.0.1:$LAB_API_PORT/api/v1/nodes" 2>/dev/null |
        jq -r '.items[] | "\(.metadata.name) \(.spec.podCIDR // "-")"' 2>/dev/null
}

# fills lab_pod_cidrs[N] from the apiserver; true when every node-N has a valid one
lab_pod_cidrs_read() {
    local name cidr n
    lab_pod_cidrs=()
    while read -r name cidr; do
        [[ "$name" =~ ^node-([0-9]+)$ ]] || continue
        n=${BASH_REMATCH[1]}
        [ "$n" -ge 1 ] && [ "$n" -le "$LAB_NODES" ] || continue
        [ "$cidr" != - ] && lab_pod_cidr_ok "$cidr" && lab_pod_cidrs[n]=$cidr
    done < <(lab_api_node_cidrs)
    [ ${#lab_pod_cidrs[@]} -eq "$LAB_NODES" ]
}

# why the wait failed, per node, then the controller's and the kubelets' last words
lab_pod_cidrs_explain() {
    local n name cidr
    local -A got=()
    while read -r name cidr; do got[$name]=$cidr; done < <(lab_api_node_cidrs)
    for ((n = 1; n <= LAB_NODES; n++)); do
        if [ -z "${got[node-$n]:-}" ]; then
            lab_err "node-$n: no Node object (its kubelet did not register; logs/node-$n-kubelet.log)"
        elif [ "${got[node-$n]}" = - ]; then
            lab_err "node-$n: registered but has no spec.podCIDR (node-ipam did not allocate one)"
        elif ! lab_pod_cidr_ok "${got[node-$n]}"; then
            lab_err "node-$n: podCIDR ${got[node-$n]} is not a /17../32 inside $(lab_cluster_cidr)"
        fi
    done
    lab_log_tail "$LAB_DIR/logs/kube-controller-manager.log" 8
}

# waits up to SECONDS for every Node to get its podCIDR from node IPAM, then routes each node's
# CIDR to it: from the root namespace (recorded) and from every other node
lab_pod_routes_up() {
    local timeout=$1 n m ns cidr cmds
    if ! lab_wait "$timeout" lab_pod_cidrs_read; then
        lab_err "the Nodes did not all get a pod CIDR from kube-controller-manager's node IPAM" \
            "(--cluster-cidr $(lab_cluster_cidr)) within $timeout s"
        lab_pod_cidrs_explain
        return 1
    fi
    # distinct, or the routes would be ambiguous (the allocator never does this)
    if [ "$(printf '%s\n' "${lab_pod_cidrs[@]}" | sort -u | wc -l)" != "$LAB_NODES" ]; then
        lab_err "two Nodes got the same pod CIDR: ${lab_pod_cidrs[*]}"
        return 1
    fi
    : >"$LAB_DIR/run/pod-cidrs.tmp" || return 1
    for ((n = 1; n <= LAB_NODES; n++)); do
        printf '%s\t%s\n' "$n" "${lab_pod_cidrs[n]}" >>"$LAB_DIR/run/pod-cidrs.tmp"
    done
    mv -f "$LAB_DIR/run/pod-cidrs.tmp" "$LAB_DIR/run/pod-cidrs" || return 1
    for ((n = 1; n <= LAB_NODES; n++)); do
        lab_net_route "${lab_pod_cidrs[n]}" via "$(lab_node_ip "$n")" dev "$LAB_BRIDGE" || return 1
    done
    for ((m = 1; m <= LAB_NODES; m++)); do
        ns=$(lab_node_ns "$m")
        cmds=""
        for ((n = 1; n <= LAB_NODES; n++)); do
            [ "$n" = "$m" ] && continue
            cmds+="route add ${lab_pod_cidrs[n]} via $(lab_node_ip "$n") dev eth0"$'\n'
        done
        [ -n "$cmds" ] || continue
        ip -n "$ns" -batch - <<<"$cmds" || {
            lab_err "adding the pod CIDR routes in $ns failed"
            return 1
        }
    done
}

# prints "N CIDR" for each node, CIDRs as the apiserver has them ("none yet" for a Node without
# one, "not registered" when there is no Node), or, when the apiserver does not answer, as
# `up` recorded them in DIR/run/pod-cidrs, marked "(recorded)"
lab_pod_cidrs_show() {
    local n name cidr out
    local -A got=()
    if out=$(lab_api_node_cidrs); then
        while read -r name cidr; do [ -n "$name" ] && got[$name]=$cidr; done <<<"$out"
        for ((n = 1; n <= LAB_NODES; n++)); do
            cidr=${got[node-$n]:-not registered}
            [ "$cidr" = - ] && cidr="none yet"
            echo "$n $cidr"
        done
        return 0
    fi
    for ((n = 1; n <= LAB_NODES; n++)); do
        cidr=$(awk -F'\t' -v n="$n" '$1 == n { print $2 }' "$LAB_DIR/run/pod-cidrs" 2>/dev/null)
        echo "$n ${cidr:-unknown} (recorded; the apiserver does not answer)"
    done
}
