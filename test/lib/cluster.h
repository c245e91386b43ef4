/* cluster.h - test harness: a REAL etcd (test/lib/etcd_cluster) plus a REAL kube-apiserver
 * ($CKUBE_BIN/kube-apiserver, default ./bin) serving plain HTTP on a free loopback port, with
 * its own etcd prefix. The apiserver can be stopped, killed and started again on the same port
 * and prefix (restart tests). Helpers spawn and stop other daemons (kube-controller-manager in
 * leader-election tests) the same way.
 *
 * Clean-up on every exit path: ck_test_cluster_destroy; atexit for what a failing test left
 * behind; SIGINT/SIGTERM/SIGHUP (children are killed, then the previous handler or the default
 * action runs); and PR_SET_PDEATHSIG(SIGKILL) on every child, so even a crash or SIGKILL of the
 * test takes them down (the thread that spawns must outlive them: use the main thread). A
 * guardian shell removes the cluster's directory once the test process is gone for any reason;
 * etcd's own guardian removes etcd's.
 *
 * Logs: <dir>/kube-apiserver.log and whatever log paths callers give (CK_TEST_KEEP=1 keeps the
 * directory). Functions return 0 or a negative errno and never exit. Not thread-safe: drive a
 * cluster from one thread.
 */
#ifndef CK_TEST_CLUSTER_H
#define CK_TEST_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct ck_test_cluster;

struct ck_test_cluster_opts {
    const char *const *apiserver_args; /* extra kube-apiserver flags, NULL-terminated */
};

/* Starts etcd and the apiserver and waits until /healthz answers (up to 30 s). */
int ck_test_cluster_start(const struct ck_test_cluster_opts *opts, struct ck_test_cluster **out);
/* Stops everything, removes the directory (unless CK_TEST_KEEP=1), frees. NULL accepted. */
void ck_test_cluster_destroy(struct ck_test_cluster *c);

/* "http://127.0.0.1:PORT" (borrowed). */
const char *ck_test_cluster_url(const struct ck_test_cluster *c);
/* The temporary directory of this cluster (borrowed). */
const char *ck_test_cluster_dir(const struct ck_test_cluster *c);

/* SIGTERM the apiserver and wait for it (SIGKILL after 10 s). */
int ck_test_cluster_apiserver_stop(struct ck_test_cluster *c);
/* kill -9 the apiserver. */
int ck_test_cluster_apiserver_kill(struct ck_test_cluster *c);
/* Start the apiserver again (same port, prefix and flags); waits for /healthz. */
int ck_test_cluster_apiserver_start(struct ck_test_cluster *c);
/* -EIO when a sanitizer report is in the apiserver's log, else 0. */
int ck_test_cluster_check_logs(struct ck_test_cluster *c);

/* The path of binary `name` under $CKUBE_BIN (default "bin"), into buf. */
const char *ck_test_bin(const char *name, char *buf, size_t size);
/* A TCP port on 127.0.0.1 that was free a moment ago, or a negative errno. */
int ck_test_free_port(void);

/* Spawns argv (argv[0] a path) with stdout/stderr appended to log (NULL: /dev/null) and
 * PR_SET_PDEATHSIG(SIGKILL); the child is killed at exit if still running. Returns the pid or
 * a negative errno. */
pid_t ck_test_spawn(char *const argv[], const char *log);
/* Sends sig to a spawned child and waits up to wait_ms for it to exit (then SIGKILL). Returns
 * its exit status as waitpid reports it, or a negative errno. */
int ck_test_stop(pid_t pid, int sig, int wait_ms);
/* True while a spawned child runs (reaps it when it has exited; *status gets its status). */
bool ck_test_running(pid_t pid, int *status);

#endif
