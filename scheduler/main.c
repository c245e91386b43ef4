/* main.c - kube-scheduler: flags and wiring only. The scheduler proper comes as rows of the
 * table below (files in scheduler/); common/component.c runs them while this process holds the
 * Lease kube-system/kube-scheduler (released on SIGTERM, as upstream), serving health and
 * metrics on --secure-port 10259. */
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "component.h"
#include "config.h"
#include "daemon.h"
#include "flags.h"
#include "log.h"
#include "run.h"
#include "timeutil.h"

/* Adding a loop = adding one row: {"<name>", <start function>, <off by default>}. */
static const struct ck_controller_desc loops[] = {
    {"scheduler", sched_run_start, false},
    {NULL, NULL, false},
};

int main(int argc, char **argv)
{
    static struct ck_component_config cfg = {
        .name = "kube-scheduler",
        .kube_api_qps = 50,
        .kube_api_burst = 100,
        .kube_api_content_type = "application/vnd.kubernetes.protobuf",
        .leader_elect = true,
        .lease_duration = 15 * CK_SECOND,
        .renew_deadline = 10 * CK_SECOND,
        .retry_period = 2 * CK_SECOND,
        .resource_lock = "leases",
        .resource_name = "kube-scheduler",
        .resource_namespace = "kube-system",
        .release_on_cancel = true,
        .secure_port = 10259,
        .bind_address = "0.0.0.0",
        .table = loops,
    };
    static const char *config_file;
    static bool version;
    static struct ck_flag flags[] = {
        CK_COMPONENT_CLIENT_FLAGS(cfg),
        CK_COMPONENT_LEADER_FLAGS(cfg),
        CK_COMPONENT_SERVING_FLAGS(cfg),
        CK_STRING_FLAG("config", &config_file, "The path to the configuration file."),
        CK_BOOL_FLAG("version", &version, "Print version information and quit."),
        CK_FLAG_END,
    };
    if (ck_signals_block() < 0)
        return 1;
    struct ck_flags_result res;
    struct ck_error err = CK_ERROR_INIT;
    if (ck_flags_parse(flags, argc, argv, &res, &err) < 0) {
        fprintf(stderr, "Error: %s\n", err.message);
        ck_flags_free(flags);
        return 1;
    }
    int rc = 0;
    if (res.help) {
        ck_flags_usage(flags, "kube-scheduler", stdout);
    } else if (version) {
        printf("Kubernetes %s\n", CK_KUBE_VERSION);
    } else if (res.nargs > 0) {
        fprintf(stderr, "Error: unknown command \"%s\" for \"kube-scheduler\"\n", res.args[0]);
        rc = 1;
    } else {
        static struct sched_config sconf;
        sched_config_defaults(&sconf);
        if (config_file && config_file[0] && sched_config_load(config_file, &sconf, &err) < 0) {
            fprintf(stderr, "Error: %s\n", err.message);
            rc = 1;
        } else {
            cfg.user = &sconf;
            rc = ck_component_main(&cfg);
        }
    }
    ck_flags_free(flags);
    return rc;
}
