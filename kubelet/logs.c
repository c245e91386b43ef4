/* logs.c - the CRI container log reader (see logs.h). */
#include "kubelet/logs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "mem.h"
#include "timeutil.h"

void kl_log_format_time(const struct timespec *t, char out[32])
{
    struct tm tm;
    time_t s = t->tv_sec;
    long ns = t->tv_nsec;
    if (ns < 0 || ns >= 1000000000L)
        ns = 0;
    if (!gmtime_r(&s, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
        snprintf(out, 32, "0001-01-01T00:00:00.000000000Z");
        return;
    }
    char base[24];
    if (strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) != 19) {
        snprintf(out, 32, "0001-01-01T00:00:00.000000000Z");
        return;
    }
    snprintf(out, 32, "%.19s.%09ldZ", base, ns);
}

/* the next space-delimited field of [*p, end): its start and length; false when no space
 * follows it */
static bool next_field(const char **p, const char *end, const char **field, size_t *len)
{
    const char *sp = memchr(*p, ' ', (size_t)(end - *p));
    if (!sp)
        return false;
    *field = *p;
    *len = (size_t)(sp - *p);
    *p = sp + 1;
    return true;
}

int kl_cri_parse(const char *line, size_t len, struct kl_cri_line *out)
{
    if (!line || !out)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    const char *p = line, *end = line + len;
    const char *f;
    size_t flen;
    /* timestamp (RFC 3339 with nanoseconds) */
    if (!next_field(&p, end, &f, &flen) || flen == 0 || flen > 64)
        return -EINVAL;
    char ts[65];
    memcpy(ts, f, flen);
    ts[flen] = '\0';
    if (ck_time_parse(ts, &out->ts, NULL) < 0)
        return -EINVAL;
    /* stream */
    if (!next_field(&p, end, &f, &flen))
        return -EINVAL;
    if (flen == 6 && !memcmp(f, "stdout", 6))
        out->stream = KL_LOG_STDOUT;
    else if (flen == 6 && !memcmp(f, "stderr", 6))
        out->stream = KL_LOG_STDERR;
    else
        return -EINVAL;
    /* tag: "F" or "P", possibly followed by more ':'-separated tags (forward compatible) */
    if (!next_field(&p, end, &f, &flen))
        return -EINVAL;
    const char *colon = memchr(f, ':', flen);
    size_t first = colon ? (size_t)(colon - f) : flen;
    out->partial = first == 1 && f[0] == 'P';
    out->msg = p;
    out->msg_len = (size_t)(end - p);
    if (out->partial && out->msg_len > 0 && out->msg[out->msg_len - 1] == '\n')
        out->msg_len--;
    return 0;
}

void kl_log_reader_init(struct kl_log_reader *r, const struct kl_log_opts *opts)
{
    memset(r, 0, sizeof(*r));
    if (opts)
        r->opts = *opts;
    else
        r->opts.tail_lines = -1;
    ck_buf_init(&r->pending);
    r->at_line_start = true;
}

void kl_log_reader_free(struct kl_log_reader *r)
{
    if (r)
        ck_buf_free(&r->pending);
}

/* appends up to the byte limit; true when the limit is reached */
static bool emit(struct kl_log_reader *r, struct ck_buf *out, const char *data, size_t len)
{
    if (r->opts.limit_bytes > 0) {
        int64_t left = r->opts.limit_bytes - r->written;
        if (left <= 0) {
            r->limit_reached = true;
            return true;
        }
        if ((int64_t)len > left)
            len = (size_t)left;
    }
    ck_buf_add(out, data, len);
    r->written += (int64_t)len;
    if (r->opts.limit_bytes > 0 && r->written >= r->opts.limit_bytes)
        r->limit_reached = true;
    return r->limit_reached;
}

/* one complete raw line (with or without '\n') */
static void process_line(struct kl_log_reader *r, const char *line, size_t len, struct ck_buf *out)
{
    struct kl_cri_line l;
    if (kl_cri_parse(line, len, &l) < 0)
        return; /* upstream logs and skips lines it cannot parse */
    if (r->opts.has_since &&
        (l.ts.tv_sec < r->opts.since.tv_sec ||
         (l.ts.tv_sec == r->opts.since.tv_sec && l.ts.tv_nsec < r->opts.since.tv_nsec)))
        return;
    if (r->opts.timestamps && r->at_line_start) {
        char ts[32];
        kl_log_format_time(&l.ts, ts);
        size_t n = strlen(ts);
        ts[n++] = ' ';
        if (emit(r, out, ts, n))
            return;
    }
    r->at_line_start = !l.partial;
    if (l.msg_len)
        emit(r, out, l.msg, l.msg_len);
}

int kl_log_reader_feed(struct kl_log_reader *r, const char *data, size_t len, struct ck_buf *out)
{
    if (!r || !out || (!data && len))
        return 0;
    while (len > 0 && !r->limit_reached) {
        const char *nl = memchr(data, '\n', len);
        size_t take = nl ? (size_t)(nl - data) + 1 : len;
        if (r->dropping) {
            if (nl)
                r->dropping = false;
        } else if (r->pending.len == 0 && nl) {
            process_line(r, data, take, out); /* the common case: no copy */
        } else if (r->pending.len + take > KL_LOG_MAX_RAW_LINE) {
            ck_buf_reset(&r->pending);
            r->dropping = !nl;
        } else {
            ck_buf_add(&r->pending, data, take);
            if (nl) {
                process_line(r, r->pending.data, r->pending.len, out);
                ck_buf_reset(&r->pending);
            }
        }
        data += take;
        len -= take;
    }
    return r->limit_reached ? 1 : 0;
}

int kl_log_reader_finish(struct kl_log_reader *r, struct ck_buf *out)
{
    if (!r || !out)
        return 0;
    if (r->pending.len && !r->limit_reached && !r->dropping)
        process_line(r, r->pending.data, r->pending.len, out);
    ck_buf_reset(&r->pending);
    r->dropping = false;
    return r->limit_reached ? 1 : 0;
}

int kl_log_tail_offset(int fd, int64_t n, off_t *out)
{
    if (!out)
        return -EINVAL;
    *out = 0;
    if (n < 0)
        return 0;
    off_t size = lseek(fd, 0, SEEK_END);
    if (size < 0)
        return -errno;
    /* the start is just after the (n+1)-th '\n' counted from the end */
    char buf[8192];
    int64_t seen = 0;
    off_t right = size;
    while (right > 0) {
        off_t left = right > (off_t)sizeof(buf) ? right - (off_t)sizeof(buf) : 0;
        size_t want = (size_t)(right - left);
        ssize_t got = pread(fd, buf, want, left);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if ((size_t)got != want)
            return -EIO; /* the file shrank under us */
        for (size_t i = want; i-- > 0;) {
            if (buf[i] != '\n')
                continue;
            if (++seen == n + 1) {
                *out = left + (off_t)i + 1;
                return 0;
            }
        }
        right = left;
    }
    return 0;
}

/* ---- which container ---------------------------------------------------------------------- */

static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : "";
}

static const cJSON *find_status(const cJSON *status, const char *container)
{
    static const char *const lists[] = {"containerStatuses", "initContainerStatuses",
                                        "ephemeralContainerStatuses"};
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(status, lists[i]);
        const cJSON *cs;
        cJSON_ArrayForEach(cs, arr)
        {
            if (cJSON_IsObject(cs) && !strcmp(str_of(cs, "name"), container))
                return cs;
        }
    }
    return NULL;
}

static const cJSON *obj_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsObject(v) ? v : NULL;
}

static void set_id(const char *cid, char **id)
{
    const char *sep = strstr(cid, "://");
    *id = ck_xstrdup(sep ? sep + 3 : cid);
}

int kl_log_container_id(const cJSON *pod, const char *container, bool previous, char **id,
                        struct ck_buf *msg)
{
    *id = NULL;
    const cJSON *meta = obj_of(pod, "metadata");
    const char *pname = str_of(meta, "name");
    const cJSON *cs = container ? find_status(obj_of(pod, "status"), container) : NULL;
    if (!cs) {
        ck_buf_printf(msg, "container \"%s\" in pod \"%s\" is not available",
                      container ? container : "", pname);
        return -ENOENT;
    }
    const cJSON *state = obj_of(cs, "state");
    const cJSON *last_t = obj_of(obj_of(cs, "lastState"), "terminated");
    const char *last_id = str_of(last_t, "containerID");
    const cJSON *waiting = obj_of(state, "waiting");
    const cJSON *running = obj_of(state, "running");
    const cJSON *terminated = obj_of(state, "terminated");
    if (previous) {
        if (!last_t || !last_id[0]) {
            ck_buf_printf(msg, "previous terminated container \"%s\" in pod \"%s\" not found",
                          container, pname);
            return -ENOENT;
        }
        set_id(last_id, id);
        return 0;
    }
    if (running && str_of(cs, "containerID")[0]) {
        set_id(str_of(cs, "containerID"), id);
        return 0;
    }
    if (terminated || last_t) {
        const char *tid = terminated ? str_of(terminated, "containerID") : "";
        if (!tid[0])
            tid = last_t ? last_id : "";
        if (!tid[0]) {
            ck_buf_printf(msg, "container \"%s\" in pod \"%s\" is terminated", container, pname);
            return -ENOENT;
        }
        set_id(tid, id);
        return 0;
    }
    if (waiting) {
        const char *reason = str_of(waiting, "reason");
        if (!strcmp(reason, "ErrImagePull"))
            ck_buf_printf(msg,
                          "container \"%s\" in pod \"%s\" is waiting to start: image can't "
                          "be pulled",
                          container, pname);
        else if (!strcmp(reason, "ImagePullBackOff"))
            ck_buf_printf(msg,
                          "container \"%s\" in pod \"%s\" is waiting to start: trying and "
                          "failing to pull image",
                          container, pname);
        else
            ck_buf_printf(msg, "container \"%s\" in pod \"%s\" is waiting to start: %s", container,
                          pname, reason);
        return -ENOENT;
    }
    ck_buf_printf(msg, "container \"%s\" in pod \"%s\" is waiting to start - no logs yet",
                  container, pname);
    return -ENOENT;
}
