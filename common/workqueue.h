/* workqueue.h - client-go's work queue and rate limiters: the queue between informer event
 * handlers and a controller's workers.
 *
 * Semantics (as k8s.io/client-go/util/workqueue):
 *  - Keys are strings (usually "namespace/name"). A key is queued at most once (dedup through
 *    a "dirty" set) and handed to at most one worker at a time (a "processing" set): a key
 *    added while a worker holds it is queued again only when that worker calls done().
 *  - FIFO order among ready keys.
 *  - add_after(key, delay) makes the key ready after the delay; a key already waiting keeps the
 *    earlier of its two ready times. add_rate_limited(key) = add_after(key, limiter.when(key));
 *    forget(key) resets the key's failure history; num_requeues(key) reports it.
 *  - shutdown(): new adds are ignored, delayed keys are dropped, workers still receive the
 *    keys already queued and then get() reports shutdown. shutdown_with_drain() additionally
 *    waits until every key handed out has been marked done.
 *  - Metrics (when the queue has a name), upstream's names with a "name" label:
 *    workqueue_depth, workqueue_adds_total, workqueue_retries_total,
 *    workqueue_queue_duration_seconds, workqueue_work_duration_seconds,
 *    workqueue_unfinished_work_seconds, workqueue_longest_running_processor_seconds.
 *
 * Thread-safety: every function may be called from any thread; one mutex per queue guards all
 * its state, and no callback runs under it.
 */
#ifndef CK_WORKQUEUE_H
#define CK_WORKQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

/* ---- rate limiters (client-go's workqueue.TypedRateLimiter) -------------------------------- */

/* A rate limiter decides how long a key waits before its next retry. Implementations must be
 * thread-safe. */
struct ck_rate_limiter {
    /* Delay in nanoseconds before `key` may be retried; records one more failure. */
    int64_t (*when)(struct ck_rate_limiter *rl, const char *key);
    /* Forgets the key's failures (success). */
    void (*forget)(struct ck_rate_limiter *rl, const char *key);
    /* Failures recorded for key since the last forget. */
    int (*num_requeues)(struct ck_rate_limiter *rl, const char *key);
    void (*free)(struct ck_rate_limiter *rl);
};

/* Per-key exponential backoff: base * 2^failures, capped at max (both in ns), as
 * ItemExponentialFailureRateLimiter. */
struct ck_rate_limiter *ck_rate_limiter_exponential(int64_t base_ns, int64_t max_ns);
/* One token bucket shared by all keys (qps refill, burst size), as BucketRateLimiter: the
 * delay is how long until this key's reserved token is available. Never forgets anything. */
struct ck_rate_limiter *ck_rate_limiter_bucket(double qps, int burst);
/* fast delay for the first max_fast attempts of a key, then slow, as
 * ItemFastSlowRateLimiter. */
struct ck_rate_limiter *ck_rate_limiter_fast_slow(int64_t fast_ns, int64_t slow_ns, int max_fast);
/* The largest delay of several limiters (takes ownership of each; n <= 8), as
 * MaxOfRateLimiter. */
struct ck_rate_limiter *ck_rate_limiter_max_of(struct ck_rate_limiter **limiters, size_t n);
/* DefaultControllerRateLimiter: max of exponential(5 ms, 1000 s) and bucket(10 qps, 100). */
struct ck_rate_limiter *ck_rate_limiter_default(void);
/* Frees a limiter (NULL accepted). */
void ck_rate_limiter_free(struct ck_rate_limiter *rl);

/* ---- the queue ----------------------------------------------------------------------------- */

struct ck_workqueue;

struct ck_workqueue_opts {
    const char *name;                /* metrics label; NULL or "": no metrics */
    struct ck_rate_limiter *limiter; /* owned by the queue; NULL: ck_rate_limiter_default() */
    struct ck_metrics *metrics;      /* NULL: ck_metrics_default() */
};

/* A new queue; opts may be NULL. Free with ck_workqueue_free (after shutting it down and
 * joining the workers). */
struct ck_workqueue *ck_workqueue_new(const struct ck_workqueue_opts *opts);
/* Shuts the queue down (if not yet) and frees it; no thread may use it any more. */
void ck_workqueue_free(struct ck_workqueue *q);

/* Queues key (copied) unless it is queued already or the queue is shutting down. */
void ck_workqueue_add(struct ck_workqueue *q, const char *key);
/* Queues key after delay_ns (<= 0: now). */
void ck_workqueue_add_after(struct ck_workqueue *q, const char *key, int64_t delay_ns);
/* add_after(key, limiter.when(key)). */
void ck_workqueue_add_rate_limited(struct ck_workqueue *q, const char *key);
/* limiter.forget(key) */
void ck_workqueue_forget(struct ck_workqueue *q, const char *key);
/* limiter.num_requeues(key) */
int ck_workqueue_num_requeues(struct ck_workqueue *q, const char *key);

/* Blocks until a key is ready or the queue is shut down and empty. Returns 0 with *key set (a
 * copy the caller frees with free() after calling ck_workqueue_done), or -ESHUTDOWN. */
int ck_workqueue_get(struct ck_workqueue *q, char **key);
/* Like get but waits at most timeout_ns: -ETIMEDOUT when nothing became ready. */
int ck_workqueue_get_timeout(struct ck_workqueue *q, int64_t timeout_ns, char **key);
/* Marks key as processed: if it was added meanwhile it becomes ready again. */
void ck_workqueue_done(struct ck_workqueue *q, const char *key);

/* Keys ready to be handed out (not those waiting for a delay, nor those being processed). */
size_t ck_workqueue_len(struct ck_workqueue *q);
/* Keys waiting for their add_after delay. */
size_t ck_workqueue_delayed_len(struct ck_workqueue *q);

void ck_workqueue_shutdown(struct ck_workqueue *q);
/* Shuts down and waits until every key handed out by get was marked done. */
void ck_workqueue_shutdown_with_drain(struct ck_workqueue *q);
bool ck_workqueue_shutting_down(struct ck_workqueue *q);

#endif
