/* eviction.h - the kubelet's hard eviction thresholds and the node pressure conditions they
 * drive, as upstream's eviction manager computes them (pure logic: the machine's statistics are
 * handed in, so the rules are unit-tested without a machine).
 *
 *  - --eviction-hard: "signal<value" pairs separated by commas, e.g.
 *    "memory.available<100Mi,nodefs.available<10%". A value is a positive quantity or a
 *    percentage of the signal's capacity; "0%" and "100%" switch the signal off, as upstream.
 *    Giving the flag replaces every default threshold (upstream's map flag semantics).
 *  - defaults (Linux): memory.available<100Mi, nodefs.available<10%, nodefs.inodesFree<5%,
 *    imagefs.available<15%, imagefs.inodesFree<5%.
 *  - a threshold is met when the observed available amount is below it; a signal not observed
 *    (a statistic < 0) never meets its threshold.
 *  - conditions: memory.available / allocatableMemory.available -> MemoryPressure,
 *    nodefs.* / imagefs.* / containerfs.* -> DiskPressure, pid.available -> PIDPressure. A
 *    condition stays True for --eviction-pressure-transition-period (default 5m) after its
 *    last threshold stopped being met, as upstream's nodeConditionsLastObservedAt.
 *
 * Nothing here allocates except what kl_eviction_format returns (caller frees).
 */
#ifndef KL_EVICTION_H
#define KL_EVICTION_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

enum kl_signal {
    KL_SIG_MEMORY_AVAILABLE,
    KL_SIG_ALLOCATABLE_MEMORY_AVAILABLE,
    KL_SIG_NODEFS_AVAILABLE,
    KL_SIG_NODEFS_INODES_FREE,
    KL_SIG_IMAGEFS_AVAILABLE,
    KL_SIG_IMAGEFS_INODES_FREE,
    KL_SIG_CONTAINERFS_AVAILABLE,
    KL_SIG_CONTAINERFS_INODES_FREE,
    KL_SIG_PID_AVAILABLE,
    KL_SIG_COUNT
};

struct kl_threshold {
    bool set;
    bool is_percent;
    double percentage; /* 0..1 when is_percent (a float32 upstream) */
    int64_t quantity;  /* bytes, inodes or PIDs otherwise */
};

struct kl_eviction_thresholds {
    struct kl_threshold t[KL_SIG_COUNT];
};

/* One observation of the machine; -1 in a field: not observed. */
struct kl_eviction_stats {
    int64_t memory_capacity, memory_available;
    int64_t allocatable_memory_capacity, allocatable_memory_available;
    int64_t nodefs_capacity, nodefs_available, nodefs_inodes, nodefs_inodes_free;
    int64_t imagefs_capacity, imagefs_available, imagefs_inodes, imagefs_inodes_free;
    int64_t containerfs_capacity, containerfs_available, containerfs_inodes,
        containerfs_inodes_free;
    int64_t pid_max, pid_running;
};

/* The pressure conditions' state: when each was last observed (monotonic ns, 0 never). */
struct kl_pressure {
    bool memory, disk, pid;
    int64_t memory_seen_at, disk_seen_at, pid_seen_at;
};

/* The signal's upstream name ("memory.available"), or NULL for an unknown one. */
const char *kl_signal_name(enum kl_signal s);
/* The signal named name, or -1. */
int kl_signal_from_name(const char *name);

/* Upstream's default hard thresholds. */
void kl_eviction_defaults(struct kl_eviction_thresholds *out);

/* Parses an --eviction-hard value into out (which starts empty: the flag replaces the
 * defaults). "" means no threshold at all. Returns 0 or -EINVAL with err set to upstream's
 * message (the caller prefixes the flag). */
int kl_eviction_parse(const char *spec, struct kl_eviction_thresholds *out, struct ck_error *err);

/* The thresholds as the flag would spell them, signals in table order ("" when none); the
 * caller frees. */
char *kl_eviction_format(const struct kl_eviction_thresholds *th);

/* The amount a threshold stands for given the signal's capacity (a percentage of it, or the
 * quantity); 0 when the threshold is not set or the capacity is unknown. */
int64_t kl_threshold_amount(const struct kl_threshold *t, int64_t capacity);

/* Whether signal s's threshold is met by the observation. */
bool kl_eviction_met(const struct kl_eviction_thresholds *th, const struct kl_eviction_stats *st,
                     enum kl_signal s);

/* Updates the pressure conditions from an observation made at now_ns (monotonic), keeping a
 * condition True until transition_ns passed since its threshold was last met. Returns true when
 * a condition changed. */
bool kl_pressure_update(struct kl_pressure *p, const struct kl_eviction_thresholds *th,
                        const struct kl_eviction_stats *st, int64_t now_ns, int64_t transition_ns);

#endif
