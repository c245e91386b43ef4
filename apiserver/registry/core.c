/* core.c - strategies of the smaller core/v1 kinds: Namespace, Node, ConfigMap, Secret, Event,
 * ReplicationController. */
#include "kinds.h"

static const char *const NAMESPACE_FIELDS[] = {"status.phase", NULL};
const struct strategy strategy_namespace = {
    .flags = STRAT_STATUS,
    .name_rule = NAME_DNS1123_LABEL,
    .field_labels = NAMESPACE_FIELDS,
};

static const char *const NODE_FIELDS[] = {"spec.unschedulable", NULL};
const struct strategy strategy_node = {
    .flags = STRAT_STATUS,
    .field_labels = NODE_FIELDS,
};

const struct strategy strategy_configmap = {.flags = 0};

static const char *const SECRET_FIELDS[] = {"type", NULL};
const struct strategy strategy_secret = {
    .flags = 0,
    .field_labels = SECRET_FIELDS,
};

static const char *const EVENT_FIELDS[] = {
    "involvedObject.kind", "involvedObject.namespace",       "involvedObject.name",
    "involvedObject.uid",  "involvedObject.apiVersion",      "involvedObject.resourceVersion",
    "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type", NULL,
};
const struct strategy strategy_event = {
    .flags = 0,
    .name_rule = NAME_PATH_SEGMENT,
    .field_labels = EVENT_FIELDS,
};

static const char *const RC_FIELDS[] = {"status.replicas", NULL};
const struct strategy strategy_replicationcontroller = {
    .flags = STRAT_STATUS | STRAT_GENERATION,
    .field_labels = RC_FIELDS,
};
