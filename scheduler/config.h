/* config.h - the part of upstream's KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1,
 * read from --config) that ckube's kube-scheduler honours: percentageOfNodesToScore (global,
 * and per profile for the "default-scheduler" profile, which wins), podInitialBackoffSeconds
 * and podMaxBackoffSeconds, with upstream's defaults (0 = adaptive, 1 s, 10 s) and validation
 * messages. Other fields are accepted and ignored.
 *
 * Ownership: struct sched_config is a plain value; nothing to free.
 */
#ifndef SCHED_CONFIG_H
#define SCHED_CONFIG_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "error.h"

struct sched_config {
    int percentage_of_nodes_to_score; /* 0: adaptive (upstream's default) */
    int64_t initial_backoff_ns;       /* podInitialBackoffSeconds, default 1 s */
    int64_t max_backoff_ns;           /* podMaxBackoffSeconds, default 10 s */
};

/* Upstream's defaults. */
void sched_config_defaults(struct sched_config *c);

/* Fills *c from a KubeSchedulerConfiguration object (already parsed from YAML or JSON):
 * defaults first, then the fields above. -EINVAL with err set for another apiVersion/kind,
 * a field of the wrong type, or values upstream's validation rejects (messages as upstream's
 * field errors, joined with ", " when several). */
int sched_config_from_json(const cJSON *doc, struct sched_config *c, struct ck_error *err);

/* Reads and parses the file at path (YAML or JSON), then as sched_config_from_json. */
int sched_config_load(const char *path, struct sched_config *c, struct ck_error *err);

#endif
