/* cm.h - the start functions of the controllers in this folder, one per row of main.c's
 * controller table (ck_controller_start_fn). */
#ifndef CM_H
#define CM_H

#include "controller.h"

/* serviceaccount.c: a "default" ServiceAccount in every Active namespace. */
int cm_serviceaccount_start(struct ck_controller_context *cc, struct ck_error *err);
/* namespace.c: empties Terminating namespaces, then removes the "kubernetes" finalizer. */
int cm_namespace_start(struct ck_controller_context *cc, struct ck_error *err);
/* gc.c: the garbage collector (background, foreground and orphan propagation). */
int cm_gc_start(struct ck_controller_context *cc, struct ck_error *err);

#endif
