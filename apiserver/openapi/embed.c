/* embed.c - the Kubernetes 1.32 OpenAPI v2 document (apiserver/openapi/swagger-v1.32.json),
 * built into the binary so the apiserver never looks for a file at run time.
 *
 * The assembler copies the file between two symbols (.incbin resolves the path from the
 * directory the compiler runs in: the repository root, as the Makefile does). A NUL byte
 * follows the document so it can also be used as a C string. The object must be rebuilt when
 * the JSON file changes; the Makefile rule for that is
 *     $(BUILD)/apiserver/openapi/embed.o: apiserver/openapi/swagger-v1.32.json
 */
#include <stddef.h>

#include "schema.h"

__asm__(".section .rodata\n"
        ".balign 16\n"
        ".globl openapi_swagger_v2_start\n"
        ".hidden openapi_swagger_v2_start\n"
        ".type openapi_swagger_v2_start, @object\n"
        "openapi_swagger_v2_start:\n"
        ".incbin \"apiserver/openapi/swagger-v1.32.json\"\n"
        ".globl openapi_swagger_v2_end\n"
        ".hidden openapi_swagger_v2_end\n"
        "openapi_swagger_v2_end:\n"
        ".byte 0\n"
        ".previous\n");

extern const char openapi_swagger_v2_start[];
extern const char openapi_swagger_v2_end[];

const char *schema_swagger_json(size_t *len)
{
    if (len)
        *len = (size_t)(openapi_swagger_v2_end - openapi_swagger_v2_start);
    return openapi_swagger_v2_start;
}
