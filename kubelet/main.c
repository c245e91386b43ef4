/* main.c - kubelet: flags and wiring only. The same binary is the CNI plugin (when invoked as
 * one, see kubelet/cni/cni.h) and each container's shim (runc.c's constructor takes over
 * before main); kubelet/kubelet.c runs the node agent. */
#include <curl/curl.h>
#include <stdio.h>

#include "cancel.h"
#include "daemon.h"
#include "kubelet/cni/cni.h"
#include "kubelet/config.h"
#include "kubelet/kubelet.h"
#include "log.h"

int main(int argc, char **argv, char **envp)
{
    if (kl_cni_plugin_invoked(argv[0], envp))
        return kl_cni_plugin_main(argc, argv, envp);
    if (ck_signals_block() < 0)
        return 1;
    struct kl_config cfg;
    struct ck_error err = CK_ERROR_INIT;
    int rc = kl_config_parse(&cfg, argc, argv, stdout, &err);
    if (rc != 0) {
        if (rc < 0)
            fprintf(stderr, "Error: %s\n", err.message);
        kl_config_free(&cfg);
        ck_error_clear(&err);
        return rc < 0 ? 1 : 0;
    }
    curl_global_init(CURL_GLOBAL_ALL);
    struct ck_cancel *stop = ck_cancel_new();
    struct ck_signals *signals = NULL;
    if (ck_signals_start(stop, &signals) < 0) {
        ck_err("cannot watch signals");
        ck_cancel_free(stop);
        kl_config_free(&cfg);
        return 1;
    }
    rc = kl_kubelet_run(&cfg, stop);
    ck_signals_stop(signals);
    ck_cancel_free(stop);
    kl_config_free(&cfg);
    curl_global_cleanup();
    return rc;
}
