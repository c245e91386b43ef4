/* proto.h - Kubernetes protobuf bodies (application/vnd.kubernetes.protobuf) <-> JSON objects.
 *
 * A protobuf body is the 4 bytes "k8s\0" followed by a runtime.Unknown message whose typeMeta
 * names the apiVersion and kind and whose raw field holds the object's own protobuf encoding
 * (k8s.io/apimachinery/pkg/runtime/serializer/protobuf). Decoding turns it into the JSON object
 * a JSON client would have sent for the same Go value: apiVersion and kind first, then the
 * members; a field the sender left at its zero value is left out unless it is a pointer in
 * upstream's Go type (replicas: 0 stays, nodePort: 0 goes), as Go's omitempty would; special
 * types take their JSON forms (Time as RFC 3339, Quantity and IntOrString as string/number,
 * []byte as base64, RawExtension as the embedded object, ...).
 *
 * The field table (fields.txt, see extract.py) covers the group-versions the apiserver serves.
 * Malformed input of any kind is a 400 BadRequest, never a crash; nesting is limited to
 * PROTO_MAX_DEPTH messages.
 *
 * Thread-safe: the table is loaded once (pthread_once) and read-only afterwards.
 */
#ifndef APISERVER_PROTO_PROTO_H
#define APISERVER_PROTO_PROTO_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "error.h"

/* The media type, and the 4-byte prefix of every body. */
#define PROTO_CONTENT_TYPE "application/vnd.kubernetes.protobuf"
#define PROTO_MAGIC "k8s\0"
#define PROTO_MAGIC_LEN 4
/* Deepest nesting of messages accepted. */
#define PROTO_MAX_DEPTH 100

/* True when a Content-Type header value names the protobuf media type (parameters allowed). */
bool proto_is_content_type(const char *content_type);

/* Decodes a protobuf request body; the envelope names apiVersion and kind. Returns 0 with *out
 * a JSON object the caller owns, or a negative errno with err set: 400 BadRequest for anything
 * malformed or of a kind the table does not know. */
int proto_decode_request(const void *body, size_t len, cJSON **out, struct ck_error *err);

/* As proto_decode_request, with the apiVersion and kind the URL implies used where the
 * envelope leaves them empty (as upstream's decoder defaults them); either may be NULL. */
int proto_decode_object(const void *body, size_t len, const char *default_api_version,
                        const char *default_kind, cJSON **out, struct ck_error *err);

/* Decodes a bare message (no envelope) of the table's message `message` ("core.Pod",
 * "meta.DeleteOptions") into its JSON form; caller owns *out. Same errors. */
int proto_decode_message(const char *message, const void *data, size_t len, cJSON **out,
                         struct ck_error *err);

/* Encodes a JSON object (with apiVersion and kind, borrowed) as a protobuf body with its
 * envelope, appending to out. Members the table does not know are dropped, as upstream's
 * protobuf encoding of a Go value would never carry them. Returns 0, or a negative errno with
 * err set: 400 for values of the wrong JSON type, 500 InternalError for kinds the table lacks
 * ("not marshalable to protobuf"). */
int proto_encode_object(const cJSON *obj, struct ck_buf *out, struct ck_error *err);

#endif
