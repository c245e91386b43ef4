/* Unit tests for validation.c: upstream's name/value checks and their exact messages, path
 * segment rules, name functions with generateName masking, field error rendering, and Go-style
 * quoting. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "validation.h"

#define DNS1123_LABEL_ERR                                                                          \
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "   \
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "     \
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
#define DNS1123_SUBDOMAIN_ERR                                                                      \
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "   \
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "  \
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
#define DNS1035_ERR                                                                                \
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "   \
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "           \
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
#define QNAME_PART_ERR                                                                             \
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "  \
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for " \
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
#define LABEL_VALUE_ERR                                                                            \
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "    \
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "             \
    "'my_value',  or '12345', regex used for validation is "                                       \
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
#define ENV_ERR                                                                                    \
    "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', "  \
    "or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or "         \
    "'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')"
#define IP_ERR "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"

typedef int (*check_fn)(const char *, struct ck_errlist *);

/* Runs check(value) and compares the messages, joined by " | ", with `want` ("" = valid). */
static void expect(check_fn check, const char *name, const char *value, const char *want)
{
    CK_AUTOERRLIST struct ck_errlist out = CK_ERRLIST_INIT;
    int n = check(value, &out);
    CK_AUTOFREE char *got = ck_errlist_join(&out, " | ");
    if (strcmp(got, want) != 0)
        fail_msg("%s(\"%s\")\n got: %s\nwant: %s", name, value, got, want);
    assert_int_equal((size_t)n, out.n);
    /* the verdict does not depend on whether messages are collected */
    assert_int_equal(check(value, NULL) == 0, *want == '\0');
}

static char *repeat(char c, size_t n)
{
    char *s = ck_xmalloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void dns_names(void **state)
{
    (void)state;
    CK_AUTOFREE char *a63 = repeat('a', 63);
    CK_AUTOFREE char *a64 = repeat('a', 64);
    CK_AUTOFREE char *a253 = repeat('a', 253);
    CK_AUTOFREE char *a254 = repeat('a', 254);
    for (size_t i = 63; i < 253; i += 64)
        a253[i] = '.'; /* 63-character labels joined by dots */
    for (size_t i = 63; i < 254; i += 64)
        a254[i] = '.';
    static const struct {
        const char *v, *want;
    } label[] = {
        {"my-name", ""},
        {"123-abc", ""},
        {"a", ""},
        {"", DNS1123_LABEL_ERR},
        {"-a", DNS1123_LABEL_ERR},
        {"a-", DNS1123_LABEL_ERR},
        {"My-name", DNS1123_LABEL_ERR},
        {"a.b", DNS1123_LABEL_ERR},
        {"a_b", DNS1123_LABEL_ERR},
        {"\xc3\xa9", DNS1123_LABEL_ERR},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(label); i++)
        expect(ck_is_dns1123_label, "IsDNS1123Label", label[i].v, label[i].want);
    expect(ck_is_dns1123_label, "IsDNS1123Label", a63, "");
    expect(ck_is_dns1123_label, "IsDNS1123Label", a64, "must be no more than 63 characters");

    static const struct {
        const char *v, *want;
    } sub[] = {
        {"example.com", ""},
        {"a.b-c.d1", ""},
        {"1.2.3.4", ""},
        {"Example.com", DNS1123_SUBDOMAIN_ERR},
        {"a..b", DNS1123_SUBDOMAIN_ERR},
        {".a", DNS1123_SUBDOMAIN_ERR},
        {"a.", DNS1123_SUBDOMAIN_ERR},
        {"a.-b", DNS1123_SUBDOMAIN_ERR},
        {"", DNS1123_SUBDOMAIN_ERR},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(sub); i++)
        expect(ck_is_dns1123_subdomain, "IsDNS1123Subdomain", sub[i].v, sub[i].want);
    expect(ck_is_dns1123_subdomain, "IsDNS1123Subdomain", a253, "");
    expect(ck_is_dns1123_subdomain, "IsDNS1123Subdomain", a254,
           "must be no more than 253 characters");
    expect(ck_is_dns1123_subdomain, "IsDNS1123Subdomain", a64, ""); /* labels are not limited */

    expect(ck_is_dns1035_label, "IsDNS1035Label", "abc-123", "");
    expect(ck_is_dns1035_label, "IsDNS1035Label", "1abc", DNS1035_ERR);
    expect(ck_is_dns1035_label, "IsDNS1035Label", "a.b", DNS1035_ERR);
    char long1035[70];
    memset(long1035, 'b', 64);
    long1035[64] = '-';
    long1035[65] = '\0';
    expect(ck_is_dns1035_label, "IsDNS1035Label", long1035,
           "must be no more than 63 characters | " DNS1035_ERR);

    expect(ck_is_wildcard_dns1123_subdomain, "IsWildcardDNS1123Subdomain", "*.example.com", "");
    expect(ck_is_wildcard_dns1123_subdomain, "IsWildcardDNS1123Subdomain", "*.*.example.com",
           "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS "
           "subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and "
           "end with an alphanumeric character (e.g. '*.example.com', regex used for validation "
           "is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
}

static void qualified_names_and_label_values(void **state)
{
    (void)state;
    CK_AUTOFREE char *n63 = repeat('N', 63);
    CK_AUTOFREE char *n64 = repeat('N', 64);
    static const struct {
        const char *v, *want;
    } q[] = {
        {"MyName", ""},
        {"my.name", ""},
        {"123-abc", ""},
        {"example.com/MyName", ""},
        {"kubernetes.io/metadata.name", ""},
        {"a_b", ""},
        {"", "name part must be non-empty | " QNAME_PART_ERR},
        {"-a", QNAME_PART_ERR},
        {"a b", QNAME_PART_ERR},
        {"a/", "name part must be non-empty | " QNAME_PART_ERR},
        {"/a", "prefix part must be non-empty"},
        {"/", "prefix part must be non-empty | name part must be non-empty | " QNAME_PART_ERR},
        {"Ex.com/a", "prefix part " DNS1123_SUBDOMAIN_ERR},
        {"a/b/c",
         "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must "
         "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
         "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') "
         "with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(q); i++)
        expect(ck_is_qualified_name, "IsQualifiedName", q[i].v, q[i].want);
    expect(ck_is_qualified_name, "IsQualifiedName", n63, "");
    expect(ck_is_qualified_name, "IsQualifiedName", n64,
           "name part must be no more than 63 characters");

    static const struct {
        const char *v, *want;
    } lv[] = {
        {"", ""},
        {"MyValue", ""},
        {"my_value", ""},
        {"12345", ""},
        {"1.2.3", ""},
        {"-a", LABEL_VALUE_ERR},
        {"a-", LABEL_VALUE_ERR},
        {"a b", LABEL_VALUE_ERR},
        {"a/b", LABEL_VALUE_ERR},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(lv); i++)
        expect(ck_is_valid_label_value, "IsValidLabelValue", lv[i].v, lv[i].want);
    expect(ck_is_valid_label_value, "IsValidLabelValue", n63, "");
    expect(ck_is_valid_label_value, "IsValidLabelValue", n64, "must be no more than 63 characters");
    n64[63] = '-';
    expect(ck_is_valid_label_value, "IsValidLabelValue", n64,
           "must be no more than 63 characters | " LABEL_VALUE_ERR);
}

static void identifiers_env_names_and_keys(void **state)
{
    (void)state;
    expect(ck_is_c_identifier, "IsCIdentifier", "_my_name1", "");
    expect(ck_is_c_identifier, "IsCIdentifier", "1x",
           "a valid C identifier must start with alphabetic character or '_', followed by a "
           "string of alphanumeric characters or '_' (e.g. 'my_name',  or 'MY_NAME',  or "
           "'MyName', regex used for validation is '[A-Za-z_][A-Za-z0-9_]*')");
    expect(ck_is_c_identifier, "IsCIdentifier", "a-b",
           "a valid C identifier must start with "
           "alphabetic character or '_', followed by a string of alphanumeric characters or '_' "
           "(e.g. 'my_name',  or 'MY_NAME',  or 'MyName', regex used for validation is "
           "'[A-Za-z_][A-Za-z0-9_]*')");

    expect(ck_is_env_var_name, "IsEnvVarName", "MY_ENV.NAME", "");
    expect(ck_is_env_var_name, "IsEnvVarName", "-x", "");
    expect(ck_is_env_var_name, "IsEnvVarName", "1X", ENV_ERR);
    expect(ck_is_env_var_name, "IsEnvVarName", "A=B", ENV_ERR);
    expect(ck_is_env_var_name, "IsEnvVarName", "", ENV_ERR);
    expect(ck_is_env_var_name, "IsEnvVarName", ".", "must not be '.'");
    expect(ck_is_env_var_name, "IsEnvVarName", "..", "must not be '..'");
    expect(ck_is_env_var_name, "IsEnvVarName", "..a", "must not start with '..'");

    expect(ck_is_config_map_key, "IsConfigMapKey", "key.name_1-x", "");
    expect(ck_is_config_map_key, "IsConfigMapKey", "a b",
           "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
           "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
           "'[-._a-zA-Z0-9]+')");
    expect(ck_is_config_map_key, "IsConfigMapKey", "..", "must not be '..'");

    expect(ck_is_valid_percent, "IsValidPercent", "93%", "");
    expect(ck_is_valid_percent, "IsValidPercent", "%",
           "a valid percent string must be a numeric string followed by an ending '%' (e.g. "
           "'1%',  or '93%', regex used for validation is '[0-9]+%')");
    expect(ck_is_http_header_name, "IsHTTPHeaderName", "X-Header-Name", "");
    expect(ck_is_http_header_name, "IsHTTPHeaderName", "X_H",
           "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. "
           "'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')");
}

static void ports(void **state)
{
    (void)state;
    struct ck_errlist e = CK_ERRLIST_INIT;
    assert_int_equal(ck_is_valid_port_num(1, &e), 0);
    assert_int_equal(ck_is_valid_port_num(65535, &e), 0);
    assert_int_equal(ck_is_valid_port_num(0, &e), 1);
    assert_int_equal(ck_is_valid_port_num(65536, &e), 1);
    assert_int_equal(ck_is_valid_port_num(-80, &e), 1);
    assert_int_equal(e.n, 3);
    assert_string_equal(e.items[0], "must be between 1 and 65535, inclusive");
    ck_errlist_free(&e);

    static const struct {
        const char *v, *want;
    } names[] = {
        {"http", ""},
        {"h2c-1", ""},
        {"a", ""},
        {"abcdefghijklmno", ""},
        {"abcdefghijklmnop", "must be no more than 15 characters"},
        {"", "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-) | "
             "must contain at least one letter (a-z)"},
        {"8080", "must contain at least one letter (a-z)"},
        {"HTTP", "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-) | "
                 "must contain at least one letter (a-z)"},
        {"a--b", "must not contain consecutive hyphens"},
        {"-ab", "must not begin or end with a hyphen"},
        {"ab-", "must not begin or end with a hyphen"},
        {"my_port", "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(names); i++)
        expect(ck_is_valid_port_name, "IsValidPortName", names[i].v, names[i].want);
}

static void ip_addresses_as_parse_ip_sloppy(void **state)
{
    (void)state;
    static const struct {
        const char *v;
        int family;
    } cases[] = {
        {"10.9.8.7", 4},
        {"0.0.0.0", 4},
        {"255.255.255.255", 4},
        {"010.001.1.1", 4}, /* leading zeros tolerated (read as decimal) */
        {"2001:db8::ffff", 6},
        {"::", 6},
        {"::1", 6},
        {"1::", 6},
        {"1:2:3:4:5:6:7:8", 6},
        {"1:2:3:4:5:6:7::", 6},
        {"::ffff:1.2.3.4", 6},
        {"1:2:3:4:5:6:1.2.3.4", 6},
        {"FE80::ABCD", 6},
        {"", 0},
        {"1.2.3", 0},
        {"1.2.3.4.5", 0},
        {"256.1.1.1", 0},
        {"1.2.3.-4", 0},
        {" 1.2.3.4", 0},
        {"1.2.3.4 ", 0},
        {"1:2:3:4:5:6:7:8:9", 0},
        {"1:2:3:4:5:6:7:8::", 0},
        {"1::2::3", 0},
        {"12345::", 0},
        {"1:2:3:4:5:1.2.3.4", 0}, /* embedded IPv4 in the wrong place */
        {"fe80::1%eth0", 0},
        {":1", 0},
        {"1:", 0},
        {"localhost", 0},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
        int fam = ck_parse_ip(cases[i].v, NULL);
        if (fam != cases[i].family)
            fail_msg("ck_parse_ip(\"%s\") = %d, want %d", cases[i].v, fam, cases[i].family);
        expect(ck_is_valid_ip, "IsValidIP", cases[i].v, cases[i].family ? "" : IP_ERR);
    }
    unsigned char ip[16];
    assert_int_equal(ck_parse_ip("010.2.3.4", ip), 4);
    static const unsigned char v4[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 2, 3, 4};
    assert_memory_equal(ip, v4, 16);
    assert_int_equal(ck_parse_ip("2001:db8::1:0", ip), 6);
    static const unsigned char v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                         0,    0,    0,    0,    0, 1, 0, 0};
    assert_memory_equal(ip, v6, 16);
}

static void path_segments_and_name_functions(void **state)
{
    (void)state;
    expect(ck_is_valid_path_segment_name, "IsValidPathSegmentName", "a.b", "");
    expect(ck_is_valid_path_segment_name, "IsValidPathSegmentName", "...", "");
    expect(ck_is_valid_path_segment_name, "IsValidPathSegmentName", ".", "may not be '.'");
    expect(ck_is_valid_path_segment_name, "IsValidPathSegmentName", "..", "may not be '..'");
    expect(ck_is_valid_path_segment_name, "IsValidPathSegmentName", "a/b%c",
           "may not contain '/' | may not contain '%'");
    expect(ck_is_valid_path_segment_prefix, "IsValidPathSegmentPrefix", "..", "");
    expect(ck_is_valid_path_segment_prefix, "IsValidPathSegmentPrefix", "x%",
           "may not contain '%'");

    struct ck_errlist e = CK_ERRLIST_INIT;
    assert_int_equal(ck_validate_path_segment_name("..", true, &e), 0);
    assert_int_equal(ck_validate_path_segment_name("..", false, &e), 1);
    assert_int_equal(ck_name_is_dns_subdomain("web-", true, &e), 0); /* generateName */
    assert_int_equal(ck_name_is_dns_subdomain("web-", false, &e), 1);
    assert_int_equal(ck_name_is_dns_label("a.-", true, &e), 0); /* upstream masks 2 chars */
    assert_int_equal(ck_name_is_dns_label("-", true, &e), 1);
    assert_int_equal(ck_name_is_dns1035_label("1-", true, &e), 0); /* masked to "a" */
    assert_int_equal(ck_name_is_dns1035_label("1ab", false, &e), 1);
    assert_int_equal(ck_validate_namespace_name("kube-system", false, &e), 0);
    assert_int_equal(ck_validate_namespace_name("my.ns", false, &e), 1);
    assert_int_equal(e.n, 5);
    assert_string_equal(e.items[4], DNS1123_LABEL_ERR);
    ck_errlist_free(&e);
    assert_int_equal(e.n, 0);
}

static void field_errors_render_like_upstream(void **state)
{
    (void)state;
    CK_AUTOERRLIST struct ck_errlist e = CK_ERRLIST_INIT;
    assert_int_equal(ck_validate_object_meta_name("", "", ck_name_is_dns_subdomain, "metadata", &e),
                     1);
    assert_string_equal(e.items[0],
                        "metadata.name: Required value: name or generateName is required");
    ck_errlist_free(&e);
    assert_int_equal(
        ck_validate_object_meta_name("Bad", "Gen-", ck_name_is_dns_subdomain, "metadata", &e), 2);
    assert_string_equal(e.items[0],
                        "metadata.generateName: Invalid value: \"Gen-\": " DNS1123_SUBDOMAIN_ERR);
    assert_string_equal(e.items[1],
                        "metadata.name: Invalid value: \"Bad\": " DNS1123_SUBDOMAIN_ERR);
    ck_errlist_free(&e);
    assert_int_equal(
        ck_validate_object_meta_name("..", NULL, ck_validate_path_segment_name, "metadata", &e), 1);
    assert_string_equal(e.items[0], "metadata.name: Invalid value: \"..\": may not be '..'");
    ck_errlist_free(&e);

    cJSON *labels = cJSON_Parse("{\"app\":\"web\",\"-x\":\"y\",\"k\":\"-v\"}");
    assert_int_equal(ck_validate_labels(labels, "metadata.labels", &e), 2);
    assert_string_equal(e.items[0], "metadata.labels: Invalid value: \"-x\": " QNAME_PART_ERR);
    assert_string_equal(e.items[1], "metadata.labels: Invalid value: \"-v\": " LABEL_VALUE_ERR);
    cJSON_Delete(labels);
    ck_errlist_free(&e);

    cJSON *ann = cJSON_Parse("{\"Example.COM/Key\":\"v\",\"a b\":\"v\"}");
    assert_int_equal(ck_validate_annotations(ann, "metadata.annotations", &e), 1);
    assert_string_equal(e.items[0],
                        "metadata.annotations: Invalid value: \"a b\": " QNAME_PART_ERR);
    ck_errlist_free(&e);
    CK_AUTOFREE char *big = repeat('v', 256 * 1024);
    cJSON_AddStringToObject(ann, "ok", big);
    assert_int_equal(ck_validate_annotations(ann, "metadata.annotations", &e), 2);
    assert_string_equal(e.items[1],
                        "metadata.annotations: Too long: must have at most 262144 bytes");
    cJSON_Delete(ann);
    ck_errlist_free(&e);

    ck_field_required(&e, "spec.containers", "");
    ck_field_forbidden(&e, "metadata.namespace", "not allowed on this type");
    assert_string_equal(e.items[0], "spec.containers: Required value");
    assert_string_equal(e.items[1], "metadata.namespace: Forbidden: not allowed on this type");
}

static void aggregation_and_go_quoting(void **state)
{
    (void)state;
    CK_AUTOERRLIST struct ck_errlist e = CK_ERRLIST_INIT;
    CK_AUTOFREE char *none = ck_errlist_aggregate(&e);
    assert_string_equal(none, "");
    ck_errlist_add(&e, "a");
    CK_AUTOFREE char *one = ck_errlist_aggregate(&e);
    assert_string_equal(one, "a");
    ck_errlist_add(&e, "a");
    CK_AUTOFREE char *same = ck_errlist_aggregate(&e);
    assert_string_equal(same, "a");
    ck_errlist_add(&e, "b %d", 2);
    CK_AUTOFREE char *two = ck_errlist_aggregate(&e);
    assert_string_equal(two, "[a, b 2]");
    CK_AUTOFREE char *joined = ck_errlist_join(&e, "; ");
    assert_string_equal(joined, "a; a; b 2");

    static const struct {
        const char *in, *want;
    } q[] = {
        {"plain", "\"plain\""},
        {"", "\"\""},
        {"a\"b\\c", "\"a\\\"b\\\\c\""},
        {"\n\t\r\a\x01\x7f", "\"\\n\\t\\r\\a\\x01\\x7f\""},
        {"\xff-\xc3", "\"\\xff-\\xc3\""},                     /* invalid and truncated UTF-8 */
        {"\xc3\xa9\xe2\x82\xac", "\"\xc3\xa9\xe2\x82\xac\""}, /* printable runes stay */
        {"\xc2\xa0\xe2\x80\x8b", "\"\\u00a0\\u200b\""},       /* nbsp, zero-width space */
        {"\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\""},
        {"\xed\xa0\x80", "\"\\xed\\xa0\\x80\""}, /* a surrogate is not valid UTF-8 */
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(q); i++) {
        CK_AUTOBUF struct ck_buf b = CK_BUF_INIT;
        ck_buf_put_go_quoted(&b, q[i].in);
        assert_string_equal(ck_buf_str(&b), q[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dns_names),
        cmocka_unit_test(qualified_names_and_label_values),
        cmocka_unit_test(identifiers_env_names_and_keys),
        cmocka_unit_test(ports),
        cmocka_unit_test(ip_addresses_as_parse_ip_sloppy),
        cmocka_unit_test(path_segments_and_name_functions),
        cmocka_unit_test(field_errors_render_like_upstream),
        cmocka_unit_test(aggregation_and_go_quoting),
    };
    return cmocka_run_group_tests_name("validation", tests, NULL, NULL);
}
