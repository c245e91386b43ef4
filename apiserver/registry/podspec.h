/* podspec.h - PodSpec and PodTemplateSpec rules shared by Pods and every workload kind that
 * embeds a pod template (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob,
 * ReplicationController, PodTemplate): upstream's core/v1 defaulting and ValidatePodSpec.
 *
 * Everything here works on borrowed cJSON trees; nothing keeps a pointer to its arguments.
 * Any input is accepted: values of the wrong JSON type are skipped (defaults) or reported
 * (validation), never trusted. Upstream behaviour followed: Kubernetes v1.32 with its
 * default feature gates (pkg/apis/core/v1/defaults.go, pkg/apis/core/validation).
 */
#ifndef APISERVER_PODSPEC_H
#define APISERVER_PODSPEC_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fielderr.h"
#include "validation.h"

/* Fills upstream's defaults into a PodSpec in place (SetDefaults_PodSpec, _Container,
 * _ContainerPort, _Probe, _Volume, ...). A non-object spec is left alone. Pod-only defaults
 * (requests from limits, enableServiceLinks, hostNetwork hostPorts) are NOT applied here:
 * upstream applies them to Pods only (see pods.c). */
void podspec_defaults(cJSON *spec);
/* ValidatePodSpec: appends errors with field paths under `path` ("spec",
 * "spec.template.spec"), with the options upstream uses for an embedded template. */
void podspec_validate(const cJSON *spec, const char *path, struct field_errors *e);
/* Defaults and validation of a PodTemplateSpec (metadata labels/annotations + spec) under
 * `path` ("spec.template"). Defaults also add `metadata.creationTimestamp: null`, which
 * upstream always prints for an embedded ObjectMeta. */
void podtemplate_defaults(cJSON *tmpl);
/* A non-object tmpl is validated as an empty one (Go's zero PodTemplateSpec). */
void podtemplate_validate(const cJSON *tmpl, const char *path, struct field_errors *e);
/* The pod's QoS class from its spec, as upstream's GetPodQOS: "Guaranteed", "Burstable" or
 * "BestEffort" (static string). Reads the spec as given (for a Pod, run the Pod defaults
 * first so requests default to limits, as upstream does at decoding). */
const char *podspec_qos_class(const cJSON *spec);

/* ---- finer-grained pieces, for pods.c and the workload strategies ---- */

/* The options of upstream's ValidatePodSpec that differ between a Pod and a template. */
struct podspec_opts {
    /* opts.ResourceIsPod: with hostNetwork, every hostPort must equal its containerPort
     * (templates may leave it 0). */
    bool resource_is_pod;
    /* The pod's name, for the PVC names of ephemeral volumes; NULL or "" to skip. */
    const char *pod_name;
};
void podspec_validate_opts(const cJSON *spec, const char *path, const struct podspec_opts *o,
                           struct field_errors *e);

/* DropDisabledPodFields / DropDisabledTemplateFields for v1.32's default feature gates: the
 * alpha or off-by-default fields (pod-level resources, hostUsers, resourceClaims and
 * container resource claims, resizePolicy, image volumes, supplementalGroupsPolicy,
 * seLinuxChangePolicy) are removed from spec unless old_spec (the stored object's spec on
 * an update, NULL on create) already uses them. */
void podspec_drop_disabled(cJSON *spec, const cJSON *old_spec);

/* SetDefaults_ResourceList: every quantity rounded up to milli precision and rewritten in
 * its canonical form ("1000m" -> "1", 0.5 -> "500m"); unparsable values are left alone. */
void podspec_resource_list_defaults(cJSON *list);

/* ValidateTolerations over a tolerations array at `path` ("spec.tolerations"). */
void podspec_validate_tolerations(const cJSON *tolerations, const char *path,
                                  struct field_errors *e);

/* The tag upstream's parsers.ParseImageName gives an image reference: "latest" when none
 * (and no digest) is given, the tag, or "" for a digest-only or unparsable reference. */
const char *podspec_image_tag(const char *image, char *buf, size_t size);

/* Go-semantics equality of two decoded API values: a missing member equals JSON null, and
 * (outside the pointer fields listed in podspec_update.c) equals false, 0, "", [] and {} as Go's
 * omitempty round trip makes them equal. Used for "field is immutable" checks. */
bool podspec_go_equal(const cJSON *a, const cJSON *b);

#endif
