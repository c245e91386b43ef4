# deploy/lab.d/down.sh - `deploy/lab down`: removes everything a lab made, also after a crash of
# `up`, of a daemon or of the whole machine's processes (kill -9). It trusts the state file
# first and then sweeps by name, so a lost or truncated state file still cleans up:
#   1. processes: those recorded (pid + start time must match), those whose environment has
#      CKUBE_LAB_DIR=DIR, and every process living in one of the lab's network namespaces
#      (node namespaces and any namespace file named $LAB_PREFIX-* or mounted under DIR, such as
#      pod sandboxes): SIGTERM to each process group, SIGKILL after 5 s
#   2. mounts under DIR (deepest first) and recorded mounts
#   3. network namespaces: recorded ones and /run/netns/$LAB_PREFIX-*
#   4. links: recorded ones, $LAB_PREFIX-n<N> veths and the bridge
#   5. recorded root routes, iptables rules recorded or carrying our comment
#   6. the kubelets' cgroup trees (--cgroup-root /$LAB_PREFIX-node-N) in every cgroup v1
#      hierarchy and in cgroup v2
#   7. the lab's runtime files (logs stay in DIR/logs)

# the lab's network namespace names: recorded ones, and (when no other lab owns the prefix)
# every /run/netns/$LAB_PREFIX-*
lab_down_netns_names() {
    local ns
    {
        lab_records netns
        if ! lab_prefix_other_owner >/dev/null; then
            for ns in /run/netns/"$LAB_PREFIX"-*; do [ -e "$ns" ] && basename "$ns"; done
        fi
    } | sort -u
}

# inode numbers of the lab's network namespaces, one per line
lab_down_netns_inodes() {
    local ns
    lab_down_netns_names | while IFS= read -r ns; do
        # only a live namespace file (a stale plain file's inode means nothing)
        [ "$(stat -f -c %T "/run/netns/$ns" 2>/dev/null)" = nsfs ] &&
            stat -L -c %i "/run/netns/$ns" 2>/dev/null
    done
    # nsfs mounts under DIR: mountinfo's root field reads "net:[INODE]"
    D="${LAB_DIR// /\\040}/" awk '{
        for (i = 7; i <= NF && $i != "-"; i++) ;
        if ($(i + 1) == "nsfs" && index($5, ENVIRON["D"]) == 1 && $4 ~ /^net:\[/) {
            s = $4; gsub(/[^0-9]/, "", s); print s
        }
    }' /proc/self/mountinfo
}

# every pid that belongs to the lab (see above), never ourselves
lab_down_pids() {
    local pid start name
    {
        while IFS=$'\t' read -r pid start name; do
            lab_pid_alive "$pid" "$start" && echo "$pid"
        done < <(lab_records pid)
        grep -lzFx "CKUBE_LAB_DIR=$LAB_DIR" /proc/[0-9]*/environ 2>/dev/null |
            sed -n 's#^/proc/\([0-9]*\)/environ$#\1#p'
        local inodes
        inodes=$(lab_down_netns_inodes | sort -u | tr '\n' ' ')
        if [ -n "${inodes// /}" ]; then
            find /proc/[0-9]*/ns/net -maxdepth 0 -printf '%p %l\n' 2>/dev/null |
                awk -v want=" $inodes" '{
                    s = $2; gsub(/[^0-9]/, "", s)
                    if (index(want, " " s " ")) { split($1, a, "/"); print a[3] }
                }'
        fi
    } | sort -un | grep -vx -e "$$" -e "$BASHPID" -e "$PPID"
}

lab_down_processes() {
    local round pids
    for round in 1 2; do
        mapfile -t pids < <(lab_down_pids)
        [ ${#pids[@]} -eq 0 ] && return 0
        [ "$round" = 1 ] && lab_say "stopping ${#pids[@]} processes"
        lab_stop_pids 5 "${pids[@]}"
    done
}

# mount points under DIR, deepest first (mountinfo escapes blanks as \040)
lab_down_mounts() {
    local mp
    {
        D="${LAB_DIR// /\\040}/" awk 'index($5, ENVIRON["D"]) == 1 { print $5 }' /proc/self/mountinfo |
            while IFS= read -r mp; do printf '%b\n' "$mp"; done
        lab_records mount
    } | awk '{ print length($0) "\t" $0 }' | sort -rn | cut -f2- | uniq
}

lab_down_unmount() {
    local mp
    while IFS= read -r mp; do
        [ -n "$mp" ] || continue
        grep -qF " ${mp// /\\040} " /proc/self/mountinfo 2>/dev/null || continue
        umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null ||
            lab_warn "could not unmount $mp"
    done < <(lab_down_mounts)
}

lab_down_network() {
    local ns link name other=0
    lab_prefix_other_owner >/dev/null && other=1
    # namespaces: deleting one also deletes its end of each veth, and with it the peer
    lab_down_netns_names | while IFS= read -r ns; do
        [ -e "/run/netns/$ns" ] || continue
        ip netns del "$ns" 2>/dev/null || {
            umount -l "/run/netns/$ns" 2>/dev/null
            rm -f "/run/netns/$ns"
        }
    done
    {
        lab_records link
        if [ $other = 0 ]; then
            ip -o link show 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' |
                grep -E "^$LAB_PREFIX-n[0-9]+\$"
            echo "$LAB_BRIDGE"
        fi
    } | sort -u | while IFS= read -r link; do
        [ -n "$link" ] && ip link show "$link" >/dev/null 2>&1 && ip link del "$link" 2>/dev/null
    done
    # routes through the bridge went with it; anything else we added goes now
    local -a r
    while IFS=$'\t' read -r -a r; do
        [ ${#r[@]} -gt 0 ] && ip route del "${r[@]}" 2>/dev/null
    done < <(lab_records route)
    [ $other = 0 ] && lab_down_iptables_sweep
    lab_down_iptables
}

lab_down_iptables() {
    command -v iptables >/dev/null || return 0
    local -a r
    local table line
    while IFS=$'\t' read -r -a r; do
        [ ${#r[@]} -ge 3 ] || continue
        while iptables -w 5 -t "${r[0]}" -D "${r[1]}" "${r[@]:2}" 2>/dev/null; do :; done
    done < <(lab_records ipt)
}

lab_down_iptables_sweep() {
    command -v iptables >/dev/null || return 0
    local -a r
    local table line
    # sweep: any rule still carrying our comment (iptables -S quotes it; no word of ours has
    # blanks, so dropping the quotes gives the rule back)
    for table in filter nat; do
        iptables -w 5 -t "$table" -S 2>/dev/null | tr -d '"' |
            grep -F -- "--comment $(lab_ipt_comment) " |
            while IFS= read -r line; do
                read -r -a r <<<"${line/#-A /-D }"
                iptables -w 5 -t "$table" "${r[@]}" 2>/dev/null
            done
    done
}

# the cgroup directories of the lab's kubelets: /sys/fs/cgroup/<controller>/$LAB_PREFIX-node-N
# (v1, each hierarchy including systemd's and the hybrid "unified" one) and
# /sys/fs/cgroup/$LAB_PREFIX-node-N (v2), deepest first. A cgroup empties a moment after its
# last process is reaped, so each tree gets a few tries.
lab_down_cgroups() {
    lab_prefix_other_owner >/dev/null && return 0
    local d try left
    for try in 1 2 3 4 5 6 7 8 9 10; do
        left=0
        for d in /sys/fs/cgroup/*/"$LAB_PREFIX"-node-[0-9]* /sys/fs/cgroup/"$LAB_PREFIX"-node-[0-9]*; do
            [ -d "$d" ] || continue
            find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
            [ -d "$d" ] && left=1
        done
        [ $left = 0 ] && return 0
        sleep 0.2
    done
    for d in /sys/fs/cgroup/*/"$LAB_PREFIX"-node-[0-9]* /sys/fs/cgroup/"$LAB_PREFIX"-node-[0-9]*; do
        [ -d "$d" ] && lab_warn "could not remove cgroup $d"
    done
    return 0
}

lab_down_files() {
    local d=$LAB_DIR
    [ -d "$d" ] || return 0
    # only what up creates; never DIR itself (it may be a directory the user chose)
    rm -rf --one-file-system -- "$d"/etcd "$d"/registry "$d"/run "$d"/node-[0-9]* \
        "$d"/kubeconfig "$d"/env "$d"/config "$d"/config.tmp 2>/dev/null
    rm -f -- "$d/state"
    lab_prefix_release
}

lab_down() {
    lab_down_processes
    lab_down_unmount
    lab_down_network
    lab_down_cgroups
    lab_down_files
}
