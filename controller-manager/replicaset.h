/* replicaset.h - the ReplicaSet controller's start function (a row of main.c's table). */
#ifndef CKCM_REPLICASET_H
#define CKCM_REPLICASET_H

#include "controller.h"

/* Registers the "replicaset" controller (informers on replicasets and pods) with cc. */
int replicaset_start(struct ck_controller_context *cc, struct ck_error *err);

#endif
