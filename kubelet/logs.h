/* logs.h - the CRI container log reader behind `kubectl logs`: turns the lines the shim writes
 * (runc.h: "2016-10-06T00:17:09.669794202Z stdout F log line", P for a partial line) back
 * into what the container printed, with upstream's PodLogOptions applied as the kubelet's
 * ReadLogs applies them:
 *   - tailLines: counted in lines of the file (every '\n', so each P piece counts), the start
 *     found by reading the file backwards (kl_log_tail_offset);
 *   - sinceTime / sinceSeconds: lines stamped before the time are skipped;
 *   - timestamps: each line gets its time ("2006-01-02T15:04:05.000000000Z ", always nine
 *     fraction digits, in UTC) in front, once per line even when it came in P pieces;
 *   - limitBytes: output (timestamps included) stops after that many bytes, cutting the last
 *     line;
 *   - malformed lines (no timestamp, stream or tag; an unknown stream) are skipped.
 * stdout and stderr are merged into one stream, as the kubelet's /containerLogs serves them.
 *
 * Pure apart from kl_log_tail_offset (which reads a file): unit-tested in
 * test/unit/test_kubelet_logs.c. The reader owns its buffers (kl_log_reader_free); output is
 * appended to a caller's ck_buf.
 */
#ifndef KL_LOGS_H
#define KL_LOGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "buf.h"

/* Longest raw line kept while waiting for its newline; longer ones are dropped (the shim
 * never writes lines over KL_CRILOG_MAX_LINE plus the prefix). */
#define KL_LOG_MAX_RAW_LINE (1u << 20)

struct kl_log_opts {
    int64_t tail_lines;  /* < 0: from the start of the file */
    int64_t limit_bytes; /* <= 0: no limit */
    bool timestamps;
    bool has_since;
    struct timespec since; /* with has_since: skip lines stamped before it */
};

enum kl_log_stream { KL_LOG_STDOUT = 1, KL_LOG_STDERR = 2 };

/* One parsed CRI line; msg points into the parsed text (borrowed). */
struct kl_cri_line {
    struct timespec ts;
    enum kl_log_stream stream;
    bool partial;
    const char *msg; /* for a full line, ends with its '\n' when the input had one */
    size_t msg_len;
};

/* Parses one line of a CRI log (with or without its trailing '\n'). Returns 0, or -EINVAL for
 * a line upstream's parser rejects (no timestamp / a bad one, no stream, an unknown stream, no
 * tag). A partial line's trailing '\n' is not part of msg. */
int kl_cri_parse(const char *line, size_t len, struct kl_cri_line *out);

struct kl_log_reader {
    struct kl_log_opts opts;
    struct ck_buf pending; /* raw bytes of a line whose '\n' has not arrived */
    int64_t written;       /* bytes produced so far (for limit_bytes) */
    bool at_line_start;    /* the last line produced was a full one (timestamps go first) */
    bool limit_reached;
    bool dropping; /* skipping the rest of an over-long raw line */
};

void kl_log_reader_init(struct kl_log_reader *r, const struct kl_log_opts *opts);
void kl_log_reader_free(struct kl_log_reader *r);
/* Feeds raw bytes read from the log file; appends what the user sees to out. Returns 1 once
 * limit_bytes is reached (stop reading), else 0. */
int kl_log_reader_feed(struct kl_log_reader *r, const char *data, size_t len, struct ck_buf *out);
/* End of the input: a last line without '\n' is parsed as it is (as upstream's reader does at
 * the end of a file it does not follow). Returns as kl_log_reader_feed. */
int kl_log_reader_finish(struct kl_log_reader *r, struct ck_buf *out);

/* The offset where the last n lines of the open file fd start (counting every '\n', as
 * upstream's tail.FindTailLineStartIndex: a file not ending in '\n' has its unfinished line
 * on top); 0 when n < 0 or the file has fewer lines. Returns 0 or a negative errno. */
int kl_log_tail_offset(int fd, int64_t n, off_t *out);

/* Which container run a log request for `container` of pod (its API object) means, decided
 * from the pod's status as upstream's kubelet does (validateContainerLogStatus): previous ->
 * lastState.terminated; running -> the current one; terminated -> it (or lastState when it
 * has no ID); else lastState.terminated; else the waiting reason is the error. Looks in
 * containerStatuses, initContainerStatuses and ephemeralContainerStatuses. Returns 0 with *id
 * (caller frees) the runtime ID without its "<runtime>://" prefix, or -ENOENT with msg set to
 * upstream's text, e.g. `previous terminated container "c" in pod "p" not found`. */
int kl_log_container_id(const cJSON *pod, const char *container, bool previous, char **id,
                        struct ck_buf *msg);

/* Formats t as Go's RFC3339NanoFixed in UTC ("2006-01-02T15:04:05.000000000Z"); out needs
 * 32 bytes. */
void kl_log_format_time(const struct timespec *t, char out[32]);

#endif
