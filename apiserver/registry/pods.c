/* pods.c - the Pod strategy: field selectors, create preparation, defaults, validation. */
#include "kinds.h"

static const char *const POD_FIELDS[] = {
    "spec.nodeName",     "spec.restartPolicy", "spec.schedulerName",
    "spec.serviceAccountName", "spec.hostNetwork", "status.phase",
    "status.podIP",      "status.nominatedNodeName", NULL,
};

const struct strategy strategy_pod = {
    .flags = STRAT_STATUS,
    .field_labels = POD_FIELDS,
};
