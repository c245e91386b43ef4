/* rbac.c - the strategy shared by Role, ClusterRole, RoleBinding, ClusterRoleBinding. */
#include "kinds.h"

const struct strategy strategy_rbac = {
    .flags = 0,
    .name_rule = NAME_PATH_SEGMENT,
};
