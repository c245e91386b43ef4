/* strategy.c - strategies of kinds that have no rules beyond the generic ones. */
#include "kinds.h"

const struct strategy strategy_plain = {.flags = 0};
const struct strategy strategy_spec_status = {.flags = STRAT_STATUS | STRAT_GENERATION};
const struct strategy strategy_generation = {.flags = STRAT_GENERATION};
