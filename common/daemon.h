/* daemon.h - what every ckube component daemon shares: the health and metrics endpoint on
 * --secure-port, and signal handling.
 *
 * Endpoint (as upstream's component-base healthz and legacyregistry handlers):
 *  - GET /healthz, /livez, /readyz: "ok" (200) when every check registered for that endpoint
 *    passes; otherwise 500 listing each check ("[+]ping ok", "[-]leaderElection failed: reason
 *    withheld") then "healthz check failed" (the reason is logged, not served). ?verbose lists
 *    the checks on success too, ending with "healthz check passed"; ?exclude=name skips one.
 *    /healthz/<name> runs one check ("ok", or 500 "internal server error: <reason>"). An
 *    endpoint without checks has upstream's default "ping" check.
 *  - GET /metrics: the Prometheus text of the registry.
 *  - anything else: 404 "404 page not found".
 * HTTPS with --tls-cert-file/--tls-private-key-file, or else a self-signed certificate for
 * localhost/127.0.0.1 generated at start (kept in --cert-dir as <component>.crt/.key when
 * given, as upstream; otherwise in memory only). Authentication and authorization of /metrics
 * are not implemented yet (upstream delegates them to the apiserver).
 *
 * Signals: call ck_signals_block() first thing in main (before any thread exists), then
 * ck_signals_start() to turn SIGTERM/SIGINT into a ck_cancel firing (graceful stop); SIGPIPE
 * is ignored.
 *
 * Ownership: daemons and signal watchers belong to the caller. Thread-safety: checks may be
 * added at any time from any thread; check functions run on the server's threads.
 */
#ifndef CK_DAEMON_H
#define CK_DAEMON_H

#include <stdbool.h>

#include "cancel.h"
#include "error.h"
#include "metrics.h"

enum ck_check_kind {
    CK_CHECK_HEALTHZ = 1 << 0,
    CK_CHECK_LIVEZ = 1 << 1,
    CK_CHECK_READYZ = 1 << 2,
    CK_CHECK_ALL = 7,
};

/* A health check: 0 when healthy, else a negative errno with the reason in why. */
typedef int (*ck_check_fn)(void *ctx, struct ck_error *why);

struct ck_daemon_opts {
    const char *component;    /* "kube-controller-manager" */
    const char *bind_address; /* NULL: "0.0.0.0" */
    int secure_port;          /* 0: do not serve; < 0: any free port (tests) */
    const char *tls_cert_file, *tls_key_file;
    const char *cert_dir;     /* where a self-signed pair is kept; NULL/"": memory only */
    bool plain_http;          /* serve HTTP instead of HTTPS (tests) */
    struct ck_metrics *metrics; /* NULL: ck_metrics_default() */
};

struct ck_daemon;

/* Creates the daemon state and, unless secure_port is 0, starts serving. */
int ck_daemon_start(const struct ck_daemon_opts *opts, struct ck_daemon **out,
                    struct ck_error *err);
/* Stops serving and frees; NULL accepted. */
void ck_daemon_stop(struct ck_daemon *d);
/* The port served (0 when not serving). */
int ck_daemon_port(const struct ck_daemon *d);
/* Registers a named check for the endpoints in kinds (a mask of enum ck_check_kind). */
int ck_daemon_add_check(struct ck_daemon *d, const char *name, unsigned kinds, ck_check_fn fn,
                        void *ctx);

/* ---- signals ------------------------------------------------------------------------------- */

/* Blocks SIGTERM and SIGINT in the calling thread (threads created later inherit it)
 * and ignores SIGPIPE. Returns 0 or -errno. */
int ck_signals_block(void);

struct ck_signals;
/* Starts a thread that waits for SIGTERM/SIGINT and fires stop (borrowed) on the first one
 * (later ones are logged). */
int ck_signals_start(struct ck_cancel *stop, struct ck_signals **out);
/* The first signal received (0: none yet). */
int ck_signals_received(struct ck_signals *s);
/* Stops the thread and frees. NULL accepted. */
void ck_signals_stop(struct ck_signals *s);

#endif
