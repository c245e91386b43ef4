/* eviction.c - hard eviction thresholds and node pressure conditions (see eviction.h). */
#include "kubelet/eviction.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "quantity.h"

/* upstream's signal names, in enum order */
static const char *const SIGNAL_NAMES[KL_SIG_COUNT] = {
    [KL_SIG_MEMORY_AVAILABLE] = "memory.available",
    [KL_SIG_ALLOCATABLE_MEMORY_AVAILABLE] = "allocatableMemory.available",
    [KL_SIG_NODEFS_AVAILABLE] = "nodefs.available",
    [KL_SIG_NODEFS_INODES_FREE] = "nodefs.inodesFree",
    [KL_SIG_IMAGEFS_AVAILABLE] = "imagefs.available",
    [KL_SIG_IMAGEFS_INODES_FREE] = "imagefs.inodesFree",
    [KL_SIG_CONTAINERFS_AVAILABLE] = "containerfs.available",
    [KL_SIG_CONTAINERFS_INODES_FREE] = "containerfs.inodesFree",
    [KL_SIG_PID_AVAILABLE] = "pid.available",
};

/* the longest spec we look at: far more than every signal with a long value */
#define MAX_SPEC 4096

const char *kl_signal_name(enum kl_signal s)
{
    return (int)s >= 0 && s < KL_SIG_COUNT ? SIGNAL_NAMES[s] : NULL;
}

int kl_signal_from_name(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < KL_SIG_COUNT; i++)
        if (!strcmp(SIGNAL_NAMES[i], name))
            return i;
    return -1;
}

static void set_percent(struct kl_threshold *t, float pct)
{
    t->set = true;
    t->is_percent = true;
    t->percentage = (double)pct;
    t->quantity = 0;
}

void kl_eviction_defaults(struct kl_eviction_thresholds *out)
{
    memset(out, 0, sizeof(*out));
    out->t[KL_SIG_MEMORY_AVAILABLE] =
        (struct kl_threshold){.set = true, .quantity = 100 * 1024 * 1024};
    set_percent(&out->t[KL_SIG_NODEFS_AVAILABLE], 0.1f);
    set_percent(&out->t[KL_SIG_NODEFS_INODES_FREE], 0.05f);
    set_percent(&out->t[KL_SIG_IMAGEFS_AVAILABLE], 0.15f);
    set_percent(&out->t[KL_SIG_IMAGEFS_INODES_FREE], 0.05f);
}

/* one "signal<value" statement; name and val are NUL-terminated copies */
static int parse_statement(const char *name, const char *val, struct kl_eviction_thresholds *out,
                           struct ck_error *err)
{
    int s = kl_signal_from_name(name);
    if (s < 0)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "unsupported eviction signal %s",
                            name);
    struct kl_threshold *t = &out->t[s];
    size_t vl = strlen(val);
    if (vl > 0 && val[vl - 1] == '%') {
        /* "0%" and "100%" turn the signal off */
        if (!strcmp(val, "0%") || !strcmp(val, "100%")) {
            memset(t, 0, sizeof(*t));
            return 0;
        }
        /* upstream trims every trailing '%' and parses a float32 */
        size_t n = vl;
        while (n > 0 && val[n - 1] == '%')
            n--;
        char num[64];
        float f = 0;
        char *end = NULL;
        if (n == 0 || n >= sizeof(num))
            goto bad_float;
        memcpy(num, val, n);
        num[n] = '\0';
        if (num[0] == ' ' || num[0] == '\t' || num[0] == '\n')
            goto bad_float;
        errno = 0;
        f = strtof(num, &end);
        if (!end || *end || isnan(f) || isinf(f))
            goto bad_float;
        f /= 100.0f;
        if (f < 0)
            return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                                "eviction percentage threshold %s must be >= 0%%: %s", name, val);
        if (f > 1)
            return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                                "eviction percentage threshold %s must be <= 100%%: %s", name, val);
        set_percent(t, f);
        return 0;
    bad_float:
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                            "strconv.ParseFloat: parsing \"%.*s\": invalid syntax",
                            (int)(n < 64 ? n : 64), val);
    }
    struct ck_quantity q;
    struct ck_error qe = CK_ERROR_INIT;
    if (ck_quantity_parse(val, &q, &qe) < 0) {
        ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "%s", qe.message);
        ck_error_clear(&qe);
        return -EINVAL;
    }
    if (ck_quantity_sign(&q) <= 0) {
        CK_AUTOFREE char *txt = ck_quantity_to_string(&q);
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                            "eviction threshold %s must be positive: %s", name, txt ? txt : val);
    }
    t->set = true;
    t->is_percent = false;
    t->percentage = 0;
    t->quantity = ck_quantity_value(&q);
    return 0;
}

int kl_eviction_parse(const char *spec, struct kl_eviction_thresholds *out, struct ck_error *err)
{
    memset(out, 0, sizeof(*out));
    if (!spec || !*spec)
        return 0;
    if (strlen(spec) > MAX_SPEC)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "eviction thresholds too long");
    CK_AUTOFREE char *copy = ck_xstrdup(spec);
    char *save = NULL;
    /* upstream's map flag: pairs split on ',', key and value on the first '<', both trimmed */
    for (char *pair = strtok_r(copy, ",", &save); pair; pair = strtok_r(NULL, ",", &save)) {
        char *lt = strchr(pair, '<');
        if (!lt) {
            memset(out, 0, sizeof(*out));
            return ck_error_set(err, 400, CK_REASON_BAD_REQUEST,
                                "malformed pair, expect string<string");
        }
        *lt = '\0';
        char *k = pair, *v = lt + 1;
        while (*k == ' ' || *k == '\t')
            k++;
        for (size_t n = strlen(k); n > 0 && (k[n - 1] == ' ' || k[n - 1] == '\t'); n--)
            k[n - 1] = '\0';
        while (*v == ' ' || *v == '\t')
            v++;
        for (size_t n = strlen(v); n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'); n--)
            v[n - 1] = '\0';
        int rc = parse_statement(k, v, out, err);
        if (rc < 0) {
            memset(out, 0, sizeof(*out));
            return rc;
        }
    }
    return 0;
}

char *kl_eviction_format(const struct kl_eviction_thresholds *th)
{
    struct ck_buf b = CK_BUF_INIT;
    ck_buf_printf(&b, "%s", "");
    for (int i = 0; i < KL_SIG_COUNT; i++) {
        const struct kl_threshold *t = &th->t[i];
        if (!t->set)
            continue;
        if (t->is_percent) {
            ck_buf_printf(&b, "%s%s<%g%%", b.len ? "," : "", SIGNAL_NAMES[i],
                          (double)(float)(t->percentage * 100.0));
        } else {
            struct ck_quantity q = ck_quantity_from_int64(t->quantity, CK_QUANTITY_BINARY_SI);
            CK_AUTOFREE char *txt = ck_quantity_to_string(&q);
            ck_buf_printf(&b, "%s%s<%s", b.len ? "," : "", SIGNAL_NAMES[i], txt ? txt : "");
        }
    }
    return ck_buf_detach(&b);
}

int64_t kl_threshold_amount(const struct kl_threshold *t, int64_t capacity)
{
    if (!t || !t->set)
        return 0;
    if (!t->is_percent)
        return t->quantity;
    if (capacity <= 0)
        return 0;
    /* as upstream: float32 percentage times the capacity, truncated */
    double v = (double)(float)t->percentage * (double)capacity;
    if (v >= 9.2e18)
        return INT64_MAX;
    return (int64_t)v;
}

/* the signal's capacity and available amount in st */
static void observed(const struct kl_eviction_stats *st, enum kl_signal s, int64_t *cap,
                     int64_t *avail)
{
    switch (s) {
    case KL_SIG_MEMORY_AVAILABLE:
        *cap = st->memory_capacity, *avail = st->memory_available;
        return;
    case KL_SIG_ALLOCATABLE_MEMORY_AVAILABLE:
        *cap = st->allocatable_memory_capacity, *avail = st->allocatable_memory_available;
        return;
    case KL_SIG_NODEFS_AVAILABLE:
        *cap = st->nodefs_capacity, *avail = st->nodefs_available;
        return;
    case KL_SIG_NODEFS_INODES_FREE:
        *cap = st->nodefs_inodes, *avail = st->nodefs_inodes_free;
        return;
    case KL_SIG_IMAGEFS_AVAILABLE:
        *cap = st->imagefs_capacity, *avail = st->imagefs_available;
        return;
    case KL_SIG_IMAGEFS_INODES_FREE:
        *cap = st->imagefs_inodes, *avail = st->imagefs_inodes_free;
        return;
    case KL_SIG_CONTAINERFS_AVAILABLE:
        *cap = st->containerfs_capacity, *avail = st->containerfs_available;
        return;
    case KL_SIG_CONTAINERFS_INODES_FREE:
        *cap = st->containerfs_inodes, *avail = st->containerfs_inodes_free;
        return;
    case KL_SIG_PID_AVAILABLE:
        *cap = st->pid_max;
        *avail = st->pid_max >= 0 && st->pid_running >= 0 ? st->pid_max - st->pid_running : -1;
        return;
    default:
        *cap = *avail = -1;
        return;
    }
}

bool kl_eviction_met(const struct kl_eviction_thresholds *th, const struct kl_eviction_stats *st,
                     enum kl_signal s)
{
    if (!th || !st || (int)s < 0 || s >= KL_SIG_COUNT || !th->t[s].set)
        return false;
    int64_t cap, avail;
    observed(st, s, &cap, &avail);
    if (avail < 0 || (th->t[s].is_percent && cap <= 0))
        return false;
    return avail < kl_threshold_amount(&th->t[s], cap);
}

static bool update_one(bool *cond, int64_t *seen_at, bool met, int64_t now, int64_t transition)
{
    if (met)
        *seen_at = now;
    bool v = met || (*seen_at != 0 && now - *seen_at < transition);
    bool changed = v != *cond;
    *cond = v;
    return changed;
}

bool kl_pressure_update(struct kl_pressure *p, const struct kl_eviction_thresholds *th,
                        const struct kl_eviction_stats *st, int64_t now_ns, int64_t transition_ns)
{
    bool mem = false, disk = false, pid = false;
    for (int i = 0; i < KL_SIG_COUNT; i++) {
        if (!kl_eviction_met(th, st, (enum kl_signal)i))
            continue;
        if (i == KL_SIG_MEMORY_AVAILABLE || i == KL_SIG_ALLOCATABLE_MEMORY_AVAILABLE)
            mem = true;
        else if (i == KL_SIG_PID_AVAILABLE)
            pid = true;
        else
            disk = true;
    }
    if (now_ns <= 0)
        now_ns = 1; /* 0 means "never seen" */
    bool changed = update_one(&p->memory, &p->memory_seen_at, mem, now_ns, transition_ns);
    changed |= update_one(&p->disk, &p->disk_seen_at, disk, now_ns, transition_ns);
    changed |= update_one(&p->pid, &p->pid_seen_at, pid, now_ns, transition_ns);
    return changed;
}
