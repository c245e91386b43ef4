/* etcd_cluster.h - test harness: a REAL etcd cluster (1..5 members) on free loopback ports in a
 * fresh temporary directory, with fault injection (kill -9, graceful stop, pause, restart).
 *
 * Clean-up happens on every exit path: ck_etcd_cluster_destroy; atexit for clusters a failing
 * test left behind; SIGINT/SIGTERM (members are killed, then the signal proceeds); and a
 * guardian shell per cluster that kills the members and removes the directory once the test
 * process is gone for any reason (even SIGKILL or a crash). Members also run with
 * PR_SET_PDEATHSIG(SIGKILL): the thread that starts or restarts a member must outlive it (use
 * the test's main thread).
 *
 * Environment: CK_ETCD_BIN (default: etcd from PATH), TMPDIR (default /dev/shm, then /tmp),
 * CK_ETCD_KEEP=1 keeps the directory (logs: <dir>/m<i>.log).
 * Functions return 0 / an index, or a negative errno; none exits. Not thread-safe: drive a
 * cluster from one thread.
 */
#ifndef CK_TEST_ETCD_CLUSTER_H
#define CK_TEST_ETCD_CLUSTER_H

#include <stdbool.h>

#define CK_ETCD_MAX_MEMBERS 5

struct ck_etcd_cluster_opts {
    int members;                          /* 0: 1 */
    bool tls;                             /* https client URLs with client-certificate auth */
    const char *progress_notify_interval; /* etcd's watch progress interval, e.g. "1s" */
};

struct ck_etcd_cluster;

/* Starts the members and waits until every one serves with an elected leader (up to 30 s).
 * opts may be NULL. *out is released with ck_etcd_cluster_destroy. */
int ck_etcd_cluster_start(const struct ck_etcd_cluster_opts *opts, struct ck_etcd_cluster **out);
/* Kills every member, removes the directory, frees c (NULL accepted). */
void ck_etcd_cluster_destroy(struct ck_etcd_cluster *c);

int ck_etcd_cluster_size(const struct ck_etcd_cluster *c);
/* "http://127.0.0.1:A,http://127.0.0.1:B,...", in member order (borrowed). */
const char *ck_etcd_cluster_endpoints(const struct ck_etcd_cluster *c);
/* Client URL of member i (borrowed). */
const char *ck_etcd_cluster_endpoint(const struct ck_etcd_cluster *c, int i);
const char *ck_etcd_cluster_dir(const struct ck_etcd_cluster *c);
/* With tls: CA, client certificate and key for clients (borrowed); NULL otherwise. */
const char *ck_etcd_cluster_ca_file(const struct ck_etcd_cluster *c);
const char *ck_etcd_cluster_cert_file(const struct ck_etcd_cluster *c);
const char *ck_etcd_cluster_key_file(const struct ck_etcd_cluster *c);

/* kill -9 member i and reap it. */
int ck_etcd_cluster_kill(struct ck_etcd_cluster *c, int i);
/* SIGTERM member i and wait for it (SIGKILL after 10 s). */
int ck_etcd_cluster_stop(struct ck_etcd_cluster *c, int i);
/* SIGSTOP / SIGCONT member i: it keeps its sockets but answers nothing. Both return once
 * every thread of the member has stopped / runs again. */
int ck_etcd_cluster_pause(struct ck_etcd_cluster *c, int i);
int ck_etcd_cluster_resume(struct ck_etcd_cluster *c, int i);
/* Starts a stopped or killed member again on its data directory and ports, and waits until
 * the cluster is healthy. */
int ck_etcd_cluster_restart(struct ck_etcd_cluster *c, int i);
bool ck_etcd_cluster_running(const struct ck_etcd_cluster *c, int i);

/* Index of the member that leads, as all running members agree, waiting up to timeout_ms;
 * -ETIMEDOUT when none is agreed on. */
int ck_etcd_cluster_leader(struct ck_etcd_cluster *c, int timeout_ms);
/* Waits until every running, unpaused member answers a linearizable read with one agreed
 * leader. */
int ck_etcd_cluster_wait_healthy(struct ck_etcd_cluster *c, int timeout_ms);

#endif
