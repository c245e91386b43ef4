/* table.h - the protobuf field table of the API types (internal to apiserver/proto).
 *
 * The facts live in fields.txt (written by extract.py from the v1.32 descriptors), which is
 * embedded in the binary and parsed once on first use. After that the table is read-only and
 * shared by all threads without a lock; everything it points to lives until the process ends.
 */
#ifndef APISERVER_PROTO_TABLE_H
#define APISERVER_PROTO_TABLE_H

#include <stddef.h>
#include <stdint.h>

/* Field value types (protobuf scalar types, or a message). */
enum pt_type {
    PT_NONE = 0,
    PT_DOUBLE,
    PT_FLOAT,
    PT_INT64,
    PT_UINT64,
    PT_INT32,
    PT_UINT32,
    PT_SINT32,
    PT_SINT64,
    PT_BOOL,
    PT_STRING,
    PT_BYTES,
    PT_MESSAGE,
};

/* Messages whose JSON form is not an object of their fields. */
enum pt_special {
    PS_NONE = 0,
    PS_TIME,           /* metav1.Time {seconds, nanos} -> "2006-01-02T15:04:05Z" */
    PS_MICROTIME,      /* metav1.MicroTime -> "2006-01-02T15:04:05.000000Z" */
    PS_DURATION,       /* metav1.Duration {duration ns} -> "1h0m0s" */
    PS_RAWJSON,        /* RawExtension, FieldsV1, apiextensions JSON: bytes holding JSON */
    PS_QUANTITY,       /* resource.Quantity {string} -> "100m" */
    PS_INTORSTRING,    /* intstr.IntOrString {type, intVal, strVal} -> 80 or "http" */
    PS_ITEMS,          /* a named []string (ExtraValue, Verbs) {items} -> ["a", "b"] */
    PS_PROPSORARRAY,   /* JSONSchemaPropsOrArray -> schema or [schemas] */
    PS_PROPSORBOOL,    /* JSONSchemaPropsOrBool -> schema or bool */
    PS_PROPSORSTRINGS, /* JSONSchemaPropsOrStringArray -> schema or [strings] */
};

enum pt_flags {
    PTF_REPEATED = 1 << 0, /* repeated field: a JSON array */
    PTF_PTR = 1 << 1,      /* a Go pointer: present on the wire only when set, zero kept */
    PTF_INLINE = 1 << 2,   /* embedded struct: its members merge into the parent's JSON */
    PTF_MAP = 1 << 3,      /* map<key_type, type>: repeated {key = 1, value = 2} entries */
};

struct pt_message;

struct pt_field {
    uint32_t number;
    uint8_t type;                 /* enum pt_type; for a map, the value's type */
    uint8_t key_type;             /* for a map, the key's type */
    uint8_t flags;                /* enum pt_flags */
    const char *name;             /* the proto name */
    const char *json;             /* the JSON member name */
    const struct pt_message *msg; /* PT_MESSAGE: the message (a map's value message) */
};

struct pt_message {
    const char *name;        /* "<alias>.<Message>", e.g. "apps.Deployment" */
    int special;             /* enum pt_special */
    struct pt_field *fields; /* sorted by number */
    size_t nfields;
};

/* Returns 0 once the embedded table is loaded, or -EINVAL if it is malformed (a build error,
 * logged once). Thread-safe. */
int pt_load(void);
/* A message by "<alias>.<Message>"; NULL when unknown. */
const struct pt_message *pt_message(const char *name);
/* The message of a kind in a served group-version ("apps/v1", "Deployment"); kinds the
 * group-version's package lacks are looked up in meta/v1 (DeleteOptions, Status, ...).
 * NULL when unknown. */
const struct pt_message *pt_kind(const char *api_version, const char *kind);
/* The field with that number; NULL when the message has none. */
const struct pt_field *pt_field(const struct pt_message *m, uint32_t number);
/* Number of messages in the table (for tests). */
size_t pt_count(void);
/* The i-th message in name order (for tests); NULL past the end. */
const struct pt_message *pt_message_at(size_t i);

#endif
