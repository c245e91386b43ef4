/* backoff.h - per-key exponential back-off as upstream's client-go flowcontrol.Backoff, which
 * the kubelet uses for CrashLoopBackOff (10 s doubling to 5 min) and ImagePullBackOff (the
 * same numbers):
 *   next(key, event):  a key without an entry, or whose entry is stale (the event comes more
 *                      than 2 * max after the entry's last update), starts at the initial
 *                      duration; otherwise the duration doubles, capped at max. The entry's
 *                      last update becomes now.
 *   in_backoff_since(key, event): now - event < duration (a stale entry never backs off) --
 *                      "the container finished at `event`; may it restart yet?"
 *   in_backoff_since_update(key, now): now - last update < duration -- "did the last failure
 *                      happen too recently to try again?"
 * So a container that ran for more than 10 minutes (2 * 5 min) before crashing restarts at
 * once with the back-off reset to 10 s, as upstream's.
 *
 * Times are wall-clock nanoseconds (container finish times are wall-clock). Thread-safe: one
 * mutex guards the map.
 */
#ifndef KL_BACKOFF_H
#define KL_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

struct kl_backoff;

/* Caller frees with kl_backoff_free. */
struct kl_backoff *kl_backoff_new(int64_t initial_ns, int64_t max_ns);
void kl_backoff_free(struct kl_backoff *b);

/* The key's current duration (0 when it has no entry). */
int64_t kl_backoff_get(struct kl_backoff *b, const char *key);
void kl_backoff_next(struct kl_backoff *b, const char *key, int64_t event_ns, int64_t now_ns);
bool kl_backoff_in_backoff_since(struct kl_backoff *b, const char *key, int64_t event_ns,
                                 int64_t now_ns);
bool kl_backoff_in_backoff_since_update(struct kl_backoff *b, const char *key, int64_t now_ns);
/* When the back-off that in_backoff_since / _since_update checks ends (wall-clock ns), or 0
 * when the key is not backing off. */
int64_t kl_backoff_until_since(struct kl_backoff *b, const char *key, int64_t event_ns,
                               int64_t now_ns);
int64_t kl_backoff_until_update(struct kl_backoff *b, const char *key, int64_t now_ns);
/* Drops the key. */
void kl_backoff_reset(struct kl_backoff *b, const char *key);
/* Drops every key whose prefix is `prefix` (a pod's keys when it goes away). */
void kl_backoff_reset_prefix(struct kl_backoff *b, const char *prefix);
/* Drops stale entries (last update more than 2 * max ago), as upstream's GC. */
void kl_backoff_gc(struct kl_backoff *b, int64_t now_ns);
/* Number of entries (tests). */
unsigned kl_backoff_len(struct kl_backoff *b);

#endif
