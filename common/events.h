/* events.h - core/v1 Events as client-go's tools/record writes them (EventBroadcaster,
 * EventRecorder, EventCorrelator).
 *
 * ck_event_recordf never blocks: it builds the Event (name "<object name>.<hex unix nanos>",
 * namespace of the object or "default", involvedObject {kind, namespace, name, uid,
 * apiVersion, resourceVersion}, reason, message, type, source {component, host},
 * firstTimestamp = lastTimestamp = now, count 1, reportingComponent/reportingInstance = source)
 * and puts it on a queue of 1000 (full: the event is dropped, as upstream). One thread per
 * broadcaster writes them, after upstream's correlation:
 *  - aggregation: more than 10 events within 10 minutes that differ only by message (same
 *    source, object, type, reason) become one event "(combined from similar events): <msg>";
 *  - deduplication: an event seen before (all fields but timestamps/count equal) is not
 *    created again: the existing one is patched (strategic merge) with count+1, lastTimestamp
 *    and message; if it no longer exists, it is created anew;
 *  - spam filter: per source+object a token bucket of 25 events refilled at 1 per 5 minutes.
 * Writes that fail for transport reasons are retried up to 12 times, 10 s apart (the first
 * sleep randomized); rejected ones (a Status answer) are given up, as upstream.
 * The type must be "Normal" or "Warning"; anything else is logged ("Unsupported event type")
 * and dropped. Events are also logged at --v=3.
 *
 * Ownership: broadcasters and recorders belong to the caller; free recorders before their
 * broadcaster. Thread-safety: recorders may be used from any thread.
 */
#ifndef CK_EVENTS_H
#define CK_EVENTS_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "client.h"

#define CK_EVENT_NORMAL "Normal"
#define CK_EVENT_WARNING "Warning"

struct ck_event_broadcaster_opts {
    int queue_size;          /* 0: 1000 */
    int spam_burst;          /* 0: 25 */
    double spam_qps;         /* 0: 1/300 */
    int aggregate_max;       /* 0: 10 */
    int64_t aggregate_window_ns; /* 0: 600 s */
    int64_t retry_sleep_ns;  /* 0: 10 s */
    int max_tries;           /* 0: 12 */
};

struct ck_event_broadcaster;
struct ck_event_recorder;

/* Starts the writer thread; client is borrowed. opts may be NULL. */
struct ck_event_broadcaster *ck_event_broadcaster_new(struct ck_client *client,
                                                      const struct ck_event_broadcaster_opts *opts);
/* Writes what is queued (without retry sleeps), stops the thread, frees. NULL accepted. */
void ck_event_broadcaster_free(struct ck_event_broadcaster *b);
/* Waits until every event queued so far has been handled (tests). */
void ck_event_broadcaster_flush(struct ck_event_broadcaster *b);

struct ck_event_stats {
    uint64_t created, patched, dropped, filtered, failed;
};
void ck_event_broadcaster_stats(struct ck_event_broadcaster *b, struct ck_event_stats *out);

/* A recorder for one component (source.component; host may be NULL). */
struct ck_event_recorder *ck_event_recorder_new(struct ck_event_broadcaster *b,
                                                const char *component, const char *host);
void ck_event_recorder_free(struct ck_event_recorder *r);

/* Records an event about obj (an API object with apiVersion/kind/metadata, or an
 * ObjectReference); obj is only read during the call. */
void ck_event_record(struct ck_event_recorder *r, const cJSON *obj, const char *type,
                     const char *reason, const char *message);
void ck_event_recordf(struct ck_event_recorder *r, const cJSON *obj, const char *type,
                      const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
