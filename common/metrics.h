/* metrics.h - Prometheus metrics: counters, gauges and histograms with labels, written in the
 * text exposition format 0.0.4 exactly as upstream's client_golang writes it (families sorted by
 * name, label pairs sorted by label name, series sorted by label values, `le` last on buckets,
 * numbers as Go's strconv.FormatFloat(v, 'g', -1, 64): "1", "0.005", "1e+06", "+Inf", "NaN").
 *
 * A registry holds families; a family is one metric name with its help text, type and label
 * names; a series ("child") is the family plus one value per label. Everything a registry hands
 * out (families, series) is owned by the registry and lives until ck_metrics_free, so callers
 * keep the pointers they got and never free them. Registering a name again returns the family
 * already registered when type and label names match (so several work queues share
 * workqueue_depth), and NULL when they do not. Every function accepts NULL families and series
 * and then does nothing, so a failed registration never crashes a caller.
 *
 * Thread-safety: all functions may be called from any thread. Each family has a lock guarding
 * its series and their values; the registry has a lock guarding its family list and collectors.
 */
#ifndef CK_METRICS_H
#define CK_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum ck_metric_type { CK_METRIC_COUNTER = 1, CK_METRIC_GAUGE, CK_METRIC_HISTOGRAM };

struct ck_metrics;
struct ck_metric_family;
struct ck_metric;

/* Most label names and buckets one family may have. */
#define CK_METRIC_MAX_LABELS 12
#define CK_METRIC_MAX_BUCKETS 64

/* client_golang's DefBuckets: .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10 */
extern const double ck_metric_default_buckets[11];

/* A new, empty registry (caller frees with ck_metrics_free, which also frees every family and
 * series it handed out). */
struct ck_metrics *ck_metrics_new(void);
void ck_metrics_free(struct ck_metrics *reg);
/* The process-wide registry every module registers into unless told otherwise; it is created
 * on first use and lives until ck_metrics_default_reset (memory reachable from it is not a
 * leak). */
struct ck_metrics *ck_metrics_default(void);
/* Frees the process-wide registry; the next ck_metrics_default creates a fresh one. Only call
 * when no thread holds a family or series from it. */
void ck_metrics_default_reset(void);

/* Register (or find) a family. `labels` is a NULL-terminated list of label names (NULL: none).
 * The name must match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* and not
 * start with "__" (for histograms "le" is reserved). Returns a borrowed family, or NULL when the
 * names are invalid or a family of that name exists with another type or labels. */
struct ck_metric_family *ck_metrics_counter(struct ck_metrics *reg, const char *name,
                                            const char *help, const char *const *labels);
struct ck_metric_family *ck_metrics_gauge(struct ck_metrics *reg, const char *name,
                                          const char *help, const char *const *labels);
/* buckets: upper bounds in increasing order (the +Inf bucket is implicit); NULL or 0 buckets
 * means ck_metric_default_buckets. */
struct ck_metric_family *ck_metrics_histogram(struct ck_metrics *reg, const char *name,
                                              const char *help, const char *const *labels,
                                              const double *buckets, size_t nbuckets);

/* Fills out[0..count) with start, start*factor, start*factor^2, ... (client_golang's
 * ExponentialBuckets). */
void ck_metric_exponential_buckets(double start, double factor, size_t count, double *out);

/* The series of `fam` with the given label values, one per label name in registration order,
 * created (at zero) on first use. Variadic form: the values then a NULL sentinel. Returns a
 * borrowed series, or NULL when the number of values does not match. */
struct ck_metric *ck_metric_with(struct ck_metric_family *fam, ...) __attribute__((sentinel));
struct ck_metric *ck_metric_withv(struct ck_metric_family *fam, const char *const *values,
                                  size_t n);
/* Removes the series with these values (its pointer becomes invalid); 0 or -ENOENT. */
int ck_metric_delete(struct ck_metric_family *fam, const char *const *values, size_t n);

/* Counter: add v >= 0 (a negative v is ignored, as upstream panics on it). Gauge: add any v. */
void ck_metric_add(struct ck_metric *m, double v);
void ck_metric_inc(struct ck_metric *m);
/* Gauge only. */
void ck_metric_dec(struct ck_metric *m);
void ck_metric_set(struct ck_metric *m, double v);
/* Histogram only: counts v into every bucket whose upper bound is >= v, adds it to the sum. */
void ck_metric_observe(struct ck_metric *m, double v);

/* Current value of a counter or gauge (histograms: the sum); 0 for NULL. */
double ck_metric_value(struct ck_metric *m);
/* Histogram sample count; 0 for other types and NULL. */
uint64_t ck_metric_count(struct ck_metric *m);

/* A collector runs just before every write, e.g. to set gauges computed on demand. It must not
 * call ck_metrics_write. Adding returns 0; removing returns 0 or -ENOENT; removal waits for a
 * running write to finish, so ctx may be freed afterwards. */
int ck_metrics_add_collector(struct ck_metrics *reg, void (*fn)(void *ctx), void *ctx);
int ck_metrics_remove_collector(struct ck_metrics *reg, void (*fn)(void *ctx), void *ctx);

/* Appends the text exposition of every family that has at least one series to out. */
void ck_metrics_write(struct ck_metrics *reg, struct ck_buf *out);

/* Go's strconv.FormatFloat(v, 'g', -1, 64) with Prometheus' spellings of the special values:
 * "+Inf", "-Inf", "NaN". out must hold at least 32 bytes. */
void ck_metric_format_float(double v, char out[32]);

/* The text exposition content type upstream serves. */
#define CK_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
