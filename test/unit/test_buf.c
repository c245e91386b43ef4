/* Unit tests for buf.c, mem.c, error.c and log.c: the smallest pieces every module uses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "error.h"
#include "log.h"
#include "mem.h"

static void buf_appends_and_terminates(void **state)
{
    (void)state;
    CK_AUTOBUF struct ck_buf b = CK_BUF_INIT;
    assert_string_equal(ck_buf_str(&b), "");
    ck_buf_puts(&b, "abc");
    ck_buf_putc(&b, '-');
    ck_buf_printf(&b, "%d/%s", 42, "x");
    assert_int_equal(b.len, 8);
    assert_string_equal(b.data, "abc-42/x");
    ck_buf_truncate(&b, 3);
    assert_string_equal(b.data, "abc");
    ck_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
}

static void buf_grows_past_large_inputs(void **state)
{
    (void)state;
    struct ck_buf b = CK_BUF_INIT;
    char chunk[1000];
    memset(chunk, 'z', sizeof(chunk));
    for (int i = 0; i < 5000; i++)
        ck_buf_add(&b, chunk, sizeof(chunk));
    assert_int_equal(b.len, 5000000);
    assert_true(b.cap > b.len);
    assert_int_equal(b.data[b.len], '\0');
    /* printf output larger than the spare capacity */
    ck_buf_reset(&b);
    ck_buf_printf(&b, "%0*d", 100000, 7);
    assert_int_equal(b.len, 100000);
    assert_int_equal(b.data[99999], '7');
    char *s = ck_buf_detach(&b);
    assert_null(b.data);
    assert_int_equal(strlen(s), 100000);
    free(s);
    s = ck_buf_detach(&b); /* never-used buffer detaches as "" */
    assert_string_equal(s, "");
    free(s);
}

static void buf_keeps_binary_bytes(void **state)
{
    (void)state;
    CK_AUTOBUF struct ck_buf b = CK_BUF_INIT;
    ck_buf_add(&b, "a\0b", 3);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "a\0b", 3);
}

static void snprintf_reports_truncation(void **state)
{
    (void)state;
    char small[4];
    assert_int_equal(ck_snprintf(small, sizeof(small), "%s", "abcdef"), -ENOSPC);
    assert_string_equal(small, "abc");
    assert_int_equal(ck_snprintf(small, sizeof(small), "%d", 12), 0);
    assert_string_equal(small, "12");
    assert_int_equal(ck_strlcpy(small, "wxyz", sizeof(small)), -ENOSPC);
    assert_string_equal(small, "wxy");
    assert_int_equal(ck_strlcpy(small, "ok", sizeof(small)), 0);
    CK_AUTOFREE char *s = ck_xasprintf("%s-%d", "n", 5);
    assert_string_equal(s, "n-5");
}

static void error_builds_upstream_status(void **state)
{
    (void)state;
    struct ck_error err = CK_ERROR_INIT;
    int rc = ck_error_set(&err, 404, CK_REASON_NOT_FOUND, "pods \"%s\" not found", "web");
    assert_int_equal(rc, -ENOENT);
    cJSON *details = cJSON_CreateObject();
    cJSON_AddStringToObject(details, "name", "web");
    cJSON_AddStringToObject(details, "kind", "pods");
    ck_error_set_details(&err, details);
    cJSON *st = ck_error_to_status(&err);
    char *s = cJSON_PrintUnformatted(st);
    assert_string_equal(s, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                           "\"status\":\"Failure\",\"message\":\"pods \\\"web\\\" not found\","
                           "\"reason\":\"NotFound\",\"details\":{\"name\":\"web\",\"kind\":"
                           "\"pods\"},\"code\":404}");
    free(s);
    cJSON_Delete(st);
    ck_error_clear(&err);
    assert_int_equal(err.code, 0);
    assert_null(err.details);
    /* a NULL error pointer is accepted */
    assert_int_equal(ck_error_set(NULL, 409, CK_REASON_CONFLICT, "x"), -EEXIST);
}

static void log_line_has_klog_shape(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    struct timeval tv = {.tv_sec = 1795356000 /* 2026-11-22 14:00:00 UTC */, .tv_usec = 1234};
    char line[256];
    ck_log_format(line, sizeof(line), CK_LOG_INFO, &tv, 1234, "common/file.c", 42, "msg");
    assert_string_equal(line, "I1122 14:00:00.001234    1234 file.c:42] msg");
    ck_log_format(line, sizeof(line), CK_LOG_ERROR, &tv, 7, "x.c", 1, "boom");
    assert_string_equal(line, "E1122 14:00:00.001234       7 x.c:1] boom");
    ck_log_set_verbosity(2);
    assert_true(CK_V(2));
    assert_false(CK_V(3));
    ck_log_set_verbosity(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buf_appends_and_terminates),
        cmocka_unit_test(buf_grows_past_large_inputs),
        cmocka_unit_test(buf_keeps_binary_bytes),
        cmocka_unit_test(snprintf_reports_truncation),
        cmocka_unit_test(error_builds_upstream_status),
        cmocka_unit_test(log_line_has_klog_shape),
    };
    return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
