/* kubelet/cni/cni_internal.h - what the runtime and plugin sides (cni.c, cni_conf.c,
 * cni_exec.c, cni_runtime.c, cni_plugin.c) share; the rest of the kubelet uses cni.h. */
#ifndef KL_CNI_INTERNAL_H
#define KL_CNI_INTERNAL_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "cni.h"

#define KL_CNI_CONF_FILE_MAX ((size_t)1 << 20) /* a network config file */
#define KL_CNI_OUTPUT_MAX ((size_t)8 << 20)    /* what a plugin may print */

/* The runtime handle (cni_conf.c creates it). */
struct kl_cni {
    char *conf_dir;
    char *data_dir;
    char *ipam_dir;  /* <data_dir>/networks: default IPAM state of the in-process plugin */
    char *cni_path;  /* bin dirs joined with ':' (CNI_PATH) */
    char **bin_dirs; /* NULL-terminated */
    int timeout_ms;
    pthread_mutex_t mu; /* guards conf, conf_file and conf_sig */
    cJSON *conf;        /* the loaded list, conflist form; NULL when none */
    char *conf_file;
    char *conf_sig; /* fingerprint of the conf dir conf was loaded from */
};

/* ---- cni.c ---- */

/* kl_cni_error_set with the error object's "details" too (details may be NULL). */
int kl_cni_error_details(struct kl_cni_error *e, unsigned code, const char *msg,
                         const char *details);
/* Reads fd to EOF into b, at most max bytes (-EFBIG beyond); 0 or a negative errno. */
int kl_cni_read_all(int fd, struct ck_buf *b, size_t max);
/* Reads the file at path into b, at most max bytes; 0 or a negative errno. */
int kl_cni_read_file(const char *path, struct ck_buf *b, size_t max);
/* Writes data to path through a temporary file and a rename; 0 or a negative errno. */
int kl_cni_write_atomic(const char *path, const char *data, size_t len, mode_t mode);
bool kl_cni_has_suffix(const char *s, const char *suffix);

/* ---- cni_conf.c ---- */

/* Checks a list as libcni's ConfListFromBytes does; false with the reason in why. */
bool kl_cni_list_valid(const cJSON *list, char *why, size_t size);
/* A copy of the loaded list after reloading the conf dir when it changed, or NULL when there is
 * none (caller frees). */
cJSON *kl_cni_conf_snapshot(struct kl_cni *cni);
/* Fills err with the 503 of a runtime without a network config ("cni plugin not initialized:
 * no network config found in <dir>", the NetworkReady=false reason); returns its errno. */
int kl_cni_not_initialized(struct ck_error *err, const struct kl_cni *cni);

/* ---- cni_exec.c ---- */

/* One plugin's config: the plugin object with the list's name and cniVersion and prevResult
 * (when not NULL) injected (caller frees). */
cJSON *kl_cni_plugin_conf(const cJSON *list, const cJSON *plugin, const cJSON *prev);
/* Runs one plugin with config pconf for the command in a; ADD's result in *out (caller frees). */
int kl_cni_run_plugin(struct kl_cni *cni, const cJSON *pconf, const struct kl_cni_args *a,
                      cJSON **out, struct kl_cni_error *e);

#endif
