/* metrics.c - Prometheus counters, gauges and histograms and their text exposition (see
 * metrics.h). */
#include "metrics.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "strmap.h"

const double ck_metric_default_buckets[11] = {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};

struct ck_metric {
    struct ck_metric_family *fam;
    char **values;     /* one per label, in registration order */
    double value;      /* counter/gauge value; histogram sum */
    uint64_t count;    /* histogram: observations */
    uint64_t *buckets; /* histogram: non-cumulative count per finite bucket */
};

struct ck_metric_family {
    enum ck_metric_type type;
    char *name, *help;
    size_t nlabels;
    char *labels[CK_METRIC_MAX_LABELS];
    size_t order[CK_METRIC_MAX_LABELS]; /* label indexes sorted by label name */
    size_t nbuckets;
    double *buckets;
    pthread_mutex_t lock;      /* guards series and every value in them */
    struct ck_strmap series;   /* series key -> struct ck_metric* */
    struct ck_metric_family *next;
};

struct collector {
    void (*fn)(void *ctx);
    void *ctx;
    struct collector *next;
};

struct ck_metrics {
    pthread_mutex_t lock;       /* guards families and collectors */
    pthread_mutex_t write_lock; /* one write (with its collectors) at a time */
    struct ck_metric_family *families;
    struct collector *collectors;
};

/* ---- registry ------------------------------------------------------------------------------ */

struct ck_metrics *ck_metrics_new(void)
{
    struct ck_metrics *reg = ck_xcalloc(1, sizeof(*reg));
    pthread_mutex_init(&reg->lock, NULL);
    pthread_mutex_init(&reg->write_lock, NULL);
    return reg;
}

static void free_series(void *p)
{
    struct ck_metric *m = p;
    if (!m)
        return;
    for (size_t i = 0; i < m->fam->nlabels; i++)
        free(m->values[i]);
    free(m->values);
    free(m->buckets);
    free(m);
}

static void free_family(struct ck_metric_family *f)
{
    ck_strmap_free(&f->series, free_series);
    for (size_t i = 0; i < f->nlabels; i++)
        free(f->labels[i]);
    free(f->name);
    free(f->help);
    free(f->buckets);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

void ck_metrics_free(struct ck_metrics *reg)
{
    if (!reg)
        return;
    while (reg->families) {
        struct ck_metric_family *f = reg->families;
        reg->families = f->next;
        free_family(f);
    }
    while (reg->collectors) {
        struct collector *c = reg->collectors;
        reg->collectors = c->next;
        free(c);
    }
    pthread_mutex_destroy(&reg->lock);
    pthread_mutex_destroy(&reg->write_lock);
    free(reg);
}

static pthread_mutex_t default_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ck_metrics *default_reg; /* guarded by default_lock */

struct ck_metrics *ck_metrics_default(void)
{
    pthread_mutex_lock(&default_lock);
    if (!default_reg)
        default_reg = ck_metrics_new();
    struct ck_metrics *r = default_reg;
    pthread_mutex_unlock(&default_lock);
    return r;
}

void ck_metrics_default_reset(void)
{
    pthread_mutex_lock(&default_lock);
    struct ck_metrics *r = default_reg;
    default_reg = NULL;
    pthread_mutex_unlock(&default_lock);
    ck_metrics_free(r);
}

static bool valid_name(const char *s, bool colon)
{
    if (!s || !*s)
        return false;
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                  (colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

static size_t count_labels(const char *const *labels)
{
    size_t n = 0;
    while (labels && labels[n])
        n++;
    return n;
}

/* true when f has exactly this type, label list and buckets */
static bool same_shape(const struct ck_metric_family *f, enum ck_metric_type type,
                       const char *const *labels, size_t nlabels, const double *buckets,
                       size_t nbuckets)
{
    if (f->type != type || f->nlabels != nlabels)
        return false;
    for (size_t i = 0; i < nlabels; i++)
        if (strcmp(f->labels[i], labels[i]))
            return false;
    if (type == CK_METRIC_HISTOGRAM) {
        if (f->nbuckets != nbuckets)
            return false;
        for (size_t i = 0; i < nbuckets; i++)
            if (f->buckets[i] != buckets[i])
                return false;
    }
    return true;
}

static struct ck_metric *series_locked(struct ck_metric_family *f, const char *const *values);

static struct ck_metric_family *do_register(struct ck_metrics *reg, enum ck_metric_type type,
                                            const char *name, const char *help,
                                            const char *const *labels, const double *buckets,
                                            size_t nbuckets)
{
    if (!reg || !valid_name(name, true))
        return NULL;
    size_t nlabels = count_labels(labels);
    if (nlabels > CK_METRIC_MAX_LABELS)
        return NULL;
    for (size_t i = 0; i < nlabels; i++) {
        if (!valid_name(labels[i], false) || !strncmp(labels[i], "__", 2) ||
            (type == CK_METRIC_HISTOGRAM && !strcmp(labels[i], "le")))
            return NULL;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(labels[i], labels[j]))
                return NULL;
    }
    if (type == CK_METRIC_HISTOGRAM) {
        if (!buckets || nbuckets == 0) {
            buckets = ck_metric_default_buckets;
            nbuckets = CK_ARRAY_SIZE(ck_metric_default_buckets);
        }
        if (nbuckets > CK_METRIC_MAX_BUCKETS)
            return NULL;
        for (size_t i = 0; i < nbuckets; i++)
            if (isnan(buckets[i]) || (i > 0 && buckets[i] <= buckets[i - 1]))
                return NULL;
        if (isinf(buckets[nbuckets - 1]) && buckets[nbuckets - 1] > 0)
            nbuckets--; /* the +Inf bucket is always there */
    }
    pthread_mutex_lock(&reg->lock);
    struct ck_metric_family *f;
    for (f = reg->families; f; f = f->next) {
        if (!strcmp(f->name, name)) {
            if (!same_shape(f, type, labels, nlabels, buckets, nbuckets))
                f = NULL;
            pthread_mutex_unlock(&reg->lock);
            return f;
        }
    }
    f = ck_xcalloc(1, sizeof(*f));
    f->type = type;
    f->name = ck_xstrdup(name);
    f->help = ck_xstrdup(help ? help : "");
    f->nlabels = nlabels;
    for (size_t i = 0; i < nlabels; i++) {
        f->labels[i] = ck_xstrdup(labels[i]);
        f->order[i] = i;
    }
    /* insertion sort of label indexes by name: few labels */
    for (size_t i = 1; i < nlabels; i++)
        for (size_t j = i; j > 0 && strcmp(f->labels[f->order[j - 1]], f->labels[f->order[j]]) > 0;
             j--) {
            size_t t = f->order[j];
            f->order[j] = f->order[j - 1];
            f->order[j - 1] = t;
        }
    if (type == CK_METRIC_HISTOGRAM) {
        f->nbuckets = nbuckets;
        f->buckets = ck_xmalloc((nbuckets ? nbuckets : 1) * sizeof(double));
        if (nbuckets)
            memcpy(f->buckets, buckets, nbuckets * sizeof(double));
    }
    pthread_mutex_init(&f->lock, NULL);
    if (nlabels == 0) /* an unlabelled metric exists from the start, as upstream's */
        series_locked(f, NULL);
    f->next = reg->families;
    reg->families = f;
    pthread_mutex_unlock(&reg->lock);
    return f;
}

struct ck_metric_family *ck_metrics_counter(struct ck_metrics *reg, const char *name,
                                            const char *help, const char *const *labels)
{
    return do_register(reg, CK_METRIC_COUNTER, name, help, labels, NULL, 0);
}

struct ck_metric_family *ck_metrics_gauge(struct ck_metrics *reg, const char *name,
                                          const char *help, const char *const *labels)
{
    return do_register(reg, CK_METRIC_GAUGE, name, help, labels, NULL, 0);
}

struct ck_metric_family *ck_metrics_histogram(struct ck_metrics *reg, const char *name,
                                              const char *help, const char *const *labels,
                                              const double *buckets, size_t nbuckets)
{
    return do_register(reg, CK_METRIC_HISTOGRAM, name, help, labels, buckets, nbuckets);
}

void ck_metric_exponential_buckets(double start, double factor, size_t count, double *out)
{
    double v = start;
    for (size_t i = 0; i < count; i++) {
        out[i] = v;
        v *= factor;
    }
}

/* ---- series -------------------------------------------------------------------------------- */

/* "<len>:<value>" for each value: unambiguous for any strings */
static char *series_key(const struct ck_metric_family *f, const char *const *values)
{
    struct ck_buf b = CK_BUF_INIT;
    ck_buf_puts(&b, "");
    for (size_t i = 0; i < f->nlabels; i++)
        ck_buf_printf(&b, "%zu:%s", strlen(values[i]), values[i]);
    return ck_buf_detach(&b);
}

static struct ck_metric *series_locked(struct ck_metric_family *f, const char *const *values)
{
    char *key = series_key(f, values);
    struct ck_metric *m = ck_strmap_get(&f->series, key);
    if (!m) {
        m = ck_xcalloc(1, sizeof(*m));
        m->fam = f;
        m->values = ck_xcalloc(f->nlabels ? f->nlabels : 1, sizeof(char *));
        for (size_t i = 0; i < f->nlabels; i++)
            m->values[i] = ck_xstrdup(values[i]);
        if (f->type == CK_METRIC_HISTOGRAM)
            m->buckets = ck_xcalloc(f->nbuckets ? f->nbuckets : 1, sizeof(uint64_t));
        ck_strmap_put(&f->series, key, m);
    }
    free(key);
    return m;
}

struct ck_metric *ck_metric_withv(struct ck_metric_family *fam, const char *const *values,
                                  size_t n)
{
    if (!fam || n != fam->nlabels)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!values[i])
            return NULL;
    pthread_mutex_lock(&fam->lock);
    struct ck_metric *m = series_locked(fam, values);
    pthread_mutex_unlock(&fam->lock);
    return m;
}

struct ck_metric *ck_metric_with(struct ck_metric_family *fam, ...)
{
    const char *values[CK_METRIC_MAX_LABELS + 1];
    size_t n = 0;
    va_list ap;
    va_start(ap, fam);
    for (const char *v; (v = va_arg(ap, const char *));) {
        if (n > CK_METRIC_MAX_LABELS) {
            va_end(ap);
            return NULL;
        }
        values[n++] = v;
    }
    va_end(ap);
    return ck_metric_withv(fam, values, n);
}

int ck_metric_delete(struct ck_metric_family *fam, const char *const *values, size_t n)
{
    if (!fam || n != fam->nlabels)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!values[i])
            return -EINVAL;
    char *key = series_key(fam, values);
    pthread_mutex_lock(&fam->lock);
    struct ck_metric *m = ck_strmap_remove(&fam->series, key);
    pthread_mutex_unlock(&fam->lock);
    free(key);
    if (!m)
        return -ENOENT;
    free_series(m);
    return 0;
}

void ck_metric_add(struct ck_metric *m, double v)
{
    if (!m || m->fam->type == CK_METRIC_HISTOGRAM)
        return;
    if (m->fam->type == CK_METRIC_COUNTER && !(v >= 0))
        return;
    pthread_mutex_lock(&m->fam->lock);
    m->value += v;
    pthread_mutex_unlock(&m->fam->lock);
}

void ck_metric_inc(struct ck_metric *m)
{
    ck_metric_add(m, 1);
}

void ck_metric_dec(struct ck_metric *m)
{
    if (m && m->fam->type == CK_METRIC_GAUGE)
        ck_metric_add(m, -1);
}

void ck_metric_set(struct ck_metric *m, double v)
{
    if (!m || m->fam->type != CK_METRIC_GAUGE)
        return;
    pthread_mutex_lock(&m->fam->lock);
    m->value = v;
    pthread_mutex_unlock(&m->fam->lock);
}

void ck_metric_observe(struct ck_metric *m, double v)
{
    if (!m || m->fam->type != CK_METRIC_HISTOGRAM)
        return;
    struct ck_metric_family *f = m->fam;
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < f->nbuckets; i++) {
        if (v <= f->buckets[i]) { /* the first bucket holding v; written out cumulatively */
            m->buckets[i]++;
            break;
        }
    }
    m->count++;
    m->value += v;
    pthread_mutex_unlock(&f->lock);
}

double ck_metric_value(struct ck_metric *m)
{
    if (!m)
        return 0;
    pthread_mutex_lock(&m->fam->lock);
    double v = m->value;
    pthread_mutex_unlock(&m->fam->lock);
    return v;
}

uint64_t ck_metric_count(struct ck_metric *m)
{
    if (!m || m->fam->type != CK_METRIC_HISTOGRAM)
        return 0;
    pthread_mutex_lock(&m->fam->lock);
    uint64_t c = m->count;
    pthread_mutex_unlock(&m->fam->lock);
    return c;
}

/* ---- collectors ---------------------------------------------------------------------------- */

int ck_metrics_add_collector(struct ck_metrics *reg, void (*fn)(void *ctx), void *ctx)
{
    if (!reg || !fn)
        return -EINVAL;
    struct collector *c = ck_xcalloc(1, sizeof(*c));
    c->fn = fn;
    c->ctx = ctx;
    pthread_mutex_lock(&reg->lock);
    c->next = reg->collectors;
    reg->collectors = c;
    pthread_mutex_unlock(&reg->lock);
    return 0;
}

int ck_metrics_remove_collector(struct ck_metrics *reg, void (*fn)(void *ctx), void *ctx)
{
    if (!reg)
        return -EINVAL;
    pthread_mutex_lock(&reg->write_lock); /* no collector runs while we unlink */
    pthread_mutex_lock(&reg->lock);
    int rc = -ENOENT;
    for (struct collector **pp = &reg->collectors; *pp; pp = &(*pp)->next) {
        if ((*pp)->fn == fn && (*pp)->ctx == ctx) {
            struct collector *c = *pp;
            *pp = c->next;
            free(c);
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&reg->lock);
    pthread_mutex_unlock(&reg->write_lock);
    return rc;
}

/* ---- text exposition ----------------------------------------------------------------------- */

void ck_metric_format_float(double v, char out[32])
{
    if (isnan(v)) {
        strcpy(out, "NaN");
        return;
    }
    if (isinf(v)) {
        strcpy(out, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (v == 0) { /* also -0, as expfmt's writeFloat */
        strcpy(out, "0");
        return;
    }
    /* shortest digits that read back as v */
    char tmp[40];
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    /* tmp = [-]d[.ddd]e[+-]xx: split into digits and decimal exponent */
    bool neg = tmp[0] == '-';
    const char *p = tmp + neg;
    char digits[24];
    size_t nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9' && nd < sizeof(digits) - 1)
            digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    int exp = *p == 'e' ? atoi(p + 1) : 0;
    struct ck_buf b = CK_BUF_INIT;
    if (neg)
        ck_buf_putc(&b, '-');
    if (exp < -4 || exp >= 6) { /* Go's %e form for shortest 'g' */
        ck_buf_putc(&b, digits[0]);
        if (nd > 1) {
            ck_buf_putc(&b, '.');
            ck_buf_puts(&b, digits + 1);
        }
        ck_buf_printf(&b, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    } else if (exp < 0) {
        ck_buf_puts(&b, "0.");
        for (int i = 0; i < -exp - 1; i++)
            ck_buf_putc(&b, '0');
        ck_buf_puts(&b, digits);
    } else {
        for (int i = 0; i <= exp; i++)
            ck_buf_putc(&b, (size_t)i < nd ? digits[i] : '0');
        if ((size_t)exp + 1 < nd) {
            ck_buf_putc(&b, '.');
            ck_buf_puts(&b, digits + exp + 1);
        }
    }
    ck_strlcpy(out, ck_buf_str(&b), 32);
    ck_buf_free(&b);
}

static void put_escaped(struct ck_buf *b, const char *s, bool quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            ck_buf_puts(b, "\\\\");
        else if (*s == '\n')
            ck_buf_puts(b, "\\n");
        else if (quote && *s == '"')
            ck_buf_puts(b, "\\\"");
        else
            ck_buf_putc(b, *s);
    }
}

static void put_float(struct ck_buf *b, double v)
{
    char num[32];
    ck_metric_format_float(v, num);
    ck_buf_puts(b, num);
}

/* name{labels[,extra="val"]} value */
static void put_sample(struct ck_buf *b, const struct ck_metric *m, const char *suffix,
                       const char *extra, double extra_value, double value)
{
    const struct ck_metric_family *f = m->fam;
    ck_buf_puts(b, f->name);
    ck_buf_puts(b, suffix);
    if (f->nlabels || extra) {
        ck_buf_putc(b, '{');
        for (size_t k = 0; k < f->nlabels; k++) {
            size_t i = f->order[k];
            if (k)
                ck_buf_putc(b, ',');
            ck_buf_printf(b, "%s=\"", f->labels[i]);
            put_escaped(b, m->values[i], true);
            ck_buf_putc(b, '"');
        }
        if (extra) {
            if (f->nlabels)
                ck_buf_putc(b, ',');
            ck_buf_printf(b, "%s=\"", extra);
            put_float(b, extra_value);
            ck_buf_putc(b, '"');
        }
        ck_buf_putc(b, '}');
    }
    ck_buf_putc(b, ' ');
    put_float(b, value);
    ck_buf_putc(b, '\n');
}

struct series_list {
    struct ck_metric **v;
    size_t n;
};

static void collect_series(const char *key, void *value, void *ctx)
{
    (void)key;
    struct series_list *l = ctx;
    l->v[l->n++] = value;
}

static int cmp_series(const void *a, const void *b)
{
    const struct ck_metric *x = *(struct ck_metric *const *)a;
    const struct ck_metric *y = *(struct ck_metric *const *)b;
    for (size_t k = 0; k < x->fam->nlabels; k++) {
        size_t i = x->fam->order[k];
        int c = strcmp(x->values[i], y->values[i]);
        if (c)
            return c;
    }
    return 0;
}

static int cmp_family(const void *a, const void *b)
{
    return strcmp((*(struct ck_metric_family *const *)a)->name,
                  (*(struct ck_metric_family *const *)b)->name);
}

static void write_family(struct ck_metric_family *f, struct ck_buf *out)
{
    pthread_mutex_lock(&f->lock);
    if (f->series.len == 0) {
        pthread_mutex_unlock(&f->lock);
        return;
    }
    struct series_list l = {ck_xcalloc(f->series.len, sizeof(struct ck_metric *)), 0};
    ck_strmap_each(&f->series, collect_series, &l);
    qsort(l.v, l.n, sizeof(*l.v), cmp_series);
    ck_buf_printf(out, "# HELP %s ", f->name);
    put_escaped(out, f->help, false);
    static const char *const types[] = {"", "counter", "gauge", "histogram"};
    ck_buf_printf(out, "\n# TYPE %s %s\n", f->name, types[f->type]);
    for (size_t s = 0; s < l.n; s++) {
        struct ck_metric *m = l.v[s];
        if (f->type != CK_METRIC_HISTOGRAM) {
            put_sample(out, m, "", NULL, 0, m->value);
            continue;
        }
        uint64_t cum = 0;
        for (size_t i = 0; i < f->nbuckets; i++) {
            cum += m->buckets[i];
            put_sample(out, m, "_bucket", "le", f->buckets[i], (double)cum);
        }
        put_sample(out, m, "_bucket", "le", INFINITY, (double)m->count);
        put_sample(out, m, "_sum", NULL, 0, m->value);
        put_sample(out, m, "_count", NULL, 0, (double)m->count);
    }
    pthread_mutex_unlock(&f->lock);
    free(l.v);
}

void ck_metrics_write(struct ck_metrics *reg, struct ck_buf *out)
{
    if (!reg)
        return;
    pthread_mutex_lock(&reg->write_lock);
    /* collectors run without reg->lock: they set gauges, which may register families */
    pthread_mutex_lock(&reg->lock);
    size_t nc = 0;
    for (struct collector *c = reg->collectors; c; c = c->next)
        nc++;
    struct collector *cs = ck_xcalloc(nc ? nc : 1, sizeof(*cs));
    nc = 0;
    for (struct collector *c = reg->collectors; c; c = c->next)
        cs[nc++] = *c;
    pthread_mutex_unlock(&reg->lock);
    for (size_t i = 0; i < nc; i++)
        cs[i].fn(cs[i].ctx);
    free(cs);

    pthread_mutex_lock(&reg->lock);
    size_t nf = 0;
    for (struct ck_metric_family *f = reg->families; f; f = f->next)
        nf++;
    struct ck_metric_family **fs = ck_xcalloc(nf ? nf : 1, sizeof(*fs));
    nf = 0;
    for (struct ck_metric_family *f = reg->families; f; f = f->next)
        fs[nf++] = f;
    pthread_mutex_unlock(&reg->lock); /* families are never freed before the registry */
    qsort(fs, nf, sizeof(*fs), cmp_family);
    for (size_t i = 0; i < nf; i++)
        write_family(fs[i], out);
    free(fs);
    pthread_mutex_unlock(&reg->write_lock);
}
