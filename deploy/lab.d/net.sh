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
    local n m ns ip veth
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
        for ((m = 1; m <= LAB_NODES; m++)); do
            [ "$m" = "$n" ] && continue
            node_cmds+="route add $LAB_POD_NET.$m.0/24 via $LAB_SUBNET.$((10 + m)) dev eth0"$'\n'
        done
        node_cmds+="route add $LAB_SERVICE_CIDR via $LAB_HOST_IP dev eth0"$'\n'
        ip -n "$ns" -batch - <<<"$node_cmds" || return 1
        nsenter "--net=/run/netns/$ns" sysctl -qw net.ipv4.ip_forward=1 || return 1
        # the node routes service IPs back out of eth0: without this it sends ICMP redirects,
        # and their rate limit then eats kube-proxy's port-unreachable answers
        nsenter "--net=/run/netns/$ns" sysctl -qw net.ipv4.conf.all.send_redirects=0 \
            net.ipv4.conf.eth0.send_redirects=0 || return 1
        lab_net_route "$(lab_node_pod_cidr "$n")" via "$ip" dev "$LAB_BRIDGE" || return 1
    done
    lab_net_route "$(lab_cluster_cidr)" dev "$LAB_BRIDGE" || return 1
    lab_net_route "$LAB_SERVICE_CIDR" via "$(lab_node_ip 1)" dev "$LAB_BRIDGE" || return 1
    return 0
}
