/* cancel.c - one-shot cancellation shared by waiters, sleepers and watches (see cancel.h). */
#include "cancel.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "mem.h"
#include "timeutil.h"

struct ck_cancel_hook {
    void (*fn)(void *);
    void *arg;
    struct ck_cancel_hook *next;
};

struct ck_cancel {
    pthread_mutex_t lock; /* guards fired and hooks */
    pthread_cond_t cond;  /* CLOCK_MONOTONIC; broadcast when fired */
    bool fired;
    struct ck_cancel_hook *hooks;
};

struct ck_cancel *ck_cancel_new(void)
{
    struct ck_cancel *c = ck_xcalloc(1, sizeof(*c));
    pthread_mutex_init(&c->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cond, &ca);
    pthread_condattr_destroy(&ca);
    return c;
}

void ck_cancel_free(struct ck_cancel *c)
{
    if (!c)
        return;
    while (c->hooks) {
        struct ck_cancel_hook *h = c->hooks;
        c->hooks = h->next;
        free(h);
    }
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void ck_cancel_fire(struct ck_cancel *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    if (!c->fired) {
        c->fired = true;
        for (struct ck_cancel_hook *h = c->hooks; h; h = h->next)
            h->fn(h->arg);
        pthread_cond_broadcast(&c->cond);
    }
    pthread_mutex_unlock(&c->lock);
}

bool ck_cancel_fired(struct ck_cancel *c)
{
    if (!c)
        return false;
    pthread_mutex_lock(&c->lock);
    bool f = c->fired;
    pthread_mutex_unlock(&c->lock);
    return f;
}

static void sleep_ns(int64_t ns)
{
    if (ns <= 0)
        return;
    struct timespec ts = {(time_t)(ns / CK_NSEC_PER_SEC), (long)(ns % CK_NSEC_PER_SEC)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

int ck_cancel_sleep(struct ck_cancel *c, int64_t ns)
{
    if (!c) {
        sleep_ns(ns);
        return 0;
    }
    int64_t now = ck_mono_ns();
    if (ns < 0)
        ns = 0;
    int64_t until = ns > INT64_MAX / 2 - now ? INT64_MAX / 2 : now + ns;
    struct timespec ts = {(time_t)(until / CK_NSEC_PER_SEC), (long)(until % CK_NSEC_PER_SEC)};
    pthread_mutex_lock(&c->lock);
    while (!c->fired && ck_mono_ns() < until)
        pthread_cond_timedwait(&c->cond, &c->lock, &ts);
    bool f = c->fired;
    pthread_mutex_unlock(&c->lock);
    return f ? -ECANCELED : 0;
}

struct ck_cancel_hook *ck_cancel_hook_add(struct ck_cancel *c, void (*fn)(void *), void *arg)
{
    if (!c)
        return NULL;
    struct ck_cancel_hook *h = ck_xcalloc(1, sizeof(*h));
    h->fn = fn;
    h->arg = arg;
    pthread_mutex_lock(&c->lock);
    if (c->fired)
        fn(arg);
    h->next = c->hooks;
    c->hooks = h;
    pthread_mutex_unlock(&c->lock);
    return h;
}

void ck_cancel_hook_remove(struct ck_cancel *c, struct ck_cancel_hook *h)
{
    if (!c || !h)
        return;
    pthread_mutex_lock(&c->lock);
    for (struct ck_cancel_hook **pp = &c->hooks; *pp; pp = &(*pp)->next) {
        if (*pp == h) {
            *pp = h->next;
            break;
        }
    }
    pthread_mutex_unlock(&c->lock);
    free(h);
}

