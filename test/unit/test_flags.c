/* Unit tests for flags.c: pflag syntax, values, error messages and help layout. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "flags.h"
#include "log.h"
#include "mem.h"

#define SEC INT64_C(1000000000)

/* ---- the table most cases parse against ---- */

static const char default_name[] = "default";
static const char *def_plugins[] = {"NamespaceLifecycle", "LimitRanger"};

static bool o_priv;
static bool o_quiet;
static bool o_all;
static int o_port = 6443;
static int64_t o_bytes;
static double o_qps = 5;
static const char *o_name = default_name;
static struct ck_flag_strings o_plugins = {def_plugins, 2};
static int64_t o_timeout = 60 * SEC;
static struct ck_flag_map o_labels;
static struct ck_flag_map o_gates;
static const char *o_old;
static bool o_secret;

static struct ck_flag flags[] = {
    CK_BOOL_FLAG("allow-privileged", &o_priv, "If true, allow privileged containers."),
    CK_BOOL_FLAG_P("quiet", 'q', &o_quiet, "Quiet."),
    CK_BOOL_FLAG_P("all", 'a', &o_all, "All."),
    CK_INT_FLAG("secure-port", &o_port, "The port on which to serve HTTPS."),
    CK_INT64_FLAG("max-bytes", &o_bytes, "Max bytes."),
    CK_FLOAT_FLAG("kube-api-qps", &o_qps, "QPS."),
    CK_STRING_FLAG_P("name", 'n', &o_name, "Name."),
    CK_STRINGS_FLAG("enable-admission-plugins", &o_plugins, "Plugins."),
    CK_DURATION_FLAG("request-timeout", &o_timeout, "Timeout."),
    CK_MAP_FLAG("node-labels", &o_labels, "Labels."),
    CK_BOOL_MAP_FLAG("feature-gates", &o_gates, "Gates."),
    CK_STRING_FLAG("old-flag", &o_old, "Old.", .deprecated = "use --name instead"),
    CK_BOOL_FLAG("secret", &o_secret, "Secret.", .hidden = true),
    CK_FLAG_END,
};

static void dump_value(struct ck_buf *b, const struct ck_flag *f)
{
    switch (f->type) {
    case CK_FLAG_BOOL:
        ck_buf_puts(b, *(bool *)f->value ? "true" : "false");
        break;
    case CK_FLAG_INT:
        ck_buf_printf(b, "%d", *(int *)f->value);
        break;
    case CK_FLAG_INT64:
    case CK_FLAG_DURATION:
        ck_buf_printf(b, "%lld", (long long)*(int64_t *)f->value);
        break;
    case CK_FLAG_FLOAT:
        ck_buf_printf(b, "%g", *(double *)f->value);
        break;
    case CK_FLAG_STRING: {
        const char *s = *(const char **)f->value;
        ck_buf_puts(b, s ? s : "(null)");
        break;
    }
    case CK_FLAG_STRINGS: {
        const struct ck_flag_strings *l = f->value;
        ck_buf_putc(b, '[');
        for (size_t i = 0; i < l->n; i++)
            ck_buf_printf(b, "%s%s", i ? "|" : "", l->items[i]);
        ck_buf_putc(b, ']');
        break;
    }
    case CK_FLAG_MAP:
    case CK_FLAG_BOOL_MAP: {
        const struct ck_flag_map *m = f->value;
        ck_buf_putc(b, '{');
        for (size_t i = 0; i < m->n; i++)
            ck_buf_printf(b, "%s%s=%s", i ? "," : "", m->keys[i], m->values[i]);
        ck_buf_putc(b, '}');
        break;
    }
    }
}

/* "name=value" for each flag the command line changed (table order), "+arg" per positional,
 * "dash=N" after "--", "help", "v=N" for a changed verbosity. */
static char *dump(struct ck_flag *table, const struct ck_flags_result *res)
{
    struct ck_buf b = CK_BUF_INIT;
    for (struct ck_flag *f = table; f->name; f++) {
        if (!ck_flags_changed(table, f->name))
            continue;
        ck_buf_printf(&b, "%s%s=", b.len ? " " : "", f->name);
        dump_value(&b, f);
    }
    for (int i = 0; i < res->nargs; i++)
        ck_buf_printf(&b, "%s+%s", b.len ? " " : "", res->args[i]);
    if (res->args_before_dash >= 0)
        ck_buf_printf(&b, "%sdash=%d", b.len ? " " : "", res->args_before_dash);
    if (res->help)
        ck_buf_printf(&b, "%shelp", b.len ? " " : "");
    if (ck_log_verbosity != 0)
        ck_buf_printf(&b, "%sv=%d", b.len ? " " : "", ck_log_verbosity);
    return ck_buf_detach(&b);
}

struct parse_case {
    const char *args[8]; /* after the program name, NULL-terminated */
    int rc;              /* 0 or the expected negative errno */
    const char *want;    /* dump() on success, err.message on failure */
};

#define OK(w, ...)                                                                                 \
    {                                                                                              \
        {__VA_ARGS__, NULL}, 0, (w)                                                                \
    }
#define BAD(w, ...)                                                                                \
    {                                                                                              \
        {__VA_ARGS__, NULL}, -EINVAL, (w)                                                          \
    }

static const struct parse_case parse_cases[] = {
    /* long forms */
    {{NULL}, 0, ""},
    OK("secure-port=8080", "--secure-port=8080"),
    OK("secure-port=8080", "--secure-port", "8080"),
    OK("secure-port=8080", "--secure_port=8080"),
    OK("secure-port=-1", "--secure-port", "-1"),
    OK("name=--secure-port", "--name", "--secure-port"),
    OK("name=", "--name="),
    OK("name=", "--name", ""),
    OK("name=a=b", "--name=a=b"),
    OK("name=y", "--name=x", "--name=y"),
    BAD("unknown flag: --foo", "--foo"),
    BAD("unknown flag: --foo", "--foo=bar"),
    BAD("unknown flag: --foo", "--name=x", "--foo"),
    BAD("flag needs an argument: --secure-port", "--secure-port"),
    BAD("bad flag syntax: ---x", "---x"),
    BAD("bad flag syntax: --=x", "--=x"),
    /* booleans: pflag's ParseBool set, never a separate argument */
    OK("allow-privileged=true", "--allow-privileged"),
    OK("allow-privileged=false", "--allow-privileged=false"),
    OK("allow-privileged=true", "--allow-privileged=1"),
    OK("allow-privileged=true", "--allow-privileged=t"),
    OK("allow-privileged=true", "--allow-privileged=T"),
    OK("allow-privileged=true", "--allow-privileged=TRUE"),
    OK("allow-privileged=true", "--allow-privileged=True"),
    OK("allow-privileged=false", "--allow-privileged=0"),
    OK("allow-privileged=false", "--allow-privileged=f"),
    OK("allow-privileged=false", "--allow-privileged=F"),
    OK("allow-privileged=false", "--allow-privileged=FALSE"),
    OK("allow-privileged=false", "--allow-privileged=False"),
    OK("allow-privileged=true +false", "--allow-privileged", "false"),
    BAD("invalid argument \"tRUE\" for \"--allow-privileged\" flag: strconv.ParseBool: parsing "
        "\"tRUE\": invalid syntax",
        "--allow-privileged=tRUE"),
    BAD("invalid argument \"\" for \"--allow-privileged\" flag: strconv.ParseBool: parsing \"\": "
        "invalid syntax",
        "--allow-privileged="),
    /* shorthands */
    OK("quiet=true", "-q"),
    OK("quiet=true all=true", "-qa"),
    OK("quiet=false", "-q=false"),
    OK("quiet=true all=false", "-q", "-a=0"),
    OK("name=foo", "-n=foo"),
    OK("name=foo", "-n", "foo"),
    OK("name=foo", "-nfoo"),
    OK("quiet=true name=foo", "-qnfoo"),
    OK("name==", "-n="),
    BAD("unknown shorthand flag: 'x' in -x", "-x"),
    BAD("unknown shorthand flag: 'x' in -xy", "-qxy"),
    BAD("flag needs an argument: 'n' in -n", "-n"),
    BAD("flag needs an argument: 'n' in -n", "-qn"),
    /* integers: Go ParseInt base 0 */
    OK("secure-port=31", "--secure-port=0x1F"),
    OK("max-bytes=15", "--max-bytes=0o17"),
    OK("max-bytes=8", "--max-bytes=010"),
    OK("max-bytes=1000000", "--max-bytes=1_000_000"),
    OK("max-bytes=-5", "--max-bytes=-0b101"),
    OK("max-bytes=-9223372036854775808", "--max-bytes=-9223372036854775808"),
    BAD("invalid argument \"x\" for \"--secure-port\" flag: strconv.ParseInt: parsing \"x\": "
        "invalid syntax",
        "--secure-port=x"),
    BAD("invalid argument \"2147483648\" for \"--secure-port\" flag: strconv.ParseInt: parsing "
        "\"2147483648\": value out of range",
        "--secure-port=2147483648"),
    BAD("invalid argument \"9223372036854775808\" for \"--max-bytes\" flag: strconv.ParseInt: "
        "parsing \"9223372036854775808\": value out of range",
        "--max-bytes=9223372036854775808"),
    BAD("invalid argument \"1__0\" for \"--max-bytes\" flag: strconv.ParseInt: parsing \"1__0\": "
        "invalid syntax",
        "--max-bytes=1__0"),
    BAD("invalid argument \"0x\" for \"--max-bytes\" flag: strconv.ParseInt: parsing \"0x\": "
        "invalid syntax",
        "--max-bytes=0x"),
    BAD("invalid argument \"08\" for \"--max-bytes\" flag: strconv.ParseInt: parsing \"08\": "
        "invalid syntax",
        "--max-bytes=08"),
    BAD("invalid argument \" 1\" for \"--max-bytes\" flag: strconv.ParseInt: parsing \" 1\": "
        "invalid syntax",
        "--max-bytes= 1"),
    BAD("invalid argument \"a\\\"b\\n\" for \"--secure-port\" flag: strconv.ParseInt: parsing "
        "\"a\\\"b\\n\": invalid syntax",
        "--secure-port=a\"b\n"),
    /* floats: Go ParseFloat */
    OK("kube-api-qps=1500", "--kube-api-qps=1.5e3"),
    OK("kube-api-qps=0.25", "--kube-api-qps=0x1p-2"),
    OK("kube-api-qps=10.5", "--kube-api-qps=1_0.5"),
    OK("kube-api-qps=-inf", "--kube-api-qps=-Inf"),
    BAD("invalid argument \"abc\" for \"--kube-api-qps\" flag: strconv.ParseFloat: parsing "
        "\"abc\": invalid syntax",
        "--kube-api-qps=abc"),
    BAD("invalid argument \"0x1.8\" for \"--kube-api-qps\" flag: strconv.ParseFloat: parsing "
        "\"0x1.8\": invalid syntax",
        "--kube-api-qps=0x1.8"),
    BAD("invalid argument \"1e\" for \"--kube-api-qps\" flag: strconv.ParseFloat: parsing "
        "\"1e\": invalid syntax",
        "--kube-api-qps=1e"),
    BAD("invalid argument \"1e400\" for \"--kube-api-qps\" flag: strconv.ParseFloat: parsing "
        "\"1e400\": value out of range",
        "--kube-api-qps=1e400"),
    /* durations: Go time.ParseDuration */
    OK("request-timeout=330000000000", "--request-timeout=5m30s"),
    OK("request-timeout=5400000000000", "--request-timeout=1.5h"),
    OK("request-timeout=300000000", "--request-timeout=300ms"),
    OK("request-timeout=0", "--request-timeout=0"),
    OK("request-timeout=-60000000000", "--request-timeout=-1m"),
    OK("request-timeout=3723500000000", "--request-timeout=1h2m3.5s"),
    OK("request-timeout=500000000", "--request-timeout=.5s"),
    OK("request-timeout=2000", "--request-timeout=2us"),
    OK("request-timeout=1000", "--request-timeout=1\xc2\xb5s"),
    OK("request-timeout=3", "--request-timeout=3ns"),
    BAD("invalid argument \"x\" for \"--request-timeout\" flag: time: invalid duration \"x\"",
        "--request-timeout=x"),
    BAD("invalid argument \"5d\" for \"--request-timeout\" flag: time: unknown unit \"d\" in "
        "duration \"5d\"",
        "--request-timeout=5d"),
    BAD("invalid argument \"5\" for \"--request-timeout\" flag: time: missing unit in duration "
        "\"5\"",
        "--request-timeout=5"),
    BAD("invalid argument \"\" for \"--request-timeout\" flag: time: invalid duration \"\"",
        "--request-timeout="),
    BAD("invalid argument \".\" for \"--request-timeout\" flag: time: invalid duration \".\"",
        "--request-timeout=."),
    BAD("invalid argument \"3000000h\" for \"--request-timeout\" flag: time: invalid duration "
        "\"3000000h\"",
        "--request-timeout=3000000h"),
    BAD("invalid argument \"5\xc3\xa9\" for \"--request-timeout\" flag: time: unknown unit "
        "\"\\xc3\\xa9\" in duration \"5\\xc3\\xa9\"",
        "--request-timeout=5\xc3\xa9"),
    /* string lists: CSV per use, first use replaces the default, later uses append */
    OK("enable-admission-plugins=[a|b|c]", "--enable-admission-plugins=a,b",
       "--enable-admission-plugins", "c"),
    OK("enable-admission-plugins=[x]", "--enable-admission-plugins=x"),
    OK("enable-admission-plugins=[]", "--enable-admission-plugins="),
    OK("enable-admission-plugins=[a]",
       "--enable-admission-plugins=", "--enable-admission-plugins=a"),
    OK("enable-admission-plugins=[a,b|c]", "--enable-admission-plugins=\"a,b\",c"),
    OK("enable-admission-plugins=[a| b]", "--enable-admission-plugins=a, b"),
    OK("enable-admission-plugins=[a\"b]", "--enable-admission-plugins=\"a\"\"b\""),
    OK("enable-admission-plugins=[a|]", "--enable-admission-plugins=a,"),
    BAD("invalid argument \"a\\\"b\" for \"--enable-admission-plugins\" flag: parse error on "
        "line 1, column 2: bare \" in non-quoted-field",
        "--enable-admission-plugins=a\"b"),
    BAD("invalid argument \"\\\"ab\" for \"--enable-admission-plugins\" flag: parse error on "
        "line 1, column 4: extraneous or missing \" in quoted-field",
        "--enable-admission-plugins=\"ab"),
    BAD("invalid argument \"\\\"a\\\"b\" for \"--enable-admission-plugins\" flag: parse error on "
        "line 1, column 3: extraneous or missing \" in quoted-field",
        "--enable-admission-plugins=\"a\"b"),
    BAD("invalid argument \"\\n\" for \"--enable-admission-plugins\" flag: EOF",
        "--enable-admission-plugins=\n"),
    /* key=value maps */
    OK("node-labels={a=b,c=d,e=f}", "--node-labels=a=b,c=d", "--node-labels", " e = f "),
    OK("node-labels={a=2}", "--node-labels=a=1,a=2"),
    OK("node-labels={a=b}", "--node-labels=,a=b,"),
    OK("node-labels={k=v=w}", "--node-labels=k=v=w"),
    BAD("invalid argument \"a\" for \"--node-labels\" flag: malformed pair, expect string=string",
        "--node-labels=a"),
    OK("feature-gates={A=true,B=false}", "--feature-gates=A=true,B=false"),
    OK("feature-gates={A=false}", "--feature-gates=A=1", "--feature-gates=A=f"),
    BAD("invalid argument \"A=yes\" for \"--feature-gates\" flag: invalid value of A: yes, err: "
        "strconv.ParseBool: parsing \"yes\": invalid syntax",
        "--feature-gates=A=yes"),
    BAD("invalid argument \"A\" for \"--feature-gates\" flag: malformed pair, expect string=bool",
        "--feature-gates=A"),
    /* positional arguments and "--" */
    OK("+--secure-port=1 +-q dash=0", "--", "--secure-port=1", "-q"),
    OK("quiet=true +a +b +c dash=2", "a", "--quiet", "b", "--", "c"),
    OK("+-", "-"),
    OK("+", ""),
    OK("+-- dash=0", "--", "--"),
    /* built-ins: --help/-h and klog's --v/-v */
    OK("help", "--help"),
    OK("help", "-h"),
    OK("", "--help=false"),
    OK("quiet=true help", "-qh"),
    BAD("unknown flag: --foo", "--help", "--foo"),
    OK("v=4", "-v=4"),
    OK("v=4", "-v", "4"),
    OK("v=2", "--v=2"),
    OK("v=3", "-v3"),
    BAD("invalid argument \"x\" for \"-v, --v\" flag: strconv.ParseInt: parsing \"x\": invalid "
        "syntax",
        "-v=x"),
    BAD("flag needs an argument: 'v' in -v", "-v"),
    /* deprecated and hidden flags still parse */
    OK("old-flag=x", "--old-flag=x"),
    OK("secret=true", "--secret"),
};

static void defaults_are_back(void)
{
    assert_false(o_priv || o_quiet || o_all || o_secret);
    assert_int_equal(o_port, 6443);
    assert_int_equal(o_bytes, 0);
    assert_true(o_qps == 5);
    assert_ptr_equal(o_name, default_name);
    assert_ptr_equal(o_plugins.items, def_plugins);
    assert_int_equal(o_plugins.n, 2);
    assert_int_equal(o_timeout, 60 * SEC);
    assert_int_equal(o_labels.n, 0);
    assert_int_equal(o_gates.n, 0);
    assert_null(o_old);
    assert_false(ck_flags_changed(flags, "secure-port"));
}

static void parse_cases_match_pflag(void **state)
{
    (void)state;
    for (size_t i = 0; i < CK_ARRAY_SIZE(parse_cases); i++) {
        const struct parse_case *c = &parse_cases[i];
        char *argv[12];
        int argc = 0;
        argv[argc++] = (char *)"kube-test";
        for (size_t j = 0; c->args[j]; j++)
            argv[argc++] = (char *)c->args[j];
        argv[argc] = NULL;
        struct ck_flags_result res;
        struct ck_error err = CK_ERROR_INIT;
        ck_log_set_verbosity(0);
        int rc = ck_flags_parse(flags, argc, argv, &res, &err);
        CK_AUTOFREE char *got = rc == 0 ? dump(flags, &res) : ck_xstrdup(err.message);
        if (rc != c->rc || strcmp(got, c->want) != 0)
            print_message("case %zu (%s): rc %d, got \"%s\"\n", i, c->args[0] ? c->args[0] : "", rc,
                          got);
        assert_int_equal(rc, c->rc);
        assert_string_equal(got, c->want);
        if (rc < 0)
            assert_int_equal(err.code, 400);
        assert_string_equal(argv[0], "kube-test");
        ck_flags_free(flags);
        ck_log_set_verbosity(0);
        defaults_are_back();
        ck_error_clear(&err);
    }
}

/* Changed, lookup by either word separator, map accessors; parsed strings are copies. */
static void parsed_values_are_owned_copies(void **state)
{
    (void)state;
    char port[] = "--secure-port=7";
    char name[] = "--name=foo";
    char labels[] = "--feature-gates=A=true,B=0";
    char plugins[] = "--enable-admission-plugins=x,y";
    char *argv[] = {(char *)"p", port, name, labels, plugins, NULL};
    struct ck_flags_result res;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(ck_flags_parse(flags, 5, argv, &res, &err), 0);
    memset(name, 'X', strlen(name));
    memset(plugins, 'X', strlen(plugins));
    assert_string_equal(o_name, "foo");
    assert_string_equal(o_plugins.items[1], "y");
    assert_string_equal(def_plugins[0], "NamespaceLifecycle"); /* default not overwritten */
    assert_true(ck_flags_changed(flags, "secure-port"));
    assert_true(ck_flags_changed(flags, "secure_port"));
    assert_false(ck_flags_changed(flags, "max-bytes"));
    assert_false(ck_flags_changed(flags, "no-such-flag"));
    assert_ptr_equal(ck_flags_lookup(flags, "kube_api_qps"), &flags[5]);
    assert_null(ck_flags_lookup(flags, "kube"));
    bool b = false;
    assert_int_equal(ck_flag_map_get_bool(&o_gates, "A", &b), 0);
    assert_true(b);
    assert_int_equal(ck_flag_map_get_bool(&o_gates, "B", &b), 0);
    assert_false(b);
    assert_int_equal(ck_flag_map_get_bool(&o_gates, "C", &b), -ENOENT);
    assert_string_equal(ck_flag_map_get(&o_gates, "B"), "false");
    assert_null(ck_flag_map_get(&o_labels, "A"));
    assert_int_equal(res.nargs, 0);
    assert_int_equal(res.args_before_dash, -1);
    ck_flags_free(flags);
    defaults_are_back();
}

/* A table that declares `v`/`help` itself shadows the built-in, and malformed tables fail. */
static void table_rules(void **state)
{
    (void)state;
    int mine = 0;
    bool verbose = false;
    struct ck_flag own[] = {
        CK_INT_FLAG("v", &mine, "my v"),
        CK_BOOL_FLAG_P("verbose", 'h', &verbose, "takes -h"),
        CK_FLAG_END,
    };
    char *argv[] = {(char *)"p", (char *)"--v=3", (char *)"-h", NULL};
    struct ck_flags_result res;
    struct ck_error err = CK_ERROR_INIT;
    ck_log_set_verbosity(0);
    assert_int_equal(ck_flags_parse(own, 3, argv, &res, &err), 0);
    assert_int_equal(mine, 3);
    assert_int_equal(ck_log_verbosity, 0);
    assert_true(verbose);
    assert_false(res.help);
    char *argv2[] = {(char *)"p", (char *)"--help", NULL};
    assert_int_equal(ck_flags_parse(own, 2, argv2, &res, &err), 0);
    assert_true(res.help);
    ck_flags_free(own);
    assert_int_equal(mine, 0);

    int x = 0, y = 0;
    struct ck_flag dup[] = {CK_INT_FLAG("a-b", &x, ""), CK_INT_FLAG("a_b", &y, ""), CK_FLAG_END};
    assert_int_equal(ck_flags_parse(dup, 1, argv, &res, &err), -EINVAL);
    assert_string_equal(err.message, "flag redefined: a_b");
    struct ck_flag dup_short[] = {CK_INT_FLAG_P("a", 'x', &x, ""), CK_INT_FLAG_P("b", 'x', &y, ""),
                                  CK_FLAG_END};
    assert_int_equal(ck_flags_parse(dup_short, 1, argv, &res, &err), -EINVAL);
    assert_string_equal(err.message,
                        "unable to redefine 'x' shorthand: it's already used for \"a\" flag");
    struct ck_flag no_value[] = {{.name = "a", .type = CK_FLAG_INT}, CK_FLAG_END};
    assert_int_equal(ck_flags_parse(no_value, 1, argv, &res, &err), -EINVAL);
    assert_string_equal(err.message, "invalid flag definition: a");
    ck_error_clear(&err);
}

/* ---- help text ---- */

static int u_port = 6443;
static const char *u_bind = "0.0.0.0";
static bool u_priv;
static bool u_on = true;
static int64_t u_timeout = 5 * 60 * SEC;
static int64_t u_sync;
static const char *u_plugins_def[] = {"NamespaceLifecycle", "LimitRanger"};
static struct ck_flag_strings u_plugins = {u_plugins_def, 2};
static struct ck_flag_strings u_disabled;
static double u_qps = 5;
static struct ck_flag_map u_labels;
static const char *u_gate_keys[] = {"B", "A"};
static const char *u_gate_values[] = {"false", "true"};
static struct ck_flag_map u_gates = {u_gate_keys, u_gate_values, 2};
static const char *u_config;
static const char *u_old = "x";
static bool u_secret = true;
static int64_t u_bytes = 10;
static const char *u_output = "";

static struct ck_flag usage_flags[] = {
    CK_INT_FLAG("secure-port", &u_port, "The port on which to serve HTTPS."),
    CK_STRING_FLAG("bind-address", &u_bind, "The IP address on which to listen."),
    CK_BOOL_FLAG("allow-privileged", &u_priv, "If true, allow privileged containers."),
    CK_BOOL_FLAG("enable-x", &u_on, "Enable x."),
    CK_DURATION_FLAG("request-timeout", &u_timeout, "Request timeout."),
    CK_DURATION_FLAG("sync-period", &u_sync, "Sync period."),
    CK_STRINGS_FLAG("enable-admission-plugins", &u_plugins,
                    "admission plugins that should be enabled."),
    CK_STRINGS_FLAG("disable-admission-plugins", &u_disabled,
                    "admission plugins that should be disabled."),
    CK_FLOAT_FLAG("kube-api-qps", &u_qps, "QPS to use."),
    CK_MAP_FLAG("node-labels", &u_labels, "Labels to add."),
    CK_BOOL_MAP_FLAG("feature-gates", &u_gates, "A set of key=value pairs."),
    CK_STRING_FLAG("config", &u_config, "The path to the configuration `file`."),
    CK_STRING_FLAG("old", &u_old, "Old.", .deprecated = "use --new"),
    CK_BOOL_FLAG("secret", &u_secret, "Secret.", .hidden = true),
    CK_INT64_FLAG("max-bytes", &u_bytes, "Max bytes.\nSecond line."),
    CK_STRING_FLAG_P("output", 'o', &u_output, "Output format."),
    CK_FLAG_END,
};

static const char usage_want[] =
    "      --allow-privileged                    If true, allow privileged containers.\n"
    "      --bind-address string                 The IP address on which to listen. (default "
    "\"0.0.0.0\")\n"
    "      --config file                         The path to the configuration file.\n"
    "      --disable-admission-plugins strings   admission plugins that should be disabled.\n"
    "      --enable-admission-plugins strings    admission plugins that should be enabled. "
    "(default [NamespaceLifecycle,LimitRanger])\n"
    "      --enable-x                            Enable x. (default true)\n"
    "      --feature-gates mapStringBool         A set of key=value pairs. (default "
    "A=true,B=false)\n"
    "  -h, --help                                help for kube-test\n"
    "      --kube-api-qps float                  QPS to use. (default 5)\n"
    "      --max-bytes int                       Max bytes.\n"
    "                                            Second line. (default 10)\n"
    "      --node-labels mapStringString         Labels to add.\n"
    "  -o, --output string                       Output format.\n"
    "      --request-timeout duration            Request timeout. (default 5m0s)\n"
    "      --secure-port int                     The port on which to serve HTTPS. (default "
    "6443)\n"
    "      --sync-period duration                Sync period.\n"
    "  -v, --v Level                             number for the log level verbosity\n";

static void usage_matches_pflag_layout(void **state)
{
    (void)state;
    CK_AUTOBUF struct ck_buf before = CK_BUF_INIT;
    ck_flags_format_usage(usage_flags, "kube-test", &before);
    assert_string_equal(ck_buf_str(&before), usage_want);

    /* parsed values do not leak into the defaults shown */
    char *argv[] = {(char *)"p", (char *)"--secure-port=1", (char *)"--enable-admission-plugins=z",
                    (char *)"--bind-address=::", NULL};
    struct ck_flags_result res;
    struct ck_error err = CK_ERROR_INIT;
    assert_int_equal(ck_flags_parse(usage_flags, 4, argv, &res, &err), 0);
    assert_int_equal(u_port, 1);
    CK_AUTOBUF struct ck_buf after = CK_BUF_INIT;
    ck_flags_format_usage(usage_flags, "kube-test", &after);
    assert_string_equal(ck_buf_str(&after), usage_want);
    ck_flags_free(usage_flags);
    assert_string_equal(u_bind, "0.0.0.0");

    /* the FILE* variant writes the same text */
    char *mem = NULL;
    size_t memlen = 0;
    FILE *f = open_memstream(&mem, &memlen);
    assert_non_null(f);
    assert_int_equal(ck_flags_usage(usage_flags, "kube-test", f), 0);
    fclose(f);
    assert_string_equal(mem, usage_want);
    free(mem);
    ck_flags_free(usage_flags);
}

/* How each type's default is shown: Go's Duration.String, FormatFloat('g', -1), CSV lists,
 * %q strings, sorted map pairs; zero values are not shown. */
struct default_case {
    enum ck_flag_type type;
    void *value;
    const char *want; /* text inside "(default ...)", NULL when no default is shown */
};

static const struct default_case default_cases[] = {
    {CK_FLAG_DURATION, &(int64_t){5 * 60 * SEC}, "5m0s"},
    {CK_FLAG_DURATION, &(int64_t){90 * 60 * SEC}, "1h30m0s"},
    {CK_FLAG_DURATION, &(int64_t){60 * 60 * SEC}, "1h0m0s"},
    {CK_FLAG_DURATION, &(int64_t){1500 * 1000 * 1000}, "1.5s"},
    {CK_FLAG_DURATION, &(int64_t){300 * 1000 * 1000}, "300ms"},
    {CK_FLAG_DURATION, &(int64_t){1000}, "1\xc2\xb5s"},
    {CK_FLAG_DURATION, &(int64_t){1500}, "1.5\xc2\xb5s"},
    {CK_FLAG_DURATION, &(int64_t){1}, "1ns"},
    {CK_FLAG_DURATION, &(int64_t){-2 * SEC}, "-2s"},
    {CK_FLAG_DURATION, &(int64_t){INT64_MAX}, "2562047h47m16.854775807s"},
    {CK_FLAG_DURATION, &(int64_t){0}, NULL},
    {CK_FLAG_FLOAT, &(double){0.1}, "0.1"},
    {CK_FLAG_FLOAT, &(double){2.5}, "2.5"},
    {CK_FLAG_FLOAT, &(double){-3}, "-3"},
    {CK_FLAG_FLOAT, &(double){100000}, "100000"},
    {CK_FLAG_FLOAT, &(double){1e6}, "1e+06"},
    {CK_FLAG_FLOAT, &(double){0.0001}, "0.0001"},
    {CK_FLAG_FLOAT, &(double){1.5e-5}, "1.5e-05"},
    {CK_FLAG_FLOAT, &(double){1e21}, "1e+21"},
    {CK_FLAG_FLOAT, &(double){0}, NULL},
    {CK_FLAG_INT, &(int){-1}, "-1"},
    {CK_FLAG_INT, &(int){0}, NULL},
    {CK_FLAG_INT64, &(int64_t){INT64_MIN}, "-9223372036854775808"},
    {CK_FLAG_BOOL, &(bool){true}, "true"},
    {CK_FLAG_BOOL, &(bool){false}, NULL},
    {CK_FLAG_STRING, &(const char *){"a\"b"}, "\"a\\\"b\""},
    {CK_FLAG_STRING, &(const char *){NULL}, NULL},
    {CK_FLAG_STRINGS, &(struct ck_flag_strings){(const char *[]){"a,b", "c"}, 2}, "[\"a,b\",c]"},
    {CK_FLAG_STRINGS, &(struct ck_flag_strings){(const char *[]){"q\"x", " s"}, 2},
     "[\"q\"\"x\",\" s\"]"},
    {CK_FLAG_STRINGS, &(struct ck_flag_strings){NULL, 0}, NULL},
    {CK_FLAG_MAP,
     &(struct ck_flag_map){(const char *[]){"a", "a-b"}, (const char *[]){"1", "2"}, 2},
     "a-b=2,a=1"},
    {CK_FLAG_MAP, &(struct ck_flag_map){NULL, NULL, 0}, NULL},
};

static void defaults_shown_like_pflag(void **state)
{
    (void)state;
    for (size_t i = 0; i < CK_ARRAY_SIZE(default_cases); i++) {
        const struct default_case *c = &default_cases[i];
        struct ck_flag t[] = {{.name = "a-flag", .type = c->type, .value = c->value, .usage = "x"},
                              CK_FLAG_END};
        CK_AUTOBUF struct ck_buf out = CK_BUF_INIT;
        ck_flags_format_usage(t, NULL, &out);
        const char *nl = strchr(ck_buf_str(&out), '\n');
        assert_non_null(nl);
        CK_AUTOFREE char *line = ck_xstrndup(out.data, (size_t)(nl - out.data));
        CK_AUTOFREE char *want =
            c->want ? ck_xasprintf("   x (default %s)", c->want) : ck_xstrdup("   x");
        size_t ll = strlen(line), wl = strlen(want);
        if (ll < wl || strcmp(line + ll - wl, want) != 0)
            print_message("default case %zu: got \"%s\"\n", i, line);
        assert_true(ll >= wl);
        assert_string_equal(line + ll - wl, want);
        ck_flags_free(t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_cases_match_pflag),
        cmocka_unit_test(parsed_values_are_owned_copies),
        cmocka_unit_test(table_rules),
        cmocka_unit_test(usage_matches_pflag_layout),
        cmocka_unit_test(defaults_shown_like_pflag),
    };
    return cmocka_run_group_tests_name("flags", tests, NULL, NULL);
}
