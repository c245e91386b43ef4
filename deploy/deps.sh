#!/bin/sh
# Installs every Debian package ckube needs to build, run and test, idempotently:
# when all are present nothing is downloaded. Selects the legacy iptables backend
# (libiptc edits the legacy tables). Run as root; `make deps` calls it.
set -eu

PKGS="build-essential pkg-config
libcjson-dev libyaml-dev libmicrohttpd-dev libcurl4-openssl-dev libssl-dev
libnl-3-dev libnl-route-3-dev libip4tc-dev libarchive-dev
libcmocka-dev libclang-rt-14-dev clang
etcd-server etcd-client runc iptables iproute2 containernetworking-plugins socat conntrack
docker-registry skopeo umoci busybox-static
bats jq curl python3-kubernetes"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done

if [ -n "$missing" ]; then
    echo "deps: installing:$missing"
    # Keep package scripts from starting etcd or the registry as system services:
    # ckube starts its own instances on its own ports.
    policy=/usr/sbin/policy-rc.d
    made_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod +x "$policy"
        made_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends $missing; then
        apt-get update
        apt-get install -y --no-install-recommends $missing
    fi
    [ "$made_policy" = 1 ] && rm -f "$policy"
fi

# libiptc edits the legacy tables; make the iptables command agree with it.
if command -v update-alternatives >/dev/null 2>&1 && [ -e /usr/sbin/iptables-legacy ]; then
    cur=$(readlink -f /etc/alternatives/iptables 2>/dev/null || true)
    if [ "$cur" != /usr/sbin/iptables-legacy ]; then
        update-alternatives --set iptables /usr/sbin/iptables-legacy >/dev/null
        update-alternatives --set ip6tables /usr/sbin/ip6tables-legacy >/dev/null 2>&1 || true
        echo "deps: selected iptables-legacy"
    fi
fi
echo "deps: all present"
