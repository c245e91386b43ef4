/* Unit tests for kubelet/backoff.c: upstream's flowcontrol.Backoff as CrashLoopBackOff and
 * ImagePullBackOff use it (10 s doubling to 5 min, reset after 10 min without failure). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "kubelet/backoff.h"
#include "timeutil.h"

#define S CK_SECOND
static const int64_t T0 = 1795399200 * S;

static void crashloop_doubles_to_five_minutes(void **state)
{
    (void)state;
    struct kl_backoff *b = kl_backoff_new(10 * S, 300 * S);
    /* no entry: a container may start at once */
    assert_false(kl_backoff_in_backoff_since(b, "p/c", T0, T0));
    assert_int_equal(kl_backoff_get(b, "p/c"), 0);
    static const int64_t want[] = {10, 20, 40, 80, 160, 300, 300};
    int64_t t = T0;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        kl_backoff_next(b, "p/c", t, t);
        assert_int_equal(kl_backoff_get(b, "p/c"), want[i] * S);
        /* a run that ends right after its start backs off for the whole duration */
        assert_true(kl_backoff_in_backoff_since(b, "p/c", t + S, t + 2 * S));
        assert_int_equal(kl_backoff_until_since(b, "p/c", t + S, t + 2 * S), t + S + want[i] * S);
        /* ... and may restart once it passed */
        assert_false(kl_backoff_in_backoff_since(b, "p/c", t + S, t + S + want[i] * S));
        t += S + want[i] * S;
    }
    kl_backoff_free(b);
}

static void long_run_resets_the_backoff(void **state)
{
    (void)state;
    struct kl_backoff *b = kl_backoff_new(10 * S, 300 * S);
    for (int i = 0; i < 5; i++)
        kl_backoff_next(b, "k", T0, T0);
    assert_int_equal(kl_backoff_get(b, "k"), 160 * S);
    /* finished 10 min + 1 s after the last restart: stale, no back-off, restart at 10 s */
    int64_t fin = T0 + 601 * S;
    assert_false(kl_backoff_in_backoff_since(b, "k", fin, fin));
    kl_backoff_next(b, "k", fin, fin);
    assert_int_equal(kl_backoff_get(b, "k"), 10 * S);
    /* exactly 10 min is not stale yet */
    kl_backoff_next(b, "k", fin + 600 * S, fin + 600 * S);
    assert_int_equal(kl_backoff_get(b, "k"), 20 * S);
    kl_backoff_free(b);
}

static void since_update_is_for_image_pulls(void **state)
{
    (void)state;
    struct kl_backoff *b = kl_backoff_new(10 * S, 300 * S);
    assert_false(kl_backoff_in_backoff_since_update(b, "u_img", T0));
    kl_backoff_next(b, "u_img", T0, T0);
    assert_true(kl_backoff_in_backoff_since_update(b, "u_img", T0 + 9 * S));
    assert_int_equal(kl_backoff_until_update(b, "u_img", T0 + 9 * S), T0 + 10 * S);
    assert_false(kl_backoff_in_backoff_since_update(b, "u_img", T0 + 10 * S));
    kl_backoff_next(b, "u_img", T0 + 10 * S, T0 + 10 * S);
    assert_true(kl_backoff_in_backoff_since_update(b, "u_img", T0 + 29 * S));
    assert_false(kl_backoff_in_backoff_since_update(b, "u_img", T0 + 30 * S));
    kl_backoff_free(b);
}

static void reset_prefix_and_gc_drop_entries(void **state)
{
    (void)state;
    struct kl_backoff *b = kl_backoff_new(10 * S, 300 * S);
    kl_backoff_next(b, "uid1/a", T0, T0);
    kl_backoff_next(b, "uid1/b", T0, T0);
    kl_backoff_next(b, "uid2/a", T0, T0 + 500 * S);
    assert_int_equal(kl_backoff_len(b), 3);
    kl_backoff_reset_prefix(b, "uid1");
    assert_int_equal(kl_backoff_len(b), 1);
    assert_int_equal(kl_backoff_get(b, "uid1/a"), 0);
    kl_backoff_next(b, "uid3/a", T0, T0);
    /* gc: entries not updated for more than 10 min go */
    kl_backoff_gc(b, T0 + 700 * S);
    assert_int_equal(kl_backoff_len(b), 1);
    assert_int_equal(kl_backoff_get(b, "uid2/a"), 10 * S);
    kl_backoff_reset(b, "uid2/a");
    assert_int_equal(kl_backoff_len(b), 0);
    kl_backoff_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crashloop_doubles_to_five_minutes),
        cmocka_unit_test(long_run_resets_the_backoff),
        cmocka_unit_test(since_update_is_for_image_pulls),
        cmocka_unit_test(reset_prefix_and_gc_drop_entries),
    };
    return cmocka_run_group_tests_name("kubelet backoff", tests, NULL, NULL);
}
