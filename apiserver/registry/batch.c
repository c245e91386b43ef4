/* batch.c - strategies of batch/v1: Job, CronJob. */
#include "kinds.h"

static const char *const JOB_FIELDS[] = {"status.successful", NULL};
const struct strategy strategy_job = {
    .flags = STRAT_STATUS | STRAT_GENERATION,
    .field_labels = JOB_FIELDS,
};

const struct strategy strategy_cronjob = {.flags = STRAT_STATUS | STRAT_GENERATION};
