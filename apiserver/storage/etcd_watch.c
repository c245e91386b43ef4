/* etcd_watch.c - watch streams: one streaming POST /v3/watch per watch, read on a dedicated
 * thread, delivered to a callback; reconnects to the next endpoint and resumes at the last
 * delivered revision + 1, so nothing is lost or repeated (see etcd.h).
 *
 * etcd sends one JSON object per line: {"result":{"header":..,"created":true}} first, then
 * {"result":{"header":..,"events":[..]}} per batch (a revision is never split across
 * batches), empty batches as progress notifications, and {"result":{"canceled":true,
 * "compact_revision":"N"}} when the start revision is compacted.
 */
#include "etcd_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "log.h"
#include "mem.h"

enum start_state { START_WAITING, START_CREATED, START_ABANDONED };

struct etcd_watch {
    /* immutable after etcd_watch_start */
    struct etcd_client *c;
    char *selector; /* the "key"/"range_end" JSON members */
    bool prev_kv, progress_notify;
    etcd_watch_fn fn;
    void *arg;
    CURLM *multi; /* used by the thread; other threads only call curl_multi_wakeup on it */
    pthread_t thread;

    atomic_bool stop;      /* ask the thread to end (etcd_watch_stop) */
    atomic_bool running;   /* false once the thread is done */
    atomic_int endpoint;   /* connected endpoint, -1 while disconnected */
    atomic_int reconnects; /* streams re-established after the first */

    /* start handshake; guarded by mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    enum start_state start;
    struct ck_error start_err; /* last failure while starting */

    /* thread-private from here on */
    int64_t next_rev;  /* first revision not delivered yet; 0: "now" until the first created */
    bool ever_created; /* some stream has been confirmed */
    bool done;         /* the watch ended for good (compacted, callback said stop) */
    /* per stream */
    unsigned ep;
    struct ck_buf line;   /* unterminated tail of the stream */
    bool created;         /* this stream was confirmed */
    bool broken;          /* give up this stream and reconnect */
    int64_t last_data_ms; /* when bytes last arrived */
    struct ck_error err;  /* why the last stream failed */
};

static void record_failure(struct etcd_watch *w, const struct ck_error *e)
{
    if (w->ever_created)
        return;
    pthread_mutex_lock(&w->mu);
    ck_error_clear(&w->start_err);
    ck_error_set(&w->start_err, e->code, e->reason, "%s", e->message);
    pthread_mutex_unlock(&w->mu);
}

static void signal_start(struct etcd_watch *w)
{
    pthread_mutex_lock(&w->mu);
    if (w->start == START_WAITING)
        w->start = START_CREATED;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void deliver(struct etcd_watch *w, const struct etcd_watch_resp *r)
{
    if (w->done || atomic_load(&w->stop))
        return;
    if (w->fn(r, w->arg) != 0)
        w->done = true;
}

static void free_events(struct etcd_event *ev, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        etcd_kv_free(&ev[i].kv);
        etcd_kv_free(&ev[i].prev_kv);
    }
    free(ev);
}

/* Parses the events of a batch, dropping revisions already delivered. */
static int parse_events(struct etcd_watch *w, const cJSON *arr, struct etcd_event **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int count = cJSON_GetArraySize(arr);
    if (count <= 0)
        return 0;
    struct etcd_event *ev = ck_xcalloc((size_t)count, sizeof(*ev));
    const cJSON *item;
    cJSON_ArrayForEach(item, arr)
    {
        struct etcd_event *e = &ev[*n];
        memset(e, 0, sizeof(*e)); /* the slot may hold a dropped duplicate */
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(item, "type");
        e->type = cJSON_IsString(type) && strcmp(type->valuestring, "DELETE") == 0
                      ? ETCD_EVENT_DELETE
                      : ETCD_EVENT_PUT;
        if (etcd_parse_kv(cJSON_GetObjectItemCaseSensitive(item, "kv"), &e->kv) < 0) {
            free_events(ev, *n);
            *n = 0;
            return -EIO;
        }
        const cJSON *prev = cJSON_GetObjectItemCaseSensitive(item, "prev_kv");
        if (prev && !cJSON_IsNull(prev)) {
            if (etcd_parse_kv(prev, &e->prev_kv) < 0) {
                etcd_kv_free(&e->kv);
                free_events(ev, *n);
                *n = 0;
                return -EIO;
            }
            e->has_prev_kv = true;
        }
        if (e->kv.mod_revision < w->next_rev) {
            /* already delivered on an earlier stream */
            etcd_kv_free(&e->kv);
            etcd_kv_free(&e->prev_kv);
            continue;
        }
        (*n)++;
    }
    *out = ev;
    return 0;
}

static void break_stream(struct etcd_watch *w, int code, const char *reason, const char *msg)
{
    w->broken = true;
    ck_error_clear(&w->err);
    ck_error_set(&w->err, code, reason, "%s", msg);
}

/* Handles one JSON line of the stream. */
static void on_message(struct etcd_watch *w, const char *text, size_t len)
{
    cJSON *o = cJSON_ParseWithLength(text, len);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        break_stream(w, 503, CK_REASON_SERVICE_UNAVAILABLE, "etcd watch: malformed stream");
        return;
    }
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
    if (e) {
        const cJSON *holder = cJSON_IsObject(e) ? e : o;
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(holder, "message");
        const char *msg = cJSON_IsString(m)   ? m->valuestring
                          : cJSON_IsString(e) ? e->valuestring
                                              : "stream error";
        break_stream(w, 503, CK_REASON_SERVICE_UNAVAILABLE, msg);
        ck_vinfo(2, "etcd watch on %s: %s", w->c->endpoints[w->ep], msg);
        cJSON_Delete(o);
        return;
    }
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(o, "result");
    if (!cJSON_IsObject(res)) {
        cJSON_Delete(o);
        break_stream(w, 503, CK_REASON_SERVICE_UNAVAILABLE, "etcd watch: answer without result");
        return;
    }
    struct etcd_watch_resp r = {0};
    etcd_parse_header(res, &r.header);

    if (etcd_json_bool(res, "created")) {
        w->created = true;
        atomic_store(&w->endpoint, (int)w->ep);
        if (!w->ever_created) {
            if (w->next_rev == 0)
                w->next_rev = r.header.revision + 1;
            w->ever_created = true;
            signal_start(w);
        } else {
            atomic_fetch_add(&w->reconnects, 1);
        }
    }
    if (etcd_json_bool(res, "canceled")) {
        int64_t compact = etcd_json_i64(res, "compact_revision");
        if (compact > 0) {
            struct ck_error gone = CK_ERROR_INIT;
            ck_error_set(&gone, 410, CK_REASON_EXPIRED, "%s", ETCD_MSG_WATCH_EXPIRED);
            r.kind = ETCD_WATCH_COMPACTED;
            r.compact_revision = compact;
            r.error = &gone;
            if (!w->ever_created) {
                w->ever_created = true;
                signal_start(w);
            }
            deliver(w, &r);
            ck_error_clear(&gone);
            w->done = true;
        } else {
            const cJSON *why = cJSON_GetObjectItemCaseSensitive(res, "cancel_reason");
            break_stream(w, 503, CK_REASON_SERVICE_UNAVAILABLE,
                         cJSON_IsString(why) ? why->valuestring : "etcd canceled the watch");
        }
        cJSON_Delete(o);
        return;
    }
    const cJSON *events = cJSON_GetObjectItemCaseSensitive(res, "events");
    if (cJSON_IsArray(events) && cJSON_GetArraySize(events) > 0) {
        struct etcd_event *ev;
        size_t n;
        if (parse_events(w, events, &ev, &n) < 0) {
            break_stream(w, 500, CK_REASON_INTERNAL, "etcd watch: malformed event");
        } else if (n > 0) {
            r.kind = ETCD_WATCH_EVENTS;
            r.events = ev;
            r.n_events = n;
            deliver(w, &r);
            w->next_rev = ev[n - 1].kv.mod_revision + 1;
        }
        free_events(ev, n);
    } else if (!etcd_json_bool(res, "created") && w->created) {
        /* progress notification: everything up to header.revision was sent */
        if (r.header.revision + 1 > w->next_rev)
            w->next_rev = r.header.revision + 1;
        r.kind = ETCD_WATCH_PROGRESS;
        deliver(w, &r);
    }
    cJSON_Delete(o);
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud)
{
    struct etcd_watch *w = ud;
    size_t len = size * nmemb;
    w->last_data_ms = etcd_now_ms();
    if (w->line.len + len > w->c->max_response_bytes) {
        break_stream(w, 500, CK_REASON_INTERNAL, "etcd watch: message too large");
        return 0;
    }
    ck_buf_add(&w->line, p, len);
    size_t start = 0;
    for (;;) {
        char *nl = memchr(w->line.data + start, '\n', w->line.len - start);
        if (!nl)
            break;
        size_t end = (size_t)(nl - w->line.data);
        if (end > start)
            on_message(w, w->line.data + start, end - start);
        start = end + 1;
        if (w->broken || w->done || atomic_load(&w->stop))
            return 0; /* ends the transfer */
    }
    if (start) {
        memmove(w->line.data, w->line.data + start, w->line.len - start);
        ck_buf_truncate(&w->line, w->line.len - start);
    }
    return len;
}

/* The stream's opening request, resuming at next_rev. */
static char *create_body(struct etcd_watch *w)
{
    struct ck_buf b = CK_BUF_INIT;
    ck_buf_printf(&b, "{\"create_request\":{%s", w->selector);
    if (w->next_rev > 0)
        ck_buf_printf(&b, ",\"start_revision\":\"%" PRId64 "\"", w->next_rev);
    if (w->prev_kv)
        ck_buf_puts(&b, ",\"prev_kv\":true");
    if (w->progress_notify)
        ck_buf_puts(&b, ",\"progress_notify\":true");
    ck_buf_puts(&b, "}}");
    return ck_buf_detach(&b);
}

/* Is the member behind a silent stream still serving with a leader? */
static bool member_healthy(struct etcd_watch *w)
{
    struct etcd_status st;
    int rc = etcd_status(w->c, (int)w->ep, &st, NULL);
    return rc == 0 && st.leader != 0;
}

/* Runs one stream on endpoint w->ep until it breaks, the watch ends or stop is asked. */
static void run_stream(struct etcd_watch *w)
{
    struct etcd_client *c = w->c;
    CURL *h = etcd_handle_get(c);
    if (!h) {
        break_stream(w, 500, CK_REASON_INTERNAL, "libcurl: cannot create a handle");
        return;
    }
    char url[1024];
    ck_snprintf(url, sizeof(url), "%s/v3/watch", c->endpoints[w->ep]);
    char *body = create_body(w);
    ck_buf_reset(&w->line);
    w->created = false;
    w->broken = false;
    ck_error_clear(&w->err);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, w);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 0L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->dial_timeout_ms);
    curl_multi_add_handle(w->multi, h);

    int64_t opened = etcd_now_ms();
    w->last_data_ms = opened;
    for (;;) {
        int active = 0;
        curl_multi_perform(w->multi, &active);
        if (atomic_load(&w->stop) || w->done || w->broken || !active)
            break;
        int64_t now = etcd_now_ms();
        if (!w->created && now - opened > c->attempt_timeout_ms) {
            break_stream(w, 504, CK_REASON_TIMEOUT, "Timeout: etcd did not confirm the watch");
            break;
        }
        if (w->created && now - w->last_data_ms > c->watch_idle_check_ms) {
            if (!member_healthy(w)) {
                break_stream(w, 503, CK_REASON_SERVICE_UNAVAILABLE,
                             "etcd member behind a silent watch stream is unhealthy");
                break;
            }
            w->last_data_ms = etcd_now_ms();
        }
        curl_multi_poll(w->multi, NULL, 0, 500, NULL);
    }
    if (!w->broken && !w->done && !atomic_load(&w->stop)) {
        /* the transfer ended by itself: find out why */
        int left;
        CURLMsg *msg;
        CURLcode cc = CURLE_OK;
        while ((msg = curl_multi_info_read(w->multi, &left)))
            if (msg->msg == CURLMSG_DONE)
                cc = msg->data.result;
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        char why[256];
        if (cc != CURLE_OK)
            ck_snprintf(why, sizeof(why), "etcd watch stream on %s: %s", c->endpoints[w->ep],
                        curl_easy_strerror(cc));
        else
            ck_snprintf(why, sizeof(why), "etcd watch stream on %s ended (HTTP %ld)",
                        c->endpoints[w->ep], status);
        break_stream(w, 503, CK_REASON_SERVICE_UNAVAILABLE, why);
    }
    curl_multi_remove_handle(w->multi, h);
    atomic_store(&w->endpoint, -1);
    free(body);
    /* a handle whose transfer was cut has no reusable connection, but is reusable itself */
    etcd_handle_put(c, h);
}

/* Sleeps up to ms unless stop is asked. */
static void pause_ms(struct etcd_watch *w, int64_t ms)
{
    int64_t until = etcd_now_ms() + ms;
    while (!atomic_load(&w->stop)) {
        int64_t left = until - etcd_now_ms();
        if (left <= 0)
            break;
        curl_multi_poll(w->multi, NULL, 0, (int)(left > 1000 ? 1000 : left), NULL);
    }
}

static void *watch_loop(void *arg)
{
    struct etcd_watch *w = arg;
    struct etcd_client *c = w->c;
    unsigned n = (unsigned)c->n_endpoints;
    w->ep = atomic_load(&c->preferred) % n;
    unsigned failed_in_round = 0;
    int64_t backoff = 100;
    int64_t outage_since = 0;
    bool outage_reported = false;
    while (!atomic_load(&w->stop) && !w->done) {
        run_stream(w);
        if (atomic_load(&w->stop) || w->done)
            break;
        if (w->created) {
            /* a confirmed stream broke: start a fresh round of endpoints */
            failed_in_round = 0;
            backoff = 100;
            outage_since = 0;
            outage_reported = false;
        }
        ck_vinfo(2, "etcd watch: %s; resuming at revision %" PRId64, w->err.message, w->next_rev);
        record_failure(w, &w->err);
        int64_t now = etcd_now_ms();
        if (!outage_since)
            outage_since = now;
        if (w->ever_created && !outage_reported && now - outage_since > c->request_timeout_ms) {
            struct etcd_watch_resp r = {.kind = ETCD_WATCH_ERROR, .error = &w->err};
            deliver(w, &r);
            outage_reported = true;
        }
        w->ep = (w->ep + 1) % n;
        if (++failed_in_round >= n) {
            failed_in_round = 0;
            pause_ms(w, backoff);
            backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
        }
    }
    atomic_store(&w->running, false);
    return NULL;
}

static void watch_free(struct etcd_watch *w)
{
    if (w->multi)
        curl_multi_cleanup(w->multi);
    ck_buf_free(&w->line);
    ck_error_clear(&w->err);
    ck_error_clear(&w->start_err);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w->selector);
    free(w);
}

int etcd_watch_start(struct etcd_client *c, const struct etcd_watch_req *req, etcd_watch_fn fn,
                     void *arg, struct etcd_watch **out, struct ck_error *err)
{
    *out = NULL;
    if (!req->key || !*req->key || !fn)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "etcd watch: key is not provided");
    if (req->start_revision < 0)
        return ck_error_set(err, 400, CK_REASON_BAD_REQUEST, "etcd watch: negative revision");
    struct etcd_watch *w = ck_xcalloc(1, sizeof(*w));
    w->c = c;
    struct ck_buf sel = CK_BUF_INIT;
    etcd_json_range_keys(&sel, req->key, req->range_end, req->prefix, req->from_key);
    w->selector = ck_buf_detach(&sel);
    w->prev_kv = req->prev_kv;
    w->progress_notify = req->progress_notify;
    w->fn = fn;
    w->arg = arg;
    w->next_rev = req->start_revision;
    ck_buf_init(&w->line);
    pthread_mutex_init(&w->mu, NULL);
    etcd_cond_init(&w->cv);
    atomic_init(&w->stop, false);
    atomic_init(&w->running, true);
    atomic_init(&w->endpoint, -1);
    atomic_init(&w->reconnects, 0);
    w->multi = curl_multi_init();
    if (!w->multi || pthread_create(&w->thread, NULL, watch_loop, w) != 0) {
        watch_free(w);
        return ck_error_set(err, 500, CK_REASON_INTERNAL, "etcd watch: cannot start");
    }

    int64_t deadline = etcd_now_ms() + c->request_timeout_ms;
    pthread_mutex_lock(&w->mu);
    while (w->start == START_WAITING && etcd_now_ms() < deadline)
        etcd_cond_wait_until(&w->cv, &w->mu, deadline);
    bool ok = w->start == START_CREATED;
    int rc = 0;
    if (!ok) {
        w->start = START_ABANDONED;
        if (w->start_err.code == 0 || w->start_err.code == 504)
            rc = ck_error_set(
                err, 504, CK_REASON_TIMEOUT, "Timeout: etcd watch not established within %d ms%s%s",
                c->request_timeout_ms, w->start_err.code ? ": " : "", w->start_err.message);
        else
            rc = ck_error_set(err, 503, CK_REASON_SERVICE_UNAVAILABLE,
                              "etcd cluster is unavailable: %s", w->start_err.message);
    }
    pthread_mutex_unlock(&w->mu);
    if (!ok) {
        atomic_store(&w->stop, true);
        curl_multi_wakeup(w->multi);
        pthread_join(w->thread, NULL);
        watch_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

void etcd_watch_stop(struct etcd_watch *w)
{
    if (!w)
        return;
    atomic_store(&w->stop, true);
    curl_multi_wakeup(w->multi);
    pthread_join(w->thread, NULL);
    watch_free(w);
}

int etcd_watch_endpoint(struct etcd_watch *w)
{
    return atomic_load(&w->endpoint);
}

int etcd_watch_reconnects(struct etcd_watch *w)
{
    return atomic_load(&w->reconnects);
}

bool etcd_watch_running(struct etcd_watch *w)
{
    return atomic_load(&w->running);
}
