/* fuzz_requestinfo.c - request_info_parse (apiserver/requestinfo.c) on any decoded URL path,
 * as every request to the apiserver goes through it.
 *
 * Input: the first byte picks the HTTP method (low bits) and ?watch=true (bit 7); the rest
 * is the path. Properties: never a crash, overflow of the fixed-size fields, or UB; every
 * field of the result is a NUL-terminated string within its array (a method upstream does
 * not map, such as CONNECT, leaves the verb of a resource request empty, as upstream). */
#include <errno.h>

#include "fuzz.h"
#include "apiserver/requestinfo.h"

static const char *const METHODS[] = {"GET",     "POST",  "PUT",     "PATCH", "DELETE",  "HEAD",
                                      "OPTIONS", "TRACE", "CONNECT", "get",   "PROPFIND"};

#define FIELD_OK(f) (strnlen((f), sizeof(f)) < sizeof(f))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *method = METHODS[(data[0] & 0x7f) % (sizeof METHODS / sizeof METHODS[0])];
    bool watch = data[0] & 0x80;
    char *path = fuzz_cstr(data + 1, size - 1);
    struct request_info ri;
    memset(&ri, 0xa5, sizeof ri);
    int rc = request_info_parse(method, path, watch, &ri);
    FUZZ_CHECK(rc == 0 || rc == -EINVAL, "unexpected return %d", rc);
    if (rc == 0) {
        FUZZ_CHECK(FIELD_OK(ri.verb) && FIELD_OK(ri.api_prefix) && FIELD_OK(ri.group) &&
                       FIELD_OK(ri.version) && FIELD_OK(ri.namespace_) && FIELD_OK(ri.resource) &&
                       FIELD_OK(ri.name) && FIELD_OK(ri.subresource) && FIELD_OK(ri.subpath),
                   "a field is not NUL-terminated for %s %s", method, path);
    }
    free(path);
    return 0;
}
