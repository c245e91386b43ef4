/* cancel.h - cancellation (a Go context's Done channel): fired once, seen by every waiter, so
 * watches end, sleeps wake up and loops stop. Used by the client, informers, leader election
 * and the daemons' signal handling.
 *
 * Ownership: ck_cancel_new's result belongs to the caller (ck_cancel_free). Thread-safety: all
 * functions may be called from any thread; one mutex per token guards its state.
 */
#ifndef CK_CANCEL_H
#define CK_CANCEL_H

#include <stdbool.h>
#include <stdint.h>

struct ck_cancel;

struct ck_cancel *ck_cancel_new(void);
/* Frees c; nothing may wait on it any more. NULL accepted. */
void ck_cancel_free(struct ck_cancel *c);
/* Fires c (idempotent): wakes every sleeper and watch using it. Async-signal-unsafe. */
void ck_cancel_fire(struct ck_cancel *c);
bool ck_cancel_fired(struct ck_cancel *c);
/* Sleeps ns nanoseconds unless c fires first: 0 after the full sleep, -ECANCELED when fired
 * (also when fired before the call). c may be NULL (a plain sleep). */
int ck_cancel_sleep(struct ck_cancel *c, int64_t ns);
/* Registers fn(arg) to be called (under c's lock, so it must be quick and must not touch c)
 * when c fires; called at once when already fired. Returns a handle for removal. */
struct ck_cancel_hook;
struct ck_cancel_hook *ck_cancel_hook_add(struct ck_cancel *c, void (*fn)(void *), void *arg);
/* Unregisters a hook (NULL accepted); after return fn is not running and won't run. */
void ck_cancel_hook_remove(struct ck_cancel *c, struct ck_cancel_hook *h);

#endif
