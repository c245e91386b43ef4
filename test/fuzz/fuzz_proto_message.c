/* fuzz_proto_message.c - proto_decode_message (apiserver/proto) of every message type of the
 * field table on any bytes, without the envelope, so the fuzzer reaches each type's fields
 * directly.
 *
 * Input: "<alias>.<Message>\0<message bytes>" (e.g. "core.Pod\0..."); a name the table does
 * not know picks a message by a hash of the name, so every input exercises some type.
 * Properties: never a crash or leak; a failure sets an error and leaves no output; a success
 * gives a JSON value that prints. */
#include "error.h"
#include "fuzz.h"
#include "json.h"
#include "apiserver/proto/proto.h"
#include "apiserver/proto/table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (pt_load() < 0 || pt_count() == 0)
        abort();
    const uint8_t *nul = memchr(data, 0, size);
    size_t nlen = nul ? (size_t)(nul - data) : 0;
    char *name = fuzz_cstr(data, nlen);
    const uint8_t *body = nul ? nul + 1 : data;
    size_t blen = nul ? size - nlen - 1 : size;

    const char *msg = name;
    if (!pt_message(name)) {
        uint32_t h = 2166136261u;
        for (size_t i = 0; i < nlen; i++)
            h = (h ^ (uint8_t)name[i]) * 16777619u;
        msg = pt_message_at(h % pt_count())->name;
    }

    struct ck_error err = CK_ERROR_INIT;
    cJSON *out = NULL;
    int rc = proto_decode_message(msg, body, blen, &out, &err);
    if (rc < 0) {
        FUZZ_CHECK(out == NULL && err.code != 0, "failed decode left output or no error");
    } else {
        char *s = ck_json_print(out, 0);
        FUZZ_CHECK(s != NULL, "decoded %s does not print", msg);
        free(s);
    }
    ck_error_clear(&err);
    cJSON_Delete(out);
    free(name);
    return 0;
}
