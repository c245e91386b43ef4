/* replicaset.h - the ReplicaSet and ReplicationController controllers' start functions (rows of
 * main.c's table). Both run replicaset.c's code; each may be started once per process. */
#ifndef CKCM_REPLICASET_H
#define CKCM_REPLICASET_H

#include "controller.h"

/* Registers the "replicaset" controller (informers on replicasets and pods) with cc. */
int replicaset_start(struct ck_controller_context *cc, struct ck_error *err);
/* Registers the "replicationmanager" controller (informers on v1 replicationcontrollers and
 * pods) with cc; events come from source "replication-controller". */
int replicationcontroller_start(struct ck_controller_context *cc, struct ck_error *err);

#endif
