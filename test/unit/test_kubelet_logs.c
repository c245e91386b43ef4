/* Unit tests for kubelet/logs.c: parsing CRI log lines, and the reader that serves
 * /containerLogs with tailLines, sinceTime, timestamps and limitBytes as upstream's kubelet. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "kubelet/logs.h"

#define T1 "2016-10-06T00:17:09.669794202Z"
#define T2 "2016-10-06T00:17:10.000000001Z"
#define T3 "2016-10-06T00:17:11.5Z"

/* ---- parsing ---- */

static void cri_parse_table(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        int rc;
        int stream;
        bool partial;
        const char *msg;
        long sec, nsec;
    } cases[] = {
        {T1 " stdout F log line\n", 0, KL_LOG_STDOUT, false, "log line\n", 1475713029, 669794202},
        {T1 " stderr F oops", 0, KL_LOG_STDERR, false, "oops", 1475713029, 669794202},
        /* a partial line loses its newline: the pieces join up */
        {T1 " stdout P half\n", 0, KL_LOG_STDOUT, true, "half", 1475713029, 669794202},
        /* extra tags after ':' are accepted, the first one decides */
        {T1 " stdout P:x piece\n", 0, KL_LOG_STDOUT, true, "piece", 1475713029, 669794202},
        {T1 " stdout F:P whole\n", 0, KL_LOG_STDOUT, false, "whole\n", 1475713029, 669794202},
        /* an empty line keeps its newline */
        {T1 " stdout F \n", 0, KL_LOG_STDOUT, false, "\n", 1475713029, 669794202},
        /* spaces inside the message are content */
        {T1 " stdout F  a  b \n", 0, KL_LOG_STDOUT, false, " a  b \n", 1475713029, 669794202},
        /* a short fraction and an offset are RFC 3339 too */
        {"2016-10-06T02:17:11.5+02:00 stdout F x\n", 0, KL_LOG_STDOUT, false, "x\n", 1475713031,
         500000000},
        {"garbage\n", -EINVAL, 0, false, NULL, 0, 0},
        {"notatime stdout F x\n", -EINVAL, 0, false, NULL, 0, 0},
        {T1 " stdin F x\n", -EINVAL, 0, false, NULL, 0, 0},
        {T1 " stdout\n", -EINVAL, 0, false, NULL, 0, 0},
        {T1 " stdout F", -EINVAL, 0, false, NULL, 0, 0},
        {"", -EINVAL, 0, false, NULL, 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct kl_cri_line l;
        int rc = kl_cri_parse(cases[i].line, strlen(cases[i].line), &l);
        assert_int_equal(rc, cases[i].rc);
        if (rc < 0)
            continue;
        assert_int_equal(l.stream, cases[i].stream);
        assert_int_equal(l.partial, cases[i].partial);
        assert_int_equal(l.msg_len, strlen(cases[i].msg));
        assert_memory_equal(l.msg, cases[i].msg, l.msg_len);
        assert_int_equal(l.ts.tv_sec, cases[i].sec);
        assert_int_equal(l.ts.tv_nsec, cases[i].nsec);
    }
    assert_int_equal(kl_cri_parse(NULL, 0, NULL), -EINVAL);
}

/* ---- the reader ---- */

static const char FILE1[] = T1 " stdout F one\n" T1 " stderr F two\n" T2 " stdout P thr\n" T2
                               " stdout P e\n" T2 " stdout F e!\n"
                               "not a cri line\n" T3 " stdout F four\n";

struct reader_case {
    const char *name;
    const char *file;
    struct kl_log_opts opts;
    const char *want;
};

/* everything at once, byte by byte, and in 7-byte chunks must give the same output */
static void run_reader(const struct reader_case *c)
{
    size_t chunks[] = {0, 1, 7};
    for (size_t k = 0; k < 3; k++) {
        struct kl_log_reader r;
        kl_log_reader_init(&r, &c->opts);
        CK_AUTOBUF struct ck_buf out = CK_BUF_INIT;
        size_t len = strlen(c->file), off = 0;
        int stop = 0;
        while (off < len && !stop) {
            size_t n = chunks[k] ? chunks[k] : len;
            if (n > len - off)
                n = len - off;
            stop = kl_log_reader_feed(&r, c->file + off, n, &out);
            off += n;
        }
        if (!stop)
            stop = kl_log_reader_finish(&r, &out);
        if (strcmp(ck_buf_str(&out), c->want) != 0)
            fail_msg("%s (chunk %zu): got \"%s\" want \"%s\"", c->name, chunks[k], ck_buf_str(&out),
                     c->want);
        assert_int_equal(stop, c->opts.limit_bytes > 0 && out.len >= (size_t)c->opts.limit_bytes);
        kl_log_reader_free(&r);
    }
}

static void reader_table(void **state)
{
    (void)state;
    struct timespec t2 = {1475713030, 1};
    struct timespec t2_later = {1475713030, 2};
    const struct reader_case cases[] = {
        {"plain: stdout and stderr merged, partials joined, bad lines skipped",
         FILE1,
         {.tail_lines = -1},
         "one\ntwo\nthree!\nfour\n"},
        {"timestamps once per line, nine digits even for a short fraction",
         FILE1,
         {.tail_lines = -1, .timestamps = true},
         T1 " one\n" T1 " two\n" T2 " three!\n2016-10-06T00:17:11.500000000Z four\n"},
        {"since keeps lines at or after the time",
         FILE1,
         {.tail_lines = -1, .has_since = true, .since = t2},
         "three!\nfour\n"},
        {"since one nanosecond later drops them",
         FILE1,
         {.tail_lines = -1, .has_since = true, .since = t2_later},
         "four\n"},
        {"limit cuts inside a line", FILE1, {.tail_lines = -1, .limit_bytes = 6}, "one\ntw"},
        {"limit counts timestamps",
         FILE1,
         {.tail_lines = -1, .limit_bytes = 33, .timestamps = true},
         T1 " on"},
        {"limit larger than the output",
         FILE1,
         {.tail_lines = -1, .limit_bytes = 1000},
         "one\ntwo\nthree!\nfour\n"},
        {"limit exactly the output",
         FILE1,
         {.tail_lines = -1, .limit_bytes = 20},
         "one\ntwo\nthree!\nfour\n"},
        {"a last line without newline is read at the end",
         T1 " stdout F one\n" T1 " stdout F tw",
         {.tail_lines = -1},
         "one\ntw"},
        {"a trailing partial line stays without newline",
         T1 " stdout P no newline\n",
         {.tail_lines = -1},
         "no newline"},
        {"CRLF content is kept as written", T1 " stdout F a\r\n", {.tail_lines = -1}, "a\r\n"},
        {"empty file", "", {.tail_lines = -1}, ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_reader(&cases[i]);
}

static void reader_drops_overlong_raw_lines(void **state)
{
    (void)state;
    struct kl_log_opts o = {.tail_lines = -1};
    struct kl_log_reader r;
    kl_log_reader_init(&r, &o);
    CK_AUTOBUF struct ck_buf out = CK_BUF_INIT;
    const char *head = T1 " stdout F ";
    kl_log_reader_feed(&r, head, strlen(head), &out);
    char *junk = malloc(KL_LOG_MAX_RAW_LINE);
    assert_non_null(junk);
    memset(junk, 'x', KL_LOG_MAX_RAW_LINE);
    kl_log_reader_feed(&r, junk, KL_LOG_MAX_RAW_LINE, &out);
    kl_log_reader_feed(&r, junk, 100, &out);
    free(junk);
    assert_true(r.pending.len <= KL_LOG_MAX_RAW_LINE);
    const char *rest = "\n" T1 " stdout F after\n";
    kl_log_reader_feed(&r, rest, strlen(rest), &out);
    kl_log_reader_finish(&r, &out);
    assert_string_equal(ck_buf_str(&out), "after\n");
    kl_log_reader_free(&r);
}

static void reader_stops_feeding_after_limit(void **state)
{
    (void)state;
    struct kl_log_opts o = {.tail_lines = -1, .limit_bytes = 3};
    struct kl_log_reader r;
    kl_log_reader_init(&r, &o);
    CK_AUTOBUF struct ck_buf out = CK_BUF_INIT;
    assert_int_equal(kl_log_reader_feed(&r, FILE1, strlen(FILE1), &out), 1);
    assert_int_equal(kl_log_reader_feed(&r, FILE1, strlen(FILE1), &out), 1);
    assert_int_equal(kl_log_reader_finish(&r, &out), 1);
    assert_string_equal(ck_buf_str(&out), "one");
    kl_log_reader_free(&r);
}

/* ---- tail ---- */

static int temp_file(const char *text)
{
    char path[] = "/tmp/ck_test_kubelet_logs_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t n = write(fd, text + off, len - off);
        assert_true(n > 0);
        off += (size_t)n;
    }
    return fd;
}

static void tail_offset_table(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int64_t n;
        const char *from; /* what the file holds from the offset */
    } cases[] = {
        {"a\nb\nc\n", 2, "b\nc\n"},
        {"a\nb\nc\n", 1, "c\n"},
        {"a\nb\nc\n", 0, ""},
        {"a\nb\nc\n", 3, "a\nb\nc\n"},
        {"a\nb\nc\n", 10, "a\nb\nc\n"},
        {"a\nb\nc\n", -1, "a\nb\nc\n"},
        /* as upstream: an unfinished last line comes on top of the n counted ones */
        {"a\nb\nc", 1, "b\nc"},
        {"a\nb\nc", 2, "a\nb\nc"},
        {"a\nb\nc", 0, "c"},
        {"", 5, ""},
        {"\n\n\n", 1, "\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int fd = temp_file(cases[i].text);
        off_t off = -1;
        assert_int_equal(kl_log_tail_offset(fd, cases[i].n, &off), 0);
        size_t len = strlen(cases[i].text);
        assert_true(off >= 0 && (size_t)off <= len);
        assert_string_equal(cases[i].text + off, cases[i].from);
        close(fd);
    }
}

/* a tail that crosses the 8 KiB blocks it reads backwards */
static void tail_offset_spans_blocks(void **state)
{
    (void)state;
    CK_AUTOBUF struct ck_buf b = CK_BUF_INIT;
    for (int i = 0; i < 5000; i++)
        ck_buf_printf(&b, T1 " stdout F line %d\n", i);
    int fd = temp_file(ck_buf_str(&b));
    off_t off = 0;
    assert_int_equal(kl_log_tail_offset(fd, 1000, &off), 0);
    assert_true(off > 8192);
    struct kl_log_opts o = {.tail_lines = 1000};
    struct kl_log_reader r;
    kl_log_reader_init(&r, &o);
    CK_AUTOBUF struct ck_buf out = CK_BUF_INIT;
    kl_log_reader_feed(&r, b.data + off, b.len - (size_t)off, &out);
    kl_log_reader_finish(&r, &out);
    assert_true(strncmp(ck_buf_str(&out), "line 4000\nline 4001\n", 20) == 0);
    size_t lines = 0;
    for (size_t i = 0; i < out.len; i++)
        lines += out.data[i] == '\n';
    assert_int_equal(lines, 1000);
    kl_log_reader_free(&r);
    assert_int_equal(kl_log_tail_offset(-1, 3, &off), -EBADF);
    close(fd);
}

/* partial pieces count as lines for tail, as upstream counts file lines */
static void tail_counts_partial_pieces(void **state)
{
    (void)state;
    int fd = temp_file(T1 " stdout F first\n" T1 " stdout P sec\n" T1 " stdout F ond\n");
    off_t off = 0;
    assert_int_equal(kl_log_tail_offset(fd, 1, &off), 0);
    char buf[256];
    ssize_t n = pread(fd, buf, sizeof(buf), off);
    assert_true(n > 0);
    struct kl_log_opts o = {.tail_lines = 1};
    struct kl_log_reader r;
    kl_log_reader_init(&r, &o);
    CK_AUTOBUF struct ck_buf out = CK_BUF_INIT;
    kl_log_reader_feed(&r, buf, (size_t)n, &out);
    kl_log_reader_finish(&r, &out);
    assert_string_equal(ck_buf_str(&out), "ond\n");
    kl_log_reader_free(&r);
    close(fd);
}

/* ---- which container run ---- */

static void container_id_table(void **state)
{
    (void)state;
    static const char POD[] =
        "{\"metadata\":{\"name\":\"p\"},\"status\":{"
        "\"initContainerStatuses\":[{\"name\":\"init\",\"containerID\":\"runc://i1\","
        "\"state\":{\"terminated\":{\"exitCode\":0,\"containerID\":\"runc://"
        "i1\"}},\"lastState\":{}}],"
        "\"containerStatuses\":["
        "{\"name\":\"run\",\"containerID\":\"runc://r2\",\"state\":{\"running\":{}},"
        "\"lastState\":{\"terminated\":{\"containerID\":\"runc://r1\"}}},"
        "{\"name\":\"fresh\",\"containerID\":\"runc://"
        "f1\",\"state\":{\"running\":{}},\"lastState\":{}},"
        "{\"name\":\"crash\",\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}},"
        "\"lastState\":{\"terminated\":{\"containerID\":\"runc://c3\"}}},"
        "{\"name\":\"done\",\"state\":{\"terminated\":{\"containerID\":\"\"}},"
        "\"lastState\":{\"terminated\":{\"containerID\":\"runc://d1\"}}},"
        "{\"name\":\"gone\",\"state\":{\"terminated\":{\"exitCode\":1}},\"lastState\":{}},"
        "{\"name\":\"creating\",\"state\":{\"waiting\":{\"reason\":\"ContainerCreating\"}},"
        "\"lastState\":{}},"
        "{\"name\":\"pull\",\"state\":{\"waiting\":{\"reason\":\"ErrImagePull\"}}},"
        "{\"name\":\"backoff\",\"state\":{\"waiting\":{\"reason\":\"ImagePullBackOff\"}}},"
        "{\"name\":\"nostate\",\"state\":{}}]}}";
    static const struct {
        const char *container;
        bool previous;
        const char *id;  /* NULL: error */
        const char *msg; /* the error */
    } cases[] = {
        {"run", false, "r2", NULL},
        {"run", true, "r1", NULL},
        {"init", false, "i1", NULL},
        {"crash", false, "c3", NULL}, /* a crash-looping container shows its last run */
        {"crash", true, "c3", NULL},
        {"done", false, "d1", NULL},
        {"fresh", true, NULL, "previous terminated container \"fresh\" in pod \"p\" not found"},
        {"gone", false, NULL, "container \"gone\" in pod \"p\" is terminated"},
        {"creating", false, NULL,
         "container \"creating\" in pod \"p\" is waiting to start: ContainerCreating"},
        {"pull", false, NULL,
         "container \"pull\" in pod \"p\" is waiting to start: image can't "
         "be pulled"},
        {"backoff", false, NULL,
         "container \"backoff\" in pod \"p\" is waiting to start: trying "
         "and failing to pull image"},
        {"nostate", false, NULL,
         "container \"nostate\" in pod \"p\" is waiting to start - no logs yet"},
        {"nope", false, NULL, "container \"nope\" in pod \"p\" is not available"},
    };
    cJSON *pod = cJSON_Parse(POD);
    assert_non_null(pod);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CK_AUTOBUF struct ck_buf msg = CK_BUF_INIT;
        char *id = NULL;
        int rc = kl_log_container_id(pod, cases[i].container, cases[i].previous, &id, &msg);
        if (cases[i].id) {
            assert_int_equal(rc, 0);
            assert_string_equal(id, cases[i].id);
        } else {
            assert_int_equal(rc, -ENOENT);
            assert_null(id);
            assert_string_equal(ck_buf_str(&msg), cases[i].msg);
        }
        free(id);
    }
    cJSON_Delete(pod);
}

static void format_time_pads_nanoseconds(void **state)
{
    (void)state;
    char out[32];
    struct timespec t = {0, 5};
    kl_log_format_time(&t, out);
    assert_string_equal(out, "1970-01-01T00:00:00.000000005Z");
    t.tv_sec = 1475713029;
    t.tv_nsec = 669794202;
    kl_log_format_time(&t, out);
    assert_string_equal(out, T1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cri_parse_table),
        cmocka_unit_test(reader_table),
        cmocka_unit_test(reader_drops_overlong_raw_lines),
        cmocka_unit_test(reader_stops_feeding_after_limit),
        cmocka_unit_test(tail_offset_table),
        cmocka_unit_test(tail_offset_spans_blocks),
        cmocka_unit_test(tail_counts_partial_pieces),
        cmocka_unit_test(container_id_table),
        cmocka_unit_test(format_time_pads_nanoseconds),
    };
    return cmocka_run_group_tests_name("kubelet_logs", tests, NULL, NULL);
}
