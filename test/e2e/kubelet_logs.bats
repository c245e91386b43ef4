#!/usr/bin/env bats
# Container logs on the lab (deploy/lab), as a user reads them with the real kubectl: the
# apiserver's pods/log proxies to the kubelet's /containerLogs on :10250, which reads the CRI
# log files the shim writes. Covers `kubectl logs` with -c, --tail, --timestamps, -f (new
# lines while the container runs, the end when it exits), --previous after a restart,
# --limit-bytes, a last line without newline (a P line written when the container ends), and
# upstream's error texts.
#
# One lab for the file (unique prefix, subnets, directory), torn down in teardown_file.

ROOT=${CKUBE_ROOT:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
. "$ROOT/test/lib/e2e.sh" # LAB, lab, k, wait_for

jp() {
    k get pod "$1" -o "jsonpath=$2" 2>/dev/null
}

running() {
    [ "$(jp "$1" '{.status.phase}')" = Running ]
}

restarted_and_running() {
    [ "$(jp "$1" '{.status.containerStatuses[0].restartCount}')" -ge 1 ] 2>/dev/null &&
        [ -n "$(jp "$1" '{.status.containerStatuses[0].state.running}')" ]
}

waiting_on_image() {
    [[ "$(jp "$1" '{.status.containerStatuses[0].state.waiting.reason}')" == *ImagePull* ]]
}

pods_yaml() {
    cat <<EOF
apiVersion: v1
kind: Pod
metadata: {name: lines}
spec:
  nodeName: node-1
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.36
    command: [sh, -c, 'for i in 1 2 3 4 5; do echo line \$i; done; sleep 0.5; echo oops >&2; sleep 3600']
---
apiVersion: v1
kind: Pod
metadata: {name: two}
spec:
  nodeName: node-1
  terminationGracePeriodSeconds: 1
  containers:
  - {name: a, image: busybox:1.36, command: [sh, -c, 'echo from a; sleep 3600']}
  - {name: b, image: busybox:1.36, command: [sh, -c, 'echo from b; sleep 3600']}
---
apiVersion: v1
kind: Pod
metadata: {name: restarter}
spec:
  nodeName: node-1
  terminationGracePeriodSeconds: 1
  volumes: [{name: d, emptyDir: {}}]
  containers:
  - name: c
    image: busybox:1.36
    volumeMounts: [{name: d, mountPath: /d}]
    command: [sh, -c, 'n=\$((\$(cat /d/n 2>/dev/null || echo 0) + 1)); echo \$n >/d/n; echo run \$n; [ \$n -gt 1 ] || exit 1; sleep 3600']
---
apiVersion: v1
kind: Pod
metadata: {name: noimage}
spec:
  nodeName: node-1
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: busybox:does-not-exist}
EOF
}

follow_yaml() {
    cat <<EOF
apiVersion: v1
kind: Pod
metadata: {name: follow}
spec:
  nodeName: node-1
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: busybox:1.36, command: [sh, -c, 'echo first; sleep 4; echo second; sleep 2; echo third; printf no-newline']}
EOF
}

setup_file() {
    [ "$(id -u)" = 0 ] || skip "the lab needs root"
    command -v runc >/dev/null || skip "runc is not installed"
    local bin=${CKUBE_BIN:-$ROOT/bin}
    [ -x "$bin/kubelet" ] || skip "$bin/kubelet is not built"
    e2e_lab_up cklg 10.251 1 || return 0
    pods_yaml | kubectl --kubeconfig "$T_DIR/kubeconfig" apply -f - >"$BATS_FILE_TMPDIR/apply.out" 2>&1
}

teardown_file() {
    e2e_lab_down
}

setup() {
    e2e_lab_check
}

@test "kubelet logs: the Node advertises the kubelet port; /pods and /healthz answer on it" {
    wait_for 30 running lines
    [ "$(k get node node-1 -o 'jsonpath={.status.daemonEndpoints.kubeletEndpoint.Port}')" = 10250 ]
    run "$LAB" --dir "$T_DIR" exec node-1 -- curl -fsS -m 5 http://127.0.0.1:10250/healthz
    [ "$status" -eq 0 ]
    [ "$output" = ok ]
    run "$LAB" --dir "$T_DIR" exec node-1 -- curl -fsS -m 5 http://127.0.0.1:10250/pods
    [ "$status" -eq 0 ]
    [ "$(jq -r .kind <<<"$output")" = PodList ]
    jq -e '.items[] | select(.metadata.name == "lines")' <<<"$output" >/dev/null
}

@test "kubelet logs: kubectl logs shows stdout and stderr; --tail, --limit-bytes, --timestamps" {
    wait_for 30 running lines
    expected=$'line 1\nline 2\nline 3\nline 4\nline 5\noops'
    wait_for 10 eval '[ "$(k logs lines 2>&1)" = "$expected" ]'
    run k logs lines --tail=2
    [ "$status" -eq 0 ]
    [ "$output" = $'line 5\noops' ]
    run k logs lines --tail=0
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    run k logs lines --limit-bytes=9
    [ "$status" -eq 0 ]
    [ "$output" = $'line 1\nli' ]
    run k logs lines --timestamps --tail=1
    [ "$status" -eq 0 ]
    [[ "$output" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z\ oops$ ]]
    run k logs lines --since=1h
    [ "$status" -eq 0 ]
    [ "$output" = "$expected" ]
    run k logs lines --since-time=2000-01-01T00:00:00Z
    [ "$status" -eq 0 ]
    [ "$output" = "$expected" ]
    run k logs lines --since-time=2099-01-01T00:00:00Z
    [ "$status" -eq 0 ]
    [ -z "$output" ]
}

@test "kubelet logs: -c picks a container; a missing or wrong one gets upstream's errors" {
    wait_for 30 running two
    run k logs two -c b
    [ "$status" -eq 0 ]
    [ "$output" = "from b" ]
    run k get --raw /api/v1/namespaces/default/pods/two/log
    [ "$status" -ne 0 ]
    [[ "$output" == *"a container name must be specified for pod two, choose one of: [a b]"* ]]
    run k get --raw "/api/v1/namespaces/default/pods/two/log?container=x"
    [ "$status" -ne 0 ]
    [[ "$output" == *"container x is not valid for pod two"* ]]
    run k get --raw "/api/v1/namespaces/default/pods/two/log?container=a&tailLines=-1"
    [ "$status" -ne 0 ]
    [[ "$output" == *"tailLines: Invalid value: -1: must be greater than or equal to 0"* ]]
}

@test "kubelet logs: -f streams new lines while the container runs and ends when it exits" {
    follow_yaml | k apply -f - >/dev/null
    wait_for 30 running follow
    local out=$BATS_TEST_TMPDIR/follow.out
    timeout 30 kubectl --kubeconfig "$T_DIR/kubeconfig" logs -f follow >"$out" 2>&1 &
    local pid=$!
    wait_for 10 grep -q first "$out"
    # streamed before the container printed the rest
    run grep -q third "$out"
    [ "$status" -ne 0 ]
    local rc=0
    wait "$pid" || rc=$?
    [ "$rc" -eq 0 ] # ended by itself, not by timeout (124)
    # output without a final newline is written as a P line when the container ends
    [ "$(cat "$out")" = $'first\nsecond\nthird\nno-newline' ]
}

kubelet_streams() {
    "$LAB" --dir "$T_DIR" exec node-1 -- ss -Htn state established '( sport = :10250 )' |
        grep -c .
}

no_kubelet_streams() {
    [ "$(kubelet_streams)" = 0 ]
}

@test "kubelet logs: a client that stops following releases the stream down to the kubelet" {
    wait_for 30 running lines
    wait_for 10 no_kubelet_streams
    kubectl --kubeconfig "$T_DIR/kubeconfig" logs -f lines >/dev/null 2>&1 &
    local pid=$!
    wait_for 10 eval '[ "$(kubelet_streams)" -ge 1 ]'
    kill "$pid"
    wait "$pid" || true
    wait_for 10 no_kubelet_streams
}

@test "kubelet logs: --previous shows the run before a restart, and errors before any" {
    run k logs lines --previous
    [ "$status" -ne 0 ]
    [[ "$output" == *'previous terminated container "c" in pod "lines" not found'* ]]
    wait_for 60 restarted_and_running restarter
    run k logs restarter
    [ "$status" -eq 0 ]
    [ "$output" = "run 2" ]
    run k logs restarter --previous
    [ "$status" -eq 0 ]
    [ "$output" = "run 1" ]
}

@test "kubelet logs: a container that cannot start says why" {
    wait_for 60 waiting_on_image noimage
    run k logs noimage
    [ "$status" -ne 0 ]
    [[ "$output" == *'container "c" in pod "noimage" is waiting to start: '* ]]
}
