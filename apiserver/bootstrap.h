/* bootstrap.h - what the apiserver makes sure exists at start-up (upstream's bootstrap
 * controller): the default, kube-system, kube-public and kube-node-lease namespaces. */
#ifndef APISERVER_BOOTSTRAP_H
#define APISERVER_BOOTSTRAP_H

#include "server.h"

int bootstrap_run(struct apiserver *s, struct ck_error *err);

#endif
