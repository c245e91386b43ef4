/* rvtracker.c - replaced resourceVersions per key (see rvtracker.h). */
#include "rvtracker.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"

void ck_rv_tracker_init(struct ck_rv_tracker *t)
{
    pthread_mutex_init(&t->mu, NULL);
    t->replaced = (struct ck_strmap)CK_STRMAP_INIT;
}

void ck_rv_tracker_free(struct ck_rv_tracker *t)
{
    pthread_mutex_lock(&t->mu);
    ck_strmap_free(&t->replaced, free);
    pthread_mutex_unlock(&t->mu);
}

void ck_rv_tracker_set(struct ck_rv_tracker *t, const char *key, const char *rv)
{
    pthread_mutex_lock(&t->mu);
    if (rv)
        free(ck_strmap_put(&t->replaced, key, ck_xstrdup(rv)));
    else
        free(ck_strmap_remove(&t->replaced, key));
    pthread_mutex_unlock(&t->mu);
}

bool ck_rv_tracker_stale(struct ck_rv_tracker *t, const char *key, const char *rv)
{
    pthread_mutex_lock(&t->mu);
    const char *old = ck_strmap_get(&t->replaced, key);
    bool stale = old && rv && !strcmp(old, rv);
    pthread_mutex_unlock(&t->mu);
    return stale;
}
