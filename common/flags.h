/* flags.h - table-driven command-line flags with upstream's (spf13/pflag, as the kube
 * binaries use it) syntax, messages and help layout.
 *
 * A binary declares one static table of flag descriptors, each pointing at the variable that
 * holds the value; the variable's initial value is the default:
 *
 *     static int port = 6443;
 *     static const char *bind = "0.0.0.0";
 *     static struct ck_flag flags[] = {
 *         CK_INT_FLAG("secure-port", &port, "The port on which to serve HTTPS."),
 *         CK_STRING_FLAG("bind-address", &bind, "The IP address to listen on."),
 *         CK_FLAG_END,
 *     };
 *     struct ck_flags_result res;
 *     struct ck_error err = CK_ERROR_INIT;
 *     if (ck_flags_parse(flags, argc, argv, &res, &err) < 0) -> print "Error: " err.message
 *     if (res.help) -> ck_flags_usage(flags, "kube-apiserver", stdout)
 *     ...
 *     ck_flags_free(flags);   (at exit; restores the defaults)
 *
 * Syntax (pflag): `--name=value`, `--name value`, `-n=value`, `-n value`, `-nvalue`, grouped
 * boolean shorthands `-ab`; booleans take no separate argument (`--b`, `--b=false`, never
 * `--b false`); `--` ends the flags; `-` alone and anything not starting with `-` is a
 * positional argument (flags and positionals may be interleaved). Underscores in a flag name
 * given on the command line are read as dashes (upstream's WordSepNormalizeFunc).
 *
 * Every table gets `--help`/`-h` and klog's `--v`/`-v` (sets ck_log_set_verbosity) for free,
 * unless the table declares a flag of the same name itself.
 *
 * Value types and the C variable each points at:
 *   CK_FLAG_BOOL      bool                    ParseBool set: 1 t T TRUE true True 0 f F ...
 *   CK_FLAG_INT       int                     Go ParseInt base 0 (0x, 0o, 0b, 0 prefixes,
 *   CK_FLAG_INT64     int64_t                 `_` separators), range of the C type
 *   CK_FLAG_FLOAT     double                  Go ParseFloat syntax
 *   CK_FLAG_STRING    const char *            NULL default stays NULL if unset
 *   CK_FLAG_STRINGS   struct ck_flag_strings  pflag StringSlice: CSV per use; the first use
 *                                             replaces the default, later uses append
 *   CK_FLAG_DURATION  int64_t (nanoseconds)   Go time.ParseDuration syntax ("1h30m", "300ms")
 *   CK_FLAG_MAP       struct ck_flag_map      k8s cliflag.MapStringString ("a=b,c=d")
 *   CK_FLAG_BOOL_MAP  struct ck_flag_map      k8s cliflag.MapStringBool ("A=true,B=false");
 *                                             values are stored as "true"/"false"
 *
 * Ownership: strings, lists and maps set by parsing are heap memory owned by the table (its
 * private state remembers the defaults, which are never freed and may be string literals).
 * Callers read them but never free or reassign them; ck_flags_free(table) releases everything
 * parsing allocated and puts every variable back to its default. Call it also after a failed
 * parse. Not thread-safe: parse once at startup.
 */
#ifndef CK_FLAGS_H
#define CK_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "error.h"

enum ck_flag_type {
    CK_FLAG_BOOL = 1,
    CK_FLAG_INT,
    CK_FLAG_INT64,
    CK_FLAG_FLOAT,
    CK_FLAG_STRING,
    CK_FLAG_STRINGS,
    CK_FLAG_DURATION,
    CK_FLAG_MAP,
    CK_FLAG_BOOL_MAP,
};

/* A string list value. A default is written as
 *   static const char *def[] = {"a", "b"};  static struct ck_flag_strings l = {def, 2}; */
struct ck_flag_strings {
    const char **items;
    size_t n;
};

/* A key=value map value: keys[i] maps to values[i]; keys are unique. Defaults are written like
 * ck_flag_strings ones. */
struct ck_flag_map {
    const char **keys;
    const char **values;
    size_t n;
};

/* Private per-flag state kept by the parser; zero in a fresh table. */
struct ck_flag_state {
    bool init;    /* def holds the captured default */
    bool changed; /* set on the command line (pflag's Changed) */
    bool owned;   /* the variable now holds heap memory the table must free */
    union {
        bool b;
        int i;
        int64_t i64;
        double f;
        const char *s;
        struct ck_flag_strings strings;
        struct ck_flag_map map;
    } def;
};

struct ck_flag {
    const char *name; /* long name without dashes; NULL ends the table */
    char shorthand;   /* one-letter alias used with a single dash, 0 for none */
    enum ck_flag_type type;
    void *value;            /* the variable; its value before parsing is the default */
    const char *usage;      /* help text; a `word` in back quotes names the value in help */
    const char *type_name;  /* optional: value name shown in help instead of the type's */
    const char *deprecated; /* optional: hides the flag from help; using it prints upstream's
                               "Flag --x has been deprecated, <this>" warning to stderr */
    bool hidden;            /* accepted but not listed in help */
    struct ck_flag_state priv;
};

/* Descriptor shorthands; the pointer type is checked at compile time. Extra designated
 * initializers may follow: CK_INT_FLAG("x", &x, "...", .deprecated = "use --y instead"). */
#define CK_FLAG_PTR_(T, p) (1 ? (p) : (T *)0)
#define CK_FLAG_DEF_(n, sh, t, T, p, u, ...)                                                       \
    {                                                                                              \
        .name = (n), .shorthand = (sh), .type = (t), .value = CK_FLAG_PTR_(T, p), .usage = (u),    \
        __VA_ARGS__                                                                                \
    }
#define CK_BOOL_FLAG(n, p, u, ...) CK_FLAG_DEF_(n, 0, CK_FLAG_BOOL, bool, p, u, __VA_ARGS__)
#define CK_BOOL_FLAG_P(n, sh, p, u, ...) CK_FLAG_DEF_(n, sh, CK_FLAG_BOOL, bool, p, u, __VA_ARGS__)
#define CK_INT_FLAG(n, p, u, ...) CK_FLAG_DEF_(n, 0, CK_FLAG_INT, int, p, u, __VA_ARGS__)
#define CK_INT_FLAG_P(n, sh, p, u, ...) CK_FLAG_DEF_(n, sh, CK_FLAG_INT, int, p, u, __VA_ARGS__)
#define CK_INT64_FLAG(n, p, u, ...) CK_FLAG_DEF_(n, 0, CK_FLAG_INT64, int64_t, p, u, __VA_ARGS__)
#define CK_FLOAT_FLAG(n, p, u, ...) CK_FLAG_DEF_(n, 0, CK_FLAG_FLOAT, double, p, u, __VA_ARGS__)
#define CK_STRING_FLAG(n, p, u, ...)                                                               \
    CK_FLAG_DEF_(n, 0, CK_FLAG_STRING, const char *, p, u, __VA_ARGS__)
#define CK_STRING_FLAG_P(n, sh, p, u, ...)                                                         \
    CK_FLAG_DEF_(n, sh, CK_FLAG_STRING, const char *, p, u, __VA_ARGS__)
#define CK_STRINGS_FLAG(n, p, u, ...)                                                              \
    CK_FLAG_DEF_(n, 0, CK_FLAG_STRINGS, struct ck_flag_strings, p, u, __VA_ARGS__)
#define CK_DURATION_FLAG(n, p, u, ...)                                                             \
    CK_FLAG_DEF_(n, 0, CK_FLAG_DURATION, int64_t, p, u, __VA_ARGS__)
#define CK_MAP_FLAG(n, p, u, ...)                                                                  \
    CK_FLAG_DEF_(n, 0, CK_FLAG_MAP, struct ck_flag_map, p, u, __VA_ARGS__)
#define CK_BOOL_MAP_FLAG(n, p, u, ...)                                                             \
    CK_FLAG_DEF_(n, 0, CK_FLAG_BOOL_MAP, struct ck_flag_map, p, u, __VA_ARGS__)
#define CK_FLAG_END                                                                                \
    {                                                                                              \
        .name = NULL                                                                               \
    }

struct ck_flags_result {
    bool help;            /* --help / -h was given (checked after a successful parse) */
    int nargs;            /* number of positional arguments */
    char **args;          /* the positional arguments in order; points into argv */
    int args_before_dash; /* positionals before "--" (pflag ArgsLenAtDash), -1 without "--" */
};

/* Parses argv[1..argc) against table (+ the built-in --help and --v). Positional arguments are
 * moved, in order, to argv[1..1+nargs) and described by res. Returns 0, or a negative errno
 * with err->message worded as pflag words it ("unknown flag: --foo", "flag needs an argument:
 * --foo", "invalid argument \"x\" for \"--port\" flag: ...", "bad flag syntax: ---x") and
 * -EINVAL for a malformed table ("flag redefined: x"). Parse errors win over --help, as in
 * cobra. Values set before an error stay set until ck_flags_free. */
int ck_flags_parse(struct ck_flag *table, int argc, char **argv, struct ck_flags_result *res,
                   struct ck_error *err);

/* Appends the flag list as pflag's FlagUsages prints it (sorted by name, aligned, defaults
 * shown unless zero, hidden and deprecated flags left out) including the built-ins; prog names
 * the binary in "help for <prog>". Shows the defaults even after parsing. */
void ck_flags_format_usage(struct ck_flag *table, const char *prog, struct ck_buf *out);
/* Writes ck_flags_format_usage's text to out. Returns 0 or -EIO. */
int ck_flags_usage(struct ck_flag *table, const char *prog, FILE *out);

/* Frees every value parsing allocated, restores all defaults and resets the table's state. */
void ck_flags_free(struct ck_flag *table);

/* The descriptor named `name` (dashes or underscores), or NULL. Borrowed. */
struct ck_flag *ck_flags_lookup(struct ck_flag *table, const char *name);
/* True when the flag was set on the command line (pflag's Changed). */
bool ck_flags_changed(struct ck_flag *table, const char *name);

/* The value for key in m, or NULL. Borrowed from m. */
const char *ck_flag_map_get(const struct ck_flag_map *m, const char *key);
/* Reads a CK_FLAG_BOOL_MAP entry: 0 and *out set, or -ENOENT when key is absent. */
int ck_flag_map_get_bool(const struct ck_flag_map *m, const char *key, bool *out);

#endif
