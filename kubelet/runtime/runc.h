/* runc.h - the kubelet's container runtime over runc: containers created, started, stopped,
 * exec'd into and removed by running /usr/sbin/runc (--root <state root>/runc), plus a small
 * per-container shim that writes the CRI log and records how the container ended.
 *
 * State on disk (<root> is the directory given to kl_runtime_init; everything survives a
 * kubelet restart, which finds its containers again with kl_container_list):
 *     <root>/runc/                      runc's own state (--root)
 *     <root>/containers/<id>/           the OCI bundle: config.json, rootfs/ (overlayfs over
 *                                       the image layers), upper/, work/; meta.json (what the
 *                                       kubelet asked for), started, exit.json (written by the
 *                                       shim), termination-log, runc.log, shim.log
 *     <root>/sandboxes/<id>/            see sandbox.h
 *
 * The shim. kl_container_create starts a detached process (double fork + setsid, so it is
 * reparented to init and outlives the kubelet) running the kubelet's own binary in shim mode:
 * forked from the runtime's zygote (zygote.h: one exec of /proc/self/exe per runtime, the
 * cheap path) or, without one, by re-executing /proc/self/exe -- the modes are picked up by a
 * constructor in runc.c before main runs, so any binary linking this file can be its own
 * shim. The shim makes itself a child subreaper, runs `runc create` (`runc run --detach`
 * for kl_container_run) with the container's stdio on two pipes (stdin is /dev/null; no
 * terminal) and reports the init pid back to the kubelet. It then stays for the container's
 * lifetime: it reads stdout/stderr and writes CRI-format lines
 *     2026-11-23T02:00:00.123456789Z stdout F hello
 * (UTC, nanoseconds, F for a full line, P for a partial one: a line longer than 16 KiB is cut
 * into P pieces, and output that ends without a newline is written as P at the end; a "\r\n"
 * ending counts as a newline) to <log dir>/<name>/<attempt>.log, reopening the file on
 * SIGUSR1 (log rotation). When runc's init exits -- the shim reaps it, being the subreaper --
 * it reads the container cgroup's OOM-kill counter and writes exit.json (exit code, 128+signal
 * for a signal, finish time, OOMKilled) and exits; a container that outlives its shim (the
 * shim was SIGKILLed -- it ignores SIGTERM/SIGHUP/SIGINT) ends with exit code 255 and reason
 * "Unknown". A kubelet that runs under systemd must use KillMode=process (as containerd's
 * unit does) so restarting it keeps the shims.
 *
 * Times are wall-clock (CLOCK_REALTIME). Reasons follow containerd's CRI: "OOMKilled" when the
 * cgroup saw an OOM kill, else "Completed" for exit code 0 and "Error" otherwise. Not done
 * yet: seccomp/AppArmor profiles (containers run unconfined, the kubelet's default without
 * --seccomp-default), host devices for privileged containers (the device cgroup allows all,
 * but /dev is the runtime's minimal one), image VOLUMEs, stdin/tty/attach.
 *
 * Threads: struct kl_runtime is read-only after kl_runtime_init, so calls on different
 * containers may run concurrently; calls on the same container must be serialized by the
 * caller (the kubelet's pod worker does). The runtime waits only for the children it forks
 * (waitpid on their pids): the caller must not reap children it did not start (no
 * waitpid(-1) / SIGCHLD SIG_IGN elsewhere in the process).
 *
 * Functions return 0 or a negative errno and fill the optional ck_error with a message fit
 * for a container status (runc's own error text where it failed).
 */
#ifndef KL_RUNC_H
#define KL_RUNC_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "error.h"
#include "kubelet/runtime/bundle.h"
#include "kubelet/runtime/cgroups.h"

struct kl_sandbox;
struct kl_zygote;

struct kl_runtime {
    char *root;      /* state root (absolute) */
    char *runc_root; /* <root>/runc */
    char *runc;      /* the runc binary: $CKUBE_RUNC or /usr/sbin/runc */
    struct kl_cgroups *cg;
    char node_hostname[256];
    int cap_last_cap;
    struct kl_zygote *zygote; /* starts shims without an exec (zygote.h); NULL: exec them */
};

/* Opens (creating when missing) the runtime state under `root` and the pod cgroup tree under
 * the node-level cgroup `cgroup_root` (NULL: "/kubepods"), creating its QoS cgroups. *out is
 * owned by the caller (kl_runtime_free). */
int kl_runtime_init(const char *root, const char *cgroup_root, struct kl_runtime **out,
                    struct ck_error *err);
/* Frees the struct; containers keep running. */
void kl_runtime_free(struct kl_runtime *rt);
/* Removes what an interrupted create left behind (container or sandbox directories without
 * their meta.json, with their mounts, runc state and shim). Call it at startup, before any
 * create runs. Returns how many it removed or a negative errno. */
int kl_runtime_cleanup_incomplete(struct kl_runtime *rt);
/* Removes everything the runtime ever made: kills and deletes every container (and its
 * shim), every sandbox's namespaces and mounts, the whole cgroup_root tree, and the state
 * root. For tests and a kubelet reset. Best effort; returns the first error. */
int kl_runtime_purge(struct kl_runtime *rt);

enum kl_container_status {
    KL_CONTAINER_CREATED,
    KL_CONTAINER_RUNNING,
    KL_CONTAINER_EXITED,
    KL_CONTAINER_UNKNOWN,
};

/* A container as the runtime knows it; all strings and JSON owned by the struct. */
struct kl_container {
    char *id; /* 64 hex digits */
    char *sandbox_id;
    char *name;
    unsigned attempt;
    char *image;
    char *dir;      /* <root>/containers/<id> */
    char *log_path; /* "" when the container has no log file */
    char *cgroup_path;
    char *termination_log; /* host file of the termination message */
    char stop_signal[24];  /* from the image's StopSignal, default "SIGTERM" */
    struct timespec created_at;
    int init_pid;                  /* host pid of the container's init */
    unsigned long long init_start; /* its start time (clock ticks), against pid reuse */
    int shim_pid;
    cJSON *labels;      /* object of strings */
    cJSON *annotations; /* object of strings */
};

struct kl_container_state {
    enum kl_container_status status;
    int pid;       /* while created or running */
    int exit_code; /* when exited */
    bool oom_killed;
    char reason[32];   /* "OOMKilled", "Completed", "Error", "Unknown" or "" */
    char message[256]; /* why the state is unknown */
    struct timespec created_at, started_at, finished_at; /* zero when not (yet) */
};

/* Creates a container in sandbox sb: mounts an overlayfs over layer_dirs (lowest first, at
 * least one), writes the OCI bundle for spec over image_config (see bundle.h; may be NULL)
 * and runs `runc create` under a new shim. The container is CREATED; its process waits for
 * kl_container_start. Host paths of volume mounts that do not exist are created as
 * directories (as containerd does). On failure nothing is left behind. *out is owned by the
 * caller (kl_container_free). */
int kl_container_create(struct kl_runtime *rt, const struct kl_sandbox *sb,
                        const struct kl_container_spec *spec, const cJSON *image_config,
                        const char *const *layer_dirs, size_t n_layers, struct kl_container **out,
                        struct ck_error *err);
/* `runc start`: the container's process runs. */
int kl_container_start(struct kl_runtime *rt, const struct kl_container *c, struct ck_error *err);
/* kl_container_create + kl_container_start in one runc call (`runc run --detach`): on success
 * the container's process runs (or already ran: a short-lived one may have exited) and its
 * start is recorded; output it wrote before runc returned is in its log. A process that could
 * not be started (e.g. a missing executable) fails here with runc's message ("... unable to
 * start container process: ..."). *out is owned by the caller (kl_container_free). */
int kl_container_run(struct kl_runtime *rt, const struct kl_sandbox *sb,
                     const struct kl_container_spec *spec, const cJSON *image_config,
                     const char *const *layer_dirs, size_t n_layers, struct kl_container **out,
                     struct ck_error *err);
/* The container's current state. Cheap while it runs (no runc call). */
int kl_container_state(struct kl_runtime *rt, const struct kl_container *c,
                       struct kl_container_state *st, struct ck_error *err);
/* Graceful stop: the stop signal, up to grace_seconds for the container to exit, then
 * SIGKILL to all its processes; returns once the exit is recorded (-ETIMEDOUT if that takes
 * more than 10 s after the SIGKILL). An exited container is success. */
int kl_container_stop(struct kl_runtime *rt, const struct kl_container *c, int64_t grace_seconds,
                      struct ck_error *err);
/* Runs argv (argv[0] looked up in the container's PATH) inside the running container with
 * the container's env, user and cwd, stdio on the given fds (-1: /dev/null). Waits up to
 * timeout_ms (0: no limit; on expiry the process is killed and -ETIMEDOUT returned) and
 * stores the exit status (128+signal when killed by one) in *exit_code. */
int kl_container_exec(struct kl_runtime *rt, const struct kl_container *c, const char *const *argv,
                      int stdin_fd, int stdout_fd, int stderr_fd, int timeout_ms, int *exit_code,
                      struct ck_error *err);
/* Removes the container: stops it first with no grace when needed, `runc delete`, unmounts
 * its root filesystem and deletes its directory. The log file stays (the kubelet's to GC). */
int kl_container_remove(struct kl_runtime *rt, const struct kl_container *c, struct ck_error *err);
/* Asks the shim to reopen the log file (after the kubelet rotated it). */
int kl_container_reopen_log(struct kl_runtime *rt, const struct kl_container *c);
/* Reads the termination message the container left (at most 4096 bytes, upstream's limit);
 * *out (caller frees) is "" when none. */
int kl_container_termination_message(const struct kl_container *c, char **out);
/* CPU, memory and pids usage of the container's cgroup. */
int kl_container_stats(struct kl_runtime *rt, const struct kl_container *c,
                       struct kl_cgroup_stats *st);

/* Loads one container by id / all containers (e.g. after a kubelet restart). *out / the array
 * and every element are owned by the caller (kl_container_free; free the array). */
int kl_container_get(struct kl_runtime *rt, const char *id, struct kl_container **out);
int kl_container_list(struct kl_runtime *rt, struct kl_container ***out, size_t *n);
void kl_container_free(struct kl_container *c);
void kl_container_list_free(struct kl_container **v, size_t n);

/* ---- CRI log lines (used by the shim; pure) ------------------------------------------------- */

#define KL_CRILOG_MAX_LINE 16384 /* containerd's default max_container_log_line_size */

/* Formats t as RFC 3339 in UTC with exactly nine fraction digits: out needs 31 bytes. */
void kl_format_rfc3339nano(const struct timespec *t, char out[32]);

/* Pending bytes of one stream that did not end in a newline yet. */
struct kl_crilog_stream {
    char *buf;
    size_t len, cap;
};

/* Appends to out the CRI log lines completed by `data` read from stream `name` ("stdout" /
 * "stderr") at time now; lines longer than max_line become P pieces. */
void kl_crilog_feed(struct kl_crilog_stream *st, const char *name, const void *data, size_t len,
                    const struct timespec *now, size_t max_line, struct ck_buf *out);
/* At end of stream: what is pending becomes P lines. */
void kl_crilog_flush(struct kl_crilog_stream *st, const char *name, const struct timespec *now,
                     size_t max_line, struct ck_buf *out);
void kl_crilog_stream_free(struct kl_crilog_stream *st);

/* This process's environment with `marker` ("<KL_SHIM_ENV>=<mode>") in place of any shim marker
 * it has, for exec'ing the kubelet binary as a shim or the launcher. The caller frees the array
 * only (the strings are environ's and marker). */
char **kl_shim_environ(const char *marker);
/* For a forked child about to exec or run a shim: no blocked signals, default dispositions (an
 * ignored SIGPIPE would otherwise be inherited by runc and the container's processes). */
void kl_child_signals_default(void);
/* For a forked child: closes every descriptor from lowfd up. */
void kl_child_close_from(int lowfd);

#endif
