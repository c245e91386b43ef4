/* listers.h - the scheduler's read-only views of objects other than Pods and Nodes, kept by
 * informers in the daemon and read through the framework handle (framework.h):
 *
 *  - upstream's helper.DefaultSelector (pkg/scheduler/framework/plugins/helper/spread.go): the
 *    selector PodTopologySpread's system default constraints count pods with, built from the
 *    Services selecting the pod and the ReplicationController / ReplicaSet / StatefulSet that
 *    controls it (its controller ownerReference);
 *  - the PodDisruptionBudgets DefaultPreemption reads (upstream's pdbLister.List(Everything)).
 *
 * Nothing here does I/O: the stores are informers' stores (store.h), or any store in tests.
 * Thread-safety: the stores are thread-safe; a struct sched_pdb_view belongs to one thread
 * (the scheduling thread).
 */
#ifndef SCHED_LISTERS_H
#define SCHED_LISTERS_H

#include <cjson/cJSON.h>

#include "selector.h"
#include "store.h"

struct sched_listers {
    struct ck_store *services; /* v1 Services */
    struct ck_store *rcs;      /* v1 ReplicationControllers */
    struct ck_store *rss;      /* apps/v1 ReplicaSets */
    struct ck_store *sts;      /* apps/v1 StatefulSets */
    struct ck_store *pdbs;     /* policy/v1 PodDisruptionBudgets */
};

/* upstream DefaultSelector for `pod` (a Pod object): the union of the selectors (maps) of the
 * Services in the pod's namespace whose selector matches the pod's labels (Services without a
 * selector are skipped), then, when the pod's controller ownerReference names a v1
 * ReplicationController, its selector map merged in, or an apps/v1 ReplicaSet or StatefulSet,
 * the requirements of its spec.selector added. Any store may be NULL (nothing to find there).
 * Returns a selector the caller frees (ck_label_selector_free); "everything" (empty) when
 * nothing selects the pod. Never NULL. */
struct ck_label_selector *sched_default_selector(const struct sched_listers *l, const cJSON *pod);

/* A JSON array of every PodDisruptionBudget of a store, valid until the next take or clear:
 * the array's items reference the stored objects (kept alive by references this view holds). */
struct sched_pdb_view {
    struct ck_obj_list objs; /* references to the PDB objects */
    cJSON *arr;              /* owned; items are cJSON references into objs' trees */
};
#define SCHED_PDB_VIEW_INIT                                                                        \
    {                                                                                              \
        CK_OBJ_LIST_INIT, NULL                                                                     \
    }

/* Replaces the view with the current content of `pdbs` (NULL: no PDBs) and returns the array
 * (borrowed from the view). Never NULL. */
const cJSON *sched_pdb_view_take(struct sched_pdb_view *v, struct ck_store *pdbs);
/* Releases the view's references and array. */
void sched_pdb_view_clear(struct sched_pdb_view *v);

#endif
