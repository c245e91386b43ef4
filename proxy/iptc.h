/* iptc.h - kube-proxy's writer: puts a kp_ruleset (rules.h) into the kernel's legacy iptables
 * with libiptc (libip4tc), one commit per table per sync, and removes it again (--cleanup).
 *
 * A sync, per table (filter, then nat, then mangle, as upstream restores filter before nat):
 *  - creates our chains that are missing;
 *  - rewrites (flush + append) the chains whose content changed since the last successful
 *    commit (a sha256 of each chain's iptables-save text is remembered), or every chain in a
 *    full sync. Unchanged chains keep their rules and counters: a service change rewrites only
 *    that service's KUBE-SVC/SVL/EXT/FW/SEP chains, as upstream's partial restores do. When
 *    someone else changed the table since our last sync (its kernel size or entry count
 *    moved), the fixed chains (KUBE-SERVICES, KUBE-NODEPORTS, ...) are rewritten too, as
 *    upstream rewrites them on every sync;
 *  - flushes and deletes stale per-service chains (KUBE-SVC-, KUBE-SVL-, KUBE-EXT-, KUBE-FW-,
 *    KUBE-SEP-) no longer wanted; every other chain (not ours) is left alone;
 *  - in a full sync, makes sure each jump rule from a built-in chain exists (inserted at the
 *    top when missing, as upstream's EnsureRule(Prepend)); their target chains are created;
 *  - commits, under the xtables lock iptables itself uses, only when something changed.
 * A table is synced in full when asked, when nothing was committed to it yet by this writer,
 * or when its KUBE-PROXY-CANARY chain is gone (someone flushed the table: upstream's monitor);
 * jump rules are also re-ensured when a chain they target had to be re-created. A partial sync
 * finding every chain unchanged, on a table whose kernel size and entry count are still those
 * we left, does not read the table at all.
 * After a failed commit the writer forgets what it knew, so the next sync is full.
 *
 * Ownership: the writer belongs to the caller (kp_iptc_free); the rule set is borrowed.
 * Thread-safety: libiptc is not thread-safe; use one writer from one thread at a time (the
 * sync loop). The xtables lock serializes us with iptables commands and other processes.
 */
#ifndef KP_IPTC_H
#define KP_IPTC_H

#include <stdbool.h>
#include <stddef.h>

#include "rules.h"

struct kp_iptc_opts {
    /* The xtables lock file: NULL means $XTABLES_LOCKFILE or /run/xtables.lock (what
     * iptables uses); "" means no locking. */
    const char *lock_path;
    int lock_timeout_ms; /* 0: 5000 */
};

struct kp_iptc_stats {
    bool full[KP_TABLE_COUNT];      /* the table was written in full */
    bool committed[KP_TABLE_COUNT]; /* a commit was made (something changed) */
    size_t chains_written;          /* flushed/created and filled */
    size_t chains_kept;             /* left untouched (unchanged) */
    size_t chains_deleted;          /* stale chains removed */
    size_t rules_written;
    size_t jumps_added;
    size_t jumps_removed; /* --cleanup */
    char error[512];      /* what failed, when the call returned < 0 */
};

struct kp_iptc;

/* A new writer (opts may be NULL). Caller frees with kp_iptc_free. */
struct kp_iptc *kp_iptc_new(const struct kp_iptc_opts *opts);
void kp_iptc_free(struct kp_iptc *w);

/* Makes the kernel's filter, nat and mangle tables hold rs (see above). stats may be NULL.
 * Returns 0, or a negative errno with stats->error set: -ETIMEDOUT (lock), or what libiptc
 * reported (e.g. -ENOENT for a missing table, -EINVAL for a rule the kernel refused). */
int kp_iptc_sync(struct kp_iptc *w, const struct kp_ruleset *rs, bool full,
                 struct kp_iptc_stats *stats);
/* Forgets what was committed: the next sync is full. */
void kp_iptc_reset(struct kp_iptc *w);

/* upstream's CleanupLeftovers (kube-proxy --cleanup): removes every jump rule from a built-in
 * chain to one of our chains, then flushes and deletes our chains (the fixed KUBE-* chains,
 * KUBE-FIREWALL, KUBE-PROXY-CANARY and every per-service chain) in filter, nat and mangle.
 * Other chains are left alone. Returns 0 or a negative errno (stats->error says what). */
int kp_iptc_cleanup(const struct kp_iptc_opts *opts, struct kp_iptc_stats *stats);

/* The kernel entry (struct ipt_entry + matches + target) libiptc takes for one rule; caller
 * frees. *size gets its length. Exposed for tests. */
void *kp_iptc_entry(const struct kp_rule *r, size_t *size);

#endif
