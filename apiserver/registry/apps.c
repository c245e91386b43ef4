/* apps.c - strategies of apps/v1: Deployment, ReplicaSet, StatefulSet, DaemonSet. */
#include "kinds.h"

const struct strategy strategy_deployment = {.flags = STRAT_STATUS | STRAT_GENERATION};

static const char *const RS_FIELDS[] = {"status.replicas", NULL};
const struct strategy strategy_replicaset = {
    .flags = STRAT_STATUS | STRAT_GENERATION,
    .field_labels = RS_FIELDS,
};

const struct strategy strategy_statefulset = {.flags = STRAT_STATUS | STRAT_GENERATION};
const struct strategy strategy_daemonset = {.flags = STRAT_STATUS | STRAT_GENERATION};
