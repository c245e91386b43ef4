/* test_rvtracker.c - the replaced-resourceVersion tracker controllers use to wait for their
 * informer cache to catch up with their own writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "rvtracker.h"

static void stale_until_the_cache_moves_on_or_forgotten(void **state)
{
    (void)state;
    struct ck_rv_tracker t;
    ck_rv_tracker_init(&t);
    /* nothing recorded: nothing is stale */
    assert_false(ck_rv_tracker_stale(&t, "default/web", "5"));
    /* our update of default/web replaced version 5: a cache still at 5 is behind */
    ck_rv_tracker_set(&t, "default/web", "5");
    assert_true(ck_rv_tracker_stale(&t, "default/web", "5"));
    assert_false(ck_rv_tracker_stale(&t, "default/web", "6")); /* it saw our write */
    assert_false(ck_rv_tracker_stale(&t, "default/db", "5"));  /* per key */
    assert_false(ck_rv_tracker_stale(&t, "default/web", NULL));
    /* a later update replaces the remembered version */
    ck_rv_tracker_set(&t, "default/web", "6");
    assert_false(ck_rv_tracker_stale(&t, "default/web", "5"));
    assert_true(ck_rv_tracker_stale(&t, "default/web", "6"));
    /* forgetting (the object is gone) */
    ck_rv_tracker_set(&t, "default/web", NULL);
    assert_false(ck_rv_tracker_stale(&t, "default/web", "6"));
    ck_rv_tracker_set(&t, "default/db", "9");
    ck_rv_tracker_free(&t); /* frees what it still holds (LeakSanitizer checks) */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stale_until_the_cache_moves_on_or_forgotten),
    };
    return cmocka_run_group_tests_name("rvtracker", tests, NULL, NULL);
}
