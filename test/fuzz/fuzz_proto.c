/* fuzz_proto.c - proto_decode_request (apiserver/proto) on any bytes: the Kubernetes protobuf
 * request body, "k8s\0" + runtime.Unknown envelope + the object's message.
 *
 * Properties: decoding never crashes or leaks and fails with an error set; an object that
 * decodes encodes again (proto_encode_object) and that encoding decodes to the same object
 * (but for nulls and empty structs, see normalize()). */
#include "buf.h"
#include "error.h"
#include "fuzz.h"
#include "json.h"
#include "apiserver/proto/proto.h"

/* Drops members that are null or (once normalized) empty objects: a pointer field at its zero
 * value decodes as null (a present but empty metav1.Time) and then encodes as absent, and a
 * struct left with nothing in it is left out, so only the rest must survive a round trip. */
static void normalize(cJSON *j)
{
    cJSON *m = j ? j->child : NULL;
    while (m) {
        cJSON *next = m->next;
        normalize(m);
        if (cJSON_IsObject(j) && (cJSON_IsNull(m) || (cJSON_IsObject(m) && m->child == NULL)))
            cJSON_Delete(cJSON_DetachItemViaPointer(j, m));
        m = next;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ck_error err = CK_ERROR_INIT;
    cJSON *obj = NULL;
    int rc = proto_decode_request(data, size, &obj, &err);
    if (rc < 0) {
        FUZZ_CHECK(obj == NULL && err.code != 0, "failed decode left output or no error");
        ck_error_clear(&err);
    } else {
        FUZZ_CHECK(cJSON_IsObject(obj), "decoded body is not an object");
        struct ck_buf pb = CK_BUF_INIT;
        rc = proto_encode_object(obj, &pb, &err);
        if (rc == 0) {
            cJSON *again = NULL;
            rc = proto_decode_request(pb.data, pb.len, &again, &err);
            FUZZ_CHECK(rc == 0, "re-encoded object does not decode: %s", err.message);
            normalize(obj);
            normalize(again);
            if (!ck_json_equal(obj, again)) {
                char *a = ck_json_print(obj, 0), *b = ck_json_print(again, 0);
                FUZZ_CHECK(0, "protobuf round trip changed the object:\n%s\n%s", a, b);
            }
            cJSON_Delete(again);
        }
        ck_error_clear(&err);
        ck_buf_free(&pb);
    }
    cJSON_Delete(obj);

    /* the same body with the URL's defaults, as a create through a typed URL decodes it */
    obj = NULL;
    if (proto_decode_object(data, size, "v1", "Pod", &obj, &err) < 0)
        ck_error_clear(&err);
    cJSON_Delete(obj);
    return 0;
}
