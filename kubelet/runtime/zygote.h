/* zygote.h - a pre-started shim launcher for the runtime (see runc.h for the shim itself).
 *
 * Starting a container's shim by re-executing the kubelet binary costs a full program start
 * (the dynamic loader maps and relocates every library the kubelet links: ~50 ms of CPU per
 * container on a small machine). The zygote pays that once: kl_runtime_init execs one copy of
 * the binary in zygote mode, which waits on a socket; for each container the runtime sends it
 * the container directory and three descriptors (the status pipe, the shim log, /dev/null) and
 * the zygote forks a detached shim (double fork + setsid, as the exec path does) that runs the
 * shim's body directly. The shim's command line is rewritten to "ckube-kl-shim <dir>" (the
 * zygote's argv reserves the space), so it is found and checked exactly like an exec'd shim.
 *
 * The zygote lives as long as the runtime: it exits when the runtime's end of the socket
 * closes (kl_zygote_free, or the kubelet's exit), and dies with the kubelet (parent-death
 * signal). Shims it started are not its children and outlive it. When the zygote is
 * unavailable kl_zygote_spawn fails and the caller execs the shim the old way.
 *
 * Threads: kl_zygote_spawn may be called from several threads (a mutex guards the socket).
 */
#ifndef KL_ZYGOTE_H
#define KL_ZYGOTE_H

#include <stdbool.h>
#include <stddef.h>

struct kl_zygote;

/* argv[0] of the shim and the zygote, and the space the zygote's argv[1] reserves for a
 * shim's container directory (longer directories use the exec path). */
#define KL_SHIM_ARGV0 "ckube-kl-shim"
#define KL_SHIM_ENV "_CKUBE_KL_SHIM"
#define KL_ZYGOTE_ARG_SPACE 1024

/* Starts the zygote (an exec of /proc/self/exe in zygote mode). *out is owned by the caller
 * (kl_zygote_free). Returns 0 or a negative errno. */
int kl_zygote_start(struct kl_zygote **out);
/* Stops the zygote (closes the socket and reaps it) and frees z; shims keep running. */
void kl_zygote_free(struct kl_zygote *z);
/* Asks the zygote for a shim of container `dir` whose fd 3 is status_fd, stdout/stderr
 * log_fd and stdin null_fd (all stay open in the caller, who closes them). Returns 0 once
 * the request was handed over (the shim reports on status_fd as usual), -EPIPE when the
 * zygote is gone (it is not used again), -ENAMETOOLONG for a directory that does not fit. */
int kl_zygote_spawn(struct kl_zygote *z, const char *dir, int status_fd, int log_fd, int null_fd);

/* The zygote's pid (for tests and diagnostics). */
int kl_zygote_pid(const struct kl_zygote *z);

/* Zygote mode (called by runc.c's constructor before main): serves requests on fd 3 until
 * it closes, then returns the exit code. argv1/argv1_space: the reserved argument. */
int kl_zygote_main(char *argv1, size_t argv1_space);

/* The shim's body for container dir (runc.c); returns its exit code. */
int kl_shim_main(const char *dir);

#endif
