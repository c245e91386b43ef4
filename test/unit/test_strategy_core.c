/* Unit tests for the core/v1 strategies (apiserver/registry/podspec.c, pods.c, services.c,
 * core.c): upstream's defaults and validation messages, driven through the generic create and
 * update preparation of apiserver/objmeta.c exactly as the REST handlers run them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/objmeta.h"
#include "apiserver/registry/kinds.h"
#include "apiserver/registry/podspec.h"
#include "buf.h"
#include "json.h"
#include "mem.h"

static const struct resource R_POD = {"", "v1", "pods", "pod",  "Pod",  true,
                                      0,  0,    {NULL}, {NULL}, "pods", &strategy_pod};
static const struct resource R_SVC = {
    "", "v1", "services", "service", "Service",        true,
    0,  0,    {NULL},     {NULL},    "services/specs", &strategy_service};
static const struct resource R_NS = {
    "", "v1", "namespaces", "namespace", "Namespace",  false,
    0,  0,    {NULL},       {NULL},      "namespaces", &strategy_namespace};
static const struct resource R_NODE = {"", "v1", "nodes", "node", "Node",    false,
                                       0,  0,    {NULL},  {NULL}, "minions", &strategy_node};
static const struct resource R_CM = {
    "", "v1", "configmaps", "configmap", "ConfigMap",  true,
    0,  0,    {NULL},       {NULL},      "configmaps", &strategy_configmap};
static const struct resource R_SECRET = {"", "v1",   "secrets", "secret",  "Secret",        true, 0,
                                         0,  {NULL}, {NULL},    "secrets", &strategy_secret};
static const struct resource R_EVENT = {"", "v1", "events", "event", "Event",  true,
                                        0,  0,    {NULL},   {NULL},  "events", &strategy_event};
static const struct resource R_RC = {"",
                                     "v1",
                                     "replicationcontrollers",
                                     "replicationcontroller",
                                     "ReplicationController",
                                     true,
                                     0,
                                     0,
                                     {NULL},
                                     {NULL},
                                     "controllers",
                                     &strategy_replicationcontroller};

/* JSON written with single quotes; '^' stands for a literal single quote. */
static cJSON *J(const char *s)
{
    char *d = ck_xstrdup(s);
    for (char *p = d; *p; p++)
        if (*p == '\'')
            *p = '"';
        else if (*p == '^')
            *p = '\'';
    cJSON *j = cJSON_Parse(d);
    if (!j)
        fail_msg("bad test JSON: %s", d);
    free(d);
    return j;
}

/* The errors, one per line, as upstream prints each field.Error. */
static char *join(const struct field_errors *e)
{
    struct ck_buf b = CK_BUF_INIT;
    for (size_t i = 0; i < e->len; i++) {
        char *s = fe_format(&e->items[i]);
        ck_buf_printf(&b, "%s%s", i ? "\n" : "", s);
        free(s);
    }
    return ck_buf_detach(&b);
}

/* Runs create preparation and validation; returns the object (caller frees) and the error
 * lines in *errs (caller frees). */
static cJSON *create(const struct resource *r, const char *json, char **errs)
{
    cJSON *obj = J(json);
    meta_prepare_create(r, obj);
    struct field_errors e = FIELD_ERRORS_INIT;
    meta_validate_create(r, obj, &e);
    *errs = join(&e);
    field_errors_free(&e);
    return obj;
}

/* Creates `old_json` (which must be valid), then applies `new_json` as a main-resource
 * (or /status) update. Returns the updated object; errors in *errs. */
static cJSON *update(const struct resource *r, const char *old_json, const char *new_json,
                     bool status, char **errs)
{
    char *cerr;
    cJSON *old = create(r, old_json, &cerr);
    if (cerr[0])
        fail_msg("old object invalid: %s", cerr);
    free(cerr);
    cJSON *obj = J(new_json);
    meta_set_str(obj, "resourceVersion", "7");
    meta_prepare_update(r, obj, old, status);
    struct field_errors e = FIELD_ERRORS_INIT;
    meta_validate_update(r, obj, old, false, &e);
    *errs = join(&e);
    field_errors_free(&e);
    cJSON_Delete(old);
    return obj;
}

/* ---- defaults ---- */

#define POD(spec) "{'metadata':{'name':'p','namespace':'default'},'spec':" spec "}"
#define C1L "'containers':[{'name':'c','image':'nginx'}]"
#define C1 "{" C1L "}"
#define SVC(spec) "{'metadata':{'name':'s','namespace':'default'},'spec':" spec "}"

struct default_case {
    const struct resource *r;
    const char *in;
    const char *path;
    const char *want; /* JSON, or NULL for "absent" */
};

static const struct default_case DEFAULTS[] = {
    /* PodSpec */
    {&R_POD, POD(C1), "spec.restartPolicy", "'Always'"},
    {&R_POD, POD(C1), "spec.terminationGracePeriodSeconds", "30"},
    {&R_POD, POD(C1), "spec.dnsPolicy", "'ClusterFirst'"},
    {&R_POD, POD(C1), "spec.schedulerName", "'default-scheduler'"},
    {&R_POD, POD(C1), "spec.securityContext", "{}"},
    {&R_POD, POD(C1), "spec.enableServiceLinks", "true"},
    {&R_POD, POD("{'containers':[{'name':'c','image':'x'}],'enableServiceLinks':false}"),
     "spec.enableServiceLinks", "false"},
    {&R_POD, POD(C1), "spec.containers[0].terminationMessagePath", "'/dev/termination-log'"},
    {&R_POD, POD(C1), "spec.containers[0].terminationMessagePolicy", "'File'"},
    {&R_POD, POD(C1), "spec.containers[0].resources", "{}"},
    /* image pull policy from the tag, digests count, bad references fall to IfNotPresent */
    {&R_POD, POD(C1), "spec.containers[0].imagePullPolicy", "'Always'"},
    {&R_POD, POD("{'containers':[{'name':'c','image':'nginx:1.25'}]}"),
     "spec.containers[0].imagePullPolicy", "'IfNotPresent'"},
    {&R_POD, POD("{'containers':[{'name':'c','image':'nginx:latest'}]}"),
     "spec.containers[0].imagePullPolicy", "'Always'"},
    {&R_POD,
     POD("{'containers':[{'name':'c','image':'nginx@sha256:"
         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'}]}"),
     "spec.containers[0].imagePullPolicy", "'IfNotPresent'"},
    {&R_POD, POD("{'containers':[{'name':'c','image':'localhost:5000/team/app'}]}"),
     "spec.containers[0].imagePullPolicy", "'Always'"},
    {&R_POD, POD("{'containers':[{'name':'c','image':'reg.io:5000/app:v1'}]}"),
     "spec.containers[0].imagePullPolicy", "'IfNotPresent'"},
    {&R_POD, POD("{'containers':[{'name':'c','image':'Nginx'}]}"),
     "spec.containers[0].imagePullPolicy", "'IfNotPresent'"},
    {&R_POD, POD("{'initContainers':[{'name':'i','image':'busybox'}]," C1L "}"),
     "spec.initContainers[0].imagePullPolicy", "'Always'"},
    {&R_POD, POD("{'containers':[{'name':'c','image':'x','ports':[{'containerPort':80}]}]}"),
     "spec.containers[0].ports[0].protocol", "'TCP'"},
    {&R_POD,
     POD("{'containers':[{'name':'c','image':'x','livenessProbe':{'httpGet':{'port':80}}}]}"),
     "spec.containers[0].livenessProbe",
     "{'httpGet':{'port':80,'path':'/','scheme':'HTTP'},'timeoutSeconds':1,'periodSeconds':10,"
     "'successThreshold':1,'failureThreshold':3}"},
    {&R_POD,
     POD("{'containers':[{'name':'c','image':'x','readinessProbe':{'grpc':{'port':9000}}}]}"),
     "spec.containers[0].readinessProbe.grpc.service", "''"},
    {&R_POD,
     POD("{'containers':[{'name':'c','image':'x','env':[{'name':'N','valueFrom':{'fieldRef':"
         "{'fieldPath':'metadata.name'}}}]}]}"),
     "spec.containers[0].env[0].valueFrom.fieldRef.apiVersion", "'v1'"},
    /* volumes */
    {&R_POD, POD("{'containers':[{'name':'c','image':'x'}],'volumes':[{'name':'v'}]}"),
     "spec.volumes[0]", "{'name':'v','emptyDir':{}}"},
    {&R_POD,
     POD("{'containers':[{'name':'c','image':'x'}],'volumes':[{'name':'v','configMap':"
         "{'name':'cm'}}]}"),
     "spec.volumes[0].configMap.defaultMode", "420"},
    {&R_POD,
     POD("{'containers':[{'name':'c','image':'x'}],'volumes':[{'name':'v','secret':"
         "{'secretName':'s','defaultMode':256}}]}"),
     "spec.volumes[0].secret.defaultMode", "256"},
    {&R_POD,
     POD("{'containers':[{'name':'c','image':'x'}],'volumes':[{'name':'v','hostPath':"
         "{'path':'/tmp'}}]}"),
     "spec.volumes[0].hostPath.type", "''"},
    {&R_POD,
     POD("{'containers':[{'name':'c','image':'x'}],'volumes':[{'name':'v','projected':"
         "{'sources':[{'serviceAccountToken':{'path':'token'}}]}}],"
         "'serviceAccountName':'default'}"),
     "spec.volumes[0].projected",
     "{'sources':[{'serviceAccountToken':{'path':'token','expirationSeconds':3600}}],"
     "'defaultMode':420}"},
    {&R_POD,
     POD("{'containers':[{'name':'c','image':'x'}],'volumes':[{'name':'v','downwardAPI':"
         "{'items':[{'path':'n','fieldRef':{'fieldPath':'metadata.name'}}]}}]}"),
     "spec.volumes[0].downwardAPI",
     "{'items':[{'path':'n','fieldRef':{'fieldPath':'metadata.name','apiVersion':'v1'}}],"
     "'defaultMode':420}"},
    /* Pod-only: requests from limits, quantities canonical, hostNetwork host ports */
    {&R_POD,
     POD("{'containers':[{'name':'c','image':'x','resources':{'limits':{'cpu':'1000m',"
         "'memory':'128Mi'},'requests':{'memory':'64Mi'}}}]}"),
     "spec.containers[0].resources",
     "{'limits':{'cpu':'1','memory':'128Mi'},'requests':{'memory':'64Mi','cpu':'1'}}"},
    {&R_POD,
     POD("{'containers':[{'name':'c','image':'x','resources':{'requests':{'cpu':0.5,"
         "'memory':'0.1m'}}}]}"),
     "spec.containers[0].resources.requests", "{'cpu':'500m','memory':'1m'}"},
    /* fields of features off by default in v1.32 are dropped on create */
    {&R_POD,
     POD("{'hostUsers':false,'containers':[{'name':'c','image':'x','resizePolicy':"
         "[{'resourceName':'cpu','restartPolicy':'NotRequired'}]}]}"),
     "spec.hostUsers", NULL},
    {&R_POD,
     POD("{'hostUsers':false,'containers':[{'name':'c','image':'x','resizePolicy':"
         "[{'resourceName':'cpu','restartPolicy':'NotRequired'}]}]}"),
     "spec.containers[0].resizePolicy", NULL},
    {&R_POD,
     POD("{'hostNetwork':true,'containers':[{'name':'c','image':'x','ports':"
         "[{'containerPort':8080}]}]}"),
     "spec.containers[0].ports[0].hostPort", "8080"},
    /* create preparation: status */
    {&R_POD, POD(C1), "status", "{'phase':'Pending','qosClass':'BestEffort'}"},
    {&R_POD,
     POD("{'containers':[{'name':'c','image':'x','resources':{'limits':{'cpu':'1',"
         "'memory':'1Gi'}}}]}"),
     "status.qosClass", "'Guaranteed'"},
    {&R_POD,
     POD("{'containers':[{'name':'c','image':'x','resources':{'requests':{'cpu':'100m'}}}]}"),
     "status.qosClass", "'Burstable'"},
    {&R_POD, POD("{'containers':[{'name':'c','image':'x','resources':{'limits':{'cpu':'1'}}}]}"),
     "status.qosClass", "'Burstable'"},
    {&R_POD,
     POD("{'schedulingGates':[{'name':'example.com/gate'}],"
         "'containers':[{'name':'c','image':'x'}]}"),
     "status.conditions",
     "[{'type':'PodScheduled','status':'False','lastProbeTime':null,'lastTransitionTime':null,"
     "'reason':'SchedulingGated','message':'Scheduling is blocked due to non-empty scheduling "
     "gates'}]"},
    /* Service */
    {&R_SVC, SVC("{'selector':{'app':'a'},'ports':[{'port':80}]}"), "spec",
     "{'selector':{'app':'a'},'ports':[{'port':80,'protocol':'TCP','targetPort':80}],"
     "'sessionAffinity':'None','type':'ClusterIP','internalTrafficPolicy':'Cluster',"
     "'ipFamilyPolicy':'SingleStack','ipFamilies':['IPv4']}"},
    {&R_SVC, SVC("{'ports':[{'port':80,'targetPort':'http'}]}"), "spec.ports[0].targetPort",
     "'http'"},
    {&R_SVC, SVC("{'type':'NodePort','ports':[{'port':80}]}"), "spec.externalTrafficPolicy",
     "'Cluster'"},
    {&R_SVC, SVC("{'ports':[{'port':80}]}"), "spec.externalTrafficPolicy", NULL},
    {&R_SVC, SVC("{'type':'LoadBalancer','ports':[{'port':80}]}"),
     "spec.allocateLoadBalancerNodePorts", "true"},
    {&R_SVC, SVC("{'sessionAffinity':'ClientIP','ports':[{'port':80}]}"),
     "spec.sessionAffinityConfig", "{'clientIP':{'timeoutSeconds':10800}}"},
    {&R_SVC, SVC("{'ports':[{'port':80}]}"), "status", "{'loadBalancer':{}}"},
    {&R_SVC, SVC("{'clusterIP':'10.96.0.10','ports':[{'port':80}]}"), "spec.clusterIPs",
     "['10.96.0.10']"},
    {&R_SVC, SVC("{'clusterIP':'None'}"), "spec.ipFamilyPolicy", "'RequireDualStack'"},
    {&R_SVC, SVC("{'clusterIP':'None'}"), "spec.ipFamilies", "['IPv4','IPv6']"},
    {&R_SVC, SVC("{'type':'ExternalName','externalName':'example.com'}"),
     "spec.internalTrafficPolicy", NULL},
    {&R_SVC, SVC("{'type':'ExternalName','externalName':'example.com'}"), "spec.ipFamilies", NULL},
    /* Namespace */
    {&R_NS, "{'metadata':{'name':'team'}}", "status", "{'phase':'Active'}"},
    {&R_NS, "{'metadata':{'name':'team'}}", "spec.finalizers", "['kubernetes']"},
    {&R_NS, "{'metadata':{'name':'team'},'spec':{'finalizers':['example.com/x']}}",
     "spec.finalizers", "['example.com/x','kubernetes']"},
    {&R_NS, "{'metadata':{'name':'team','labels':{'a':'b'}}}", "metadata.labels",
     "{'a':'b','kubernetes.io/metadata.name':'team'}"},
    /* Secret, Node, ReplicationController */
    {&R_SECRET, "{'metadata':{'name':'s','namespace':'default'}}", "type", "'Opaque'"},
    {&R_SECRET,
     "{'metadata':{'name':'s','namespace':'default'},'data':{'a':'eA=='},'stringData':"
     "{'b':'hello','a':'yy'}}",
     "data", "{'a':'eXk=','b':'aGVsbG8='}"},
    {&R_SECRET, "{'metadata':{'name':'s','namespace':'default'},'stringData':{'b':'x'}}",
     "stringData", NULL},
    {&R_NODE, "{'metadata':{'name':'n1'},'spec':{'podCIDR':'10.244.1.0/24'}}", "spec.podCIDRs",
     "['10.244.1.0/24']"},
    {&R_RC,
     "{'metadata':{'name':'rc','namespace':'default'},'spec':{'template':{'metadata':"
     "{'labels':{'app':'web'}},'spec':{'containers':[{'name':'c','image':'nginx:1'}]}}}}",
     "spec.selector", "{'app':'web'}"},
    {&R_RC,
     "{'metadata':{'name':'rc','namespace':'default'},'spec':{'template':{'metadata':"
     "{'labels':{'app':'web'}},'spec':{'containers':[{'name':'c','image':'nginx:1'}]}}}}",
     "metadata.labels", "{'app':'web'}"},
    {&R_RC,
     "{'metadata':{'name':'rc','namespace':'default'},'spec':{'template':{'metadata':"
     "{'labels':{'app':'web'}},'spec':{'containers':[{'name':'c','image':'nginx:1'}]}}}}",
     "spec.replicas", "1"},
    {&R_RC,
     "{'metadata':{'name':'rc','namespace':'default'},'spec':{'template':{'metadata':"
     "{'labels':{'app':'web'}},'spec':{'containers':[{'name':'c','image':'nginx:1'}]}}}}",
     "spec.template.metadata", "{'labels':{'app':'web'},'creationTimestamp':null}"},
    {&R_RC,
     "{'metadata':{'name':'rc','namespace':'default'},'spec':{'template':{'metadata':"
     "{'labels':{'app':'web'}},'spec':{'containers':[{'name':'c','image':'nginx:1'}]}}}}",
     "spec.template.spec.enableServiceLinks", NULL},
    {&R_RC,
     "{'metadata':{'name':'rc','namespace':'default'},'spec':{'template':{'metadata':"
     "{'labels':{'app':'web'}},'spec':{'containers':[{'name':'c','image':'nginx:1'}]}}}}",
     "status", "{'replicas':0}"},
};

static void defaults_follow_upstream(void **state)
{
    (void)state;
    for (size_t i = 0; i < CK_ARRAY_SIZE(DEFAULTS); i++) {
        const struct default_case *c = &DEFAULTS[i];
        char *errs;
        cJSON *obj = create(c->r, c->in, &errs);
        const cJSON *got = ck_json_get(obj, c->path);
        char *printed = got ? ck_json_print(got, 0) : ck_xstrdup("<absent>");
        if (errs[0])
            fail_msg("case %zu (%s): unexpected errors:\n%s", i, c->path, errs);
        if (!c->want) {
            if (got)
                fail_msg("case %zu: %s should be absent, is %s", i, c->path, printed);
        } else {
            cJSON *want = J(c->want);
            if (!ck_json_equal(got, want))
                fail_msg("case %zu: %s = %s, want %s", i, c->path, printed, c->want);
            cJSON_Delete(want);
        }
        assert_true(true);
        free(printed);
        free(errs);
        cJSON_Delete(obj);
    }
}

/* Defaults are stable: running them again on the defaulted object changes nothing. */
static void defaults_are_idempotent(void **state)
{
    (void)state;
    for (size_t i = 0; i < CK_ARRAY_SIZE(DEFAULTS); i++) {
        char *errs;
        cJSON *obj = create(DEFAULTS[i].r, DEFAULTS[i].in, &errs);
        cJSON *again = cJSON_Duplicate(obj, 1);
        DEFAULTS[i].r->strategy->defaults(again);
        assert_true(ck_json_equal(obj, again));
        free(errs);
        cJSON_Delete(again);
        cJSON_Delete(obj);
    }
}

/* ---- create validation ---- */

struct error_case {
    const struct resource *r;
    const char *in;
    const char *want; /* every error line, "" for a valid object */
};

#define LABEL_MSG                                                                                  \
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "   \
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "     \
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"

static const struct error_case CREATE_ERRORS[] = {
    {&R_POD, POD(C1), ""},
    {&R_POD, POD("{}"), "spec.containers: Required value"},
    /* a pod using most of the spec, the way real manifests do, is valid */
    {&R_POD,
     POD("{'serviceAccountName':'web','priorityClassName':'high','imagePullSecrets':[{'name':"
         "'regcred'}],'hostAliases':[{'ip':'10.1.2.3','hostnames':['db.local']}],"
         "'dnsPolicy':'None','dnsConfig':{'nameservers':['1.1.1.1'],'searches':['svc.local.'],"
         "'options':[{'name':'ndots','value':'2'}]},'readinessGates':[{'conditionType':"
         "'example.com/ready'}],'tolerations':[{'key':'node.kubernetes.io/not-ready','operator':"
         "'Exists','effect':'NoExecute','tolerationSeconds':300}],'affinity':{'nodeAffinity':"
         "{'requiredDuringSchedulingIgnoredDuringExecution':{'nodeSelectorTerms':"
         "[{'matchExpressions':[{'key':'kubernetes.io/os','operator':'In','values':['linux']}]}]}},"
         "'podAntiAffinity':{'preferredDuringSchedulingIgnoredDuringExecution':[{'weight':100,"
         "'podAffinityTerm':{'topologyKey':'kubernetes.io/hostname','labelSelector':"
         "{'matchLabels':{'app':'web'}}}}]}},'topologySpreadConstraints':[{'maxSkew':1,"
         "'topologyKey':'zone','whenUnsatisfiable':'ScheduleAnyway'}],'securityContext':"
         "{'runAsUser':1000,'fsGroup':2000,'sysctls':[{'name':'net.core.somaxconn','value':"
         "'1024'}],'seccompProfile':{'type':'RuntimeDefault'}},'volumes':[{'name':'cfg',"
         "'configMap':{'name':'web','items':[{'key':'a','path':'conf/a'}]}},{'name':'tls',"
         "'secret':{'secretName':'web-tls'}},{'name':'cache','emptyDir':{'sizeLimit':'1Gi'}},"
         "{'name':'data','persistentVolumeClaim':{'claimName':'web-data'}},{'name':'info',"
         "'downwardAPI':{'items':[{'path':'labels','fieldRef':{'fieldPath':'metadata.labels'}},"
         "{'path':'cpu','resourceFieldRef':{'containerName':'web','resource':'limits.cpu',"
         "'divisor':'1m'}}]}}],'initContainers':[{'name':'proxy','image':'envoy:1.30',"
         "'restartPolicy':'Always','readinessProbe':{'tcpSocket':{'port':9901}}}],'containers':"
         "[{'name':'web','image':'registry.example.com:5000/web:1.2.3','command':['/web'],"
         "'ports':[{'name':'http','containerPort':8080},{'name':'metrics','containerPort':9090,"
         "'protocol':'TCP'}],'env':[{'name':'MODE','value':'prod'},{'name':'POD_IP','valueFrom':"
         "{'fieldRef':{'fieldPath':'status.podIP'}}},{'name':'LABEL','valueFrom':{'fieldRef':"
         "{'fieldPath':'metadata.labels[^app^]'}}},{'name':'MEM','valueFrom':"
         "{'resourceFieldRef':{'resource':'limits.memory','divisor':'1Mi'}}},{'name':'PW',"
         "'valueFrom':{'secretKeyRef':{'name':'db','key':'password'}}},{'name':'X','valueFrom':"
         "{'configMapKeyRef':{'name':'web','key':'x','optional':true}}}],'envFrom':"
         "[{'prefix':'CFG_','configMapRef':{'name':'web'}}],'resources':{'requests':{'cpu':"
         "'250m','memory':'64Mi','ephemeral-storage':'1Gi'},'limits':{'cpu':'1','memory':"
         "'128Mi','hugepages-2Mi':'4Mi'}},'volumeMounts':[{'name':'cfg','mountPath':'/etc/web',"
         "'readOnly':true},{'name':'data','mountPath':'/data','subPath':'web'},{'name':'cache',"
         "'mountPath':'/cache'},{'name':'tls','mountPath':'/tls','readOnly':true,"
         "'recursiveReadOnly':'IfPossible'},{'name':'info','mountPath':'/info'}],"
         "'livenessProbe':{'httpGet':{'path':'/healthz','port':'http','httpHeaders':[{'name':"
         "'X-Probe','value':'1'}]},'initialDelaySeconds':5},'startupProbe':{'exec':{'command':"
         "['true']},'failureThreshold':30},'readinessProbe':{'grpc':{'port':9090}},'lifecycle':"
         "{'preStop':{'sleep':{'seconds':5}}},'securityContext':{'allowPrivilegeEscalation':"
         "false,'readOnlyRootFilesystem':true,'capabilities':{'drop':['ALL']}}}]}"),
     ""},
    {&R_POD, POD("{'containers':[{'name':'Web','image':'x'}]}"),
     "spec.containers[0].name: Invalid value: \"Web\": " LABEL_MSG},
    {&R_POD, POD("{'containers':[{'name':'a','image':'x'},{'name':'a','image':'y'}]}"),
     "spec.containers[1].name: Duplicate value: \"a\""},
    {&R_POD, POD("{'containers':[{'name':'a'}]}"), "spec.containers[0].image: Required value"},
    {&R_POD, POD("{'containers':[{'name':'a','image':' nginx'}]}"),
     "spec.containers[0].image: Invalid value: \" nginx\": must not have leading or trailing "
     "whitespace"},
    {&R_POD, POD("{'restartPolicy':'Sometimes','containers':[{'name':'a','image':'x'}]}"),
     "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", "
     "\"OnFailure\", \"Never\""},
    {&R_POD, POD("{'dnsPolicy':'Google','containers':[{'name':'a','image':'x'}]}"),
     "spec.dnsPolicy: Unsupported value: \"Google\": supported values: "
     "\"ClusterFirstWithHostNet\", \"ClusterFirst\", \"Default\", \"None\""},
    {&R_POD,
     POD("{'containers':[{'name':'a','image':'x','resources':{'limits':{'cpu':'1'},'requests':"
         "{'cpu':'2'}}}]}"),
     "spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal "
     "to cpu limit of 1"},
    {&R_POD, POD("{'containers':[{'name':'a','image':'x','resources':{'requests':{'cpu':'-1'}}}]}"),
     "spec.containers[0].resources.requests[cpu]: Invalid value: \"-1\": must be greater than or "
     "equal to 0"},
    {&R_POD, POD("{'containers':[{'name':'a','image':'x','resources':{'limits':{'gpu':'1'}}}]}"),
     /* requests default to limits, so both lists report it */
     "spec.containers[0].resources.limits[gpu]: Invalid value: gpu: must be a standard resource "
     "type or fully qualified\n"
     "spec.containers[0].resources.limits[gpu]: Invalid value: gpu: must be a standard resource "
     "for containers\n"
     "spec.containers[0].resources.requests[gpu]: Invalid value: gpu: must be a standard "
     "resource type or fully qualified\n"
     "spec.containers[0].resources.requests[gpu]: Invalid value: gpu: must be a standard "
     "resource for containers"},
    {&R_POD,
     POD("{'containers':[{'name':'a','image':'x','resources':{'limits':{'example.com/gpu':"
         "'500m'}}}]}"),
     "spec.containers[0].resources.limits[example.com/gpu]: Invalid value: 500m: must be an "
     "integer\n"
     "spec.containers[0].resources.requests[example.com/gpu]: Invalid value: 500m: must be an "
     "integer"},
    {&R_POD,
     POD("{'containers':[{'name':'a','image':'x','resources':{'requests':{'example.com/gpu':"
         "'1'}}}]}"),
     "spec.containers[0].resources.limits: Required value: Limit must be set for non "
     "overcommitable resources"},
    {&R_POD,
     POD("{'containers':[{'name':'a','image':'x','volumeMounts':[{'name':'data','mountPath':"
         "'/d'}]}]}"),
     "spec.containers[0].volumeMounts[0].name: Not found: \"data\""},
    {&R_POD,
     POD("{'containers':[{'name':'a','image':'x'}],'volumes':[{'name':'v','emptyDir':{},"
         "'hostPath':{'path':'/x'}}]}"),
     "spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type"},
    {&R_POD, POD("{'containers':[{'name':'a','image':'x'}],'volumes':[{'name':'v'},{'name':'v'}]}"),
     "spec.volumes[1].name: Duplicate value: \"v\""},
    {&R_POD,
     POD("{'containers':[{'name':'a','image':'x'}],'volumes':[{'name':'v','configMap':{}}]}"),
     "spec.volumes[0].configMap.name: Required value"},
    {&R_POD,
     POD("{'containers':[{'name':'a','image':'x'}],'volumes':[{'name':'v','secret':"
         "{'secretName':'s','defaultMode':1000}}]}"),
     "spec.volumes[0].secret.defaultMode: Invalid value: 1000: must be a number between 0 and "
     "0777 (octal), both inclusive"},
    {&R_POD, POD("{'containers':[{'name':'a','image':'x','ports':[{'containerPort':70000}]}]}"),
     "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and "
     "65535, inclusive"},
    {&R_POD,
     POD("{'containers':[{'name':'a','image':'x','ports':[{'containerPort':80,'protocol':"
         "'HTTP'}]}]}"),
     "spec.containers[0].ports[0].protocol: Unsupported value: \"HTTP\": supported values: "
     "\"SCTP\", \"TCP\", \"UDP\""},
    {&R_POD,
     POD("{'containers':[{'name':'a','image':'x','ports':[{'containerPort':80,'hostPort':80}]},"
         "{'name':'b','image':'x','ports':[{'containerPort':81,'hostPort':80}]}]}"),
     "spec.containers[1].ports[0].hostPort: Duplicate value: \"TCP//80\""},
    {&R_POD, POD("{'containers':[{'name':'a','image':'x','env':[{'name':'A=B','value':'1'}]}]}"),
     "spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable name "
     "must consist only of printable ASCII characters other than '='"},
    {&R_POD,
     POD("{'containers':[{'name':'a','image':'x','env':[{'name':'A','valueFrom':{'fieldRef':"
         "{'fieldPath':'spec.foo'}}}]}]}"),
     "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Invalid value: \"spec.foo\": error "
     "converting fieldPath: field label not supported: spec.foo"},
    {&R_POD,
     POD("{'containers':[{'name':'a','image':'x','env':[{'name':'A','valueFrom':{'fieldRef':"
         "{'fieldPath':'metadata.labels'}}}]}]}"),
     "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "
     "\"metadata.labels\": supported values: \"metadata.name\", \"metadata.namespace\", "
     "\"metadata.uid\", \"spec.nodeName\", \"spec.serviceAccountName\", \"status.hostIP\", "
     "\"status.hostIPs\", \"status.podIP\", \"status.podIPs\""},
    {&R_POD, POD("{'containers':[{'name':'a','image':'x','livenessProbe':{'periodSeconds':5}}]}"),
     "spec.containers[0].livenessProbe: Required value: must specify a handler type"},
    {&R_POD,
     POD("{'containers':[{'name':'a','image':'x','livenessProbe':{'tcpSocket':{'port':80},"
         "'successThreshold':2}}]}"),
     "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"},
    {&R_POD,
     POD("{'initContainers':[{'name':'i','image':'x','readinessProbe':{'exec':{'command':"
         "['true']}}}]," C1L "}"),
     "spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers "
     "without restartPolicy=Always"},
    {&R_POD,
     POD("{'initContainers':[{'name':'c','image':'x'}],'containers':[{'name':'c','image':'x'}]}"),
     "spec.initContainers[0].name: Duplicate value: \"c\""},
    {&R_POD, POD("{'nodeName':'Node_1','containers':[{'name':'a','image':'x'}]}"),
     "spec.nodeName: Invalid value: \"Node_1\": a lowercase RFC 1123 subdomain must consist of "
     "lower case alphanumeric characters, '-' or '.', and must start and end with an "
     "alphanumeric character (e.g. 'example.com', regex used for validation is "
     "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"},
    {&R_POD, POD("{'activeDeadlineSeconds':0,'containers':[{'name':'a','image':'x'}]}"),
     "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, "
     "inclusive"},
    {&R_POD, POD("{'containers':[{'name':'a','image':'x','imagePullPolicy':'Sometimes'}]}"),
     "spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": supported values: "
     "\"Always\", \"IfNotPresent\", \"Never\""},
    {&R_POD,
     POD("{'tolerations':[{'operator':'Equal','value':'x'}],'containers':[{'name':'a','image':"
         "'x'}]}"),
     "spec.tolerations[0].operator: Invalid value: \"Equal\": operator must be Exists when `key` "
     "is empty, which means \"match all values and all keys\""},
    {&R_POD,
     POD("{'hostNetwork':true,'containers':[{'name':'a','image':'x','ports':[{'containerPort':80,"
         "'hostPort':81}]}]}"),
     "spec.containers[0].ports[0].hostPort: Invalid value: 81: must match `containerPort` when "
     "`hostNetwork` is true"},
    {&R_POD, POD("{'ephemeralContainers':[{'name':'dbg','image':'busybox'}]," C1L "}"),
     "spec.ephemeralContainers: Forbidden: cannot be set on create"},
    {&R_POD,
     "{'metadata':{'name':'p','namespace':'default','annotations':{"
     "'controller.kubernetes.io/pod-deletion-cost':'+10'}},'spec':" C1 "}",
     "metadata.annotations[controller.kubernetes.io/pod-deletion-cost]: Invalid value: \"+10\": "
     "must be a 32bit integer"},
    /* Service */
    {&R_SVC, SVC("{'selector':{'app':'a'},'ports':[{'port':80}]}"), ""},
    {&R_SVC, SVC("{'selector':{'app':'a'}}"), "spec.ports: Required value"},
    {&R_SVC, SVC("{'clusterIP':'None'}"), ""},
    {&R_SVC, SVC("{'ports':[{'port':80},{'port':81}]}"),
     "spec.ports[0].name: Required value\nspec.ports[1].name: Required value"},
    {&R_SVC, SVC("{'ports':[{'port':0}]}"),
     "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive\n"
     "spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive"},
    {&R_SVC, SVC("{'ports':[{'port':53,'protocol':'ICMP'}]}"),
     "spec.ports[0].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", "
     "\"UDP\""},
    {&R_SVC, SVC("{'type':'Foo','ports':[{'port':80}]}"),
     "spec.type: Unsupported value: \"Foo\": supported values: \"ClusterIP\", \"ExternalName\", "
     "\"LoadBalancer\", \"NodePort\""},
    {&R_SVC, SVC("{'type':'NodePort','clusterIP':'None','ports':[{'port':80}]}"),
     "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort "
     "services"},
    {&R_SVC, SVC("{'ports':[{'port':80,'nodePort':30080}]}"),
     "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"},
    {&R_SVC, SVC("{'type':'ExternalName'}"), "spec.externalName: Required value"},
    {&R_SVC, SVC("{'type':'ExternalName','externalName':'db.example.com.'}"), ""},
    {&R_SVC, SVC("{'ports':[{'name':'a','port':80},{'name':'b','port':80}]}"),
     "spec.ports[1]: Duplicate value: core.ServicePort{Name:\"\", Protocol:\"TCP\", "
     "AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, "
     "StrVal:\"\"}, NodePort:0}"},
    {&R_SVC, SVC("{'ports':[{'port':80,'targetPort':'web_port'}]}"),
     "spec.ports[0].targetPort: Invalid value: \"web_port\": must contain only alpha-numeric "
     "characters (a-z, 0-9), and hyphens (-)"},
    {&R_SVC,
     SVC("{'sessionAffinity':'ClientIP','sessionAffinityConfig':{'clientIP':"
         "{'timeoutSeconds':90000}},'ports':[{'port':80}]}"),
     "spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 90000: must be greater "
     "than 0 and less than 86400"},
    {&R_SVC, "{'metadata':{'name':'1svc','namespace':'default'},'spec':{'ports':[{'port':80}]}}",
     "metadata.name: Invalid value: \"1svc\": a DNS-1035 label must consist of lower case "
     "alphanumeric characters or '-', start with an alphabetic character, and end with an "
     "alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is "
     "'[a-z]([-a-z0-9]*[a-z0-9])?')"},
    /* Secret, ConfigMap */
    {&R_SECRET, "{'metadata':{'name':'s','namespace':'default'},'data':{'k':'abc!'}}",
     "data[k]: Invalid value: illegal base64 data at input byte 3"},
    {&R_SECRET, "{'metadata':{'name':'s','namespace':'default'},'data':{'k':'abc'}}",
     "data[k]: Invalid value: illegal base64 data at input byte 0"},
    {&R_SECRET, "{'metadata':{'name':'s','namespace':'default'},'data':{'k':'YWJj\\nZA=='}}", ""},
    {&R_SECRET, "{'metadata':{'name':'s','namespace':'default'},'data':{'a b':'eA=='}}",
     "data[a b]: Invalid value: \"a b\": a valid config key must consist of alphanumeric "
     "characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used "
     "for validation is '[-._a-zA-Z0-9]+')"},
    {&R_SECRET,
     "{'metadata':{'name':'s','namespace':'default'},'type':'kubernetes.io/tls','data':"
     "{'tls.crt':'eA=='}}",
     "data[tls.key]: Required value"},
    {&R_SECRET,
     "{'metadata':{'name':'s','namespace':'default'},'type':'kubernetes.io/dockerconfigjson',"
     "'data':{'.dockerconfigjson':'W10='}}",
     "data[.dockerconfigjson]: Invalid value: \"<secret contents redacted>\": json: cannot "
     "unmarshal array into Go value of type map[string]interface {}"},
    {&R_CM, "{'metadata':{'name':'c','namespace':'default'},'data':{'..x':'1'}}",
     "data[..x]: Invalid value: \"..x\": must not start with '..'"},
    {&R_CM,
     "{'metadata':{'name':'c','namespace':'default'},'data':{'a':'1'},'binaryData':{'a':'eA=='}}",
     "data[a]: Invalid value: \"a\": duplicate of key present in binaryData"},
    /* Namespace, Node, Event, ReplicationController */
    {&R_NS, "{'metadata':{'name':'team'},'spec':{'finalizers':['custom']}}",
     "spec.finalizers: Invalid value: \"custom\": name is neither a standard finalizer name nor "
     "is it fully qualified"},
    {&R_NODE,
     "{'metadata':{'name':'n1'},'spec':{'taints':[{'key':'k','effect':'NoSchedule'},{'key':'k',"
     "'value':'v','effect':'NoSchedule'}]}}",
     "metadata.taints[1]: Duplicate value: core.Taint{Key:\"k\", Value:\"v\", Effect:"
     "\"NoSchedule\", TimeAdded:(*v1.Time)(nil)}: taints must be unique by key and effect pair"},
    {&R_NODE, "{'metadata':{'name':'n1'},'spec':{'podCIDRs':['10.0.0.0/33']}}",
     "spec.podCIDRs[0]: Invalid value: \"10.0.0.0/33\": must be a valid CIDR value, (e.g. "
     "10.9.8.0/24 or 2001:db8::/64)"},
    {&R_EVENT,
     "{'metadata':{'name':'e','namespace':'default'},'involvedObject':{'kind':'Pod','name':'p',"
     "'namespace':'other'},'reason':'Started'}",
     "involvedObject.namespace: Invalid value: \"other\": does not match event.namespace"},
    {&R_EVENT,
     "{'metadata':{'name':'e','namespace':'default'},'involvedObject':{'kind':'Node','name':'n'},"
     "'reason':'Ready'}",
     ""},
    {&R_RC,
     "{'metadata':{'name':'rc','namespace':'default'},'spec':{'selector':{'app':'db'},"
     "'template':{'metadata':{'labels':{'app':'web'}},'spec':{'containers':[{'name':'c',"
     "'image':'x'}]}}}}",
     "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: "
     "`selector` does not match template `labels`"},
    {&R_RC,
     "{'metadata':{'name':'rc','namespace':'default'},'spec':{'replicas':-1,'template':"
     "{'metadata':{'labels':{'app':'web'}},'spec':{'restartPolicy':'Never','containers':"
     "[{'name':'c','image':'x'}]}}}}",
     "spec.replicas: Invalid value: -1: must be greater than or equal to 0\n"
     "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: "
     "\"Always\""},
    {&R_RC, "{'metadata':{'name':'rc','namespace':'default'},'spec':{}}",
     "spec.selector: Required value\nspec.template: Required value"},
};

static void create_validation_messages(void **state)
{
    (void)state;
    for (size_t i = 0; i < CK_ARRAY_SIZE(CREATE_ERRORS); i++) {
        char *errs;
        cJSON *obj = create(CREATE_ERRORS[i].r, CREATE_ERRORS[i].in, &errs);
        if (strcmp(errs, CREATE_ERRORS[i].want))
            fail_msg("case %zu: got\n%s\nwant\n%s", i, errs, CREATE_ERRORS[i].want);
        assert_string_equal(errs, CREATE_ERRORS[i].want);
        free(errs);
        cJSON_Delete(obj);
    }
}

/* The 422 Status built from the errors names the kind and carries one cause per error. */
static void invalid_pod_status(void **state)
{
    (void)state;
    cJSON *pod = J(POD("{'containers':[{'name':'a'},{'name':'a','image':'x'}]}"));
    meta_prepare_create(&R_POD, pod);
    struct field_errors e = FIELD_ERRORS_INIT;
    meta_validate_create(&R_POD, pod, &e);
    struct ck_error err = CK_ERROR_INIT;
    fe_to_error(&e, "", "Pod", "p", &err);
    assert_int_equal(err.code, 422);
    assert_string_equal(err.message, "Pod \"p\" is invalid: [spec.containers[0].image: Required "
                                     "value, spec.containers[1].name: Duplicate value: \"a\"]");
    assert_int_equal(cJSON_GetArraySize(ck_json_get(err.details, "causes")), 2);
    ck_error_clear(&err);
    field_errors_free(&e);
    cJSON_Delete(pod);
}

/* ---- updates ---- */

struct update_case {
    const struct resource *r;
    const char *old;
    const char *new;
    bool status;
    const char *want; /* error lines; with prefix set, only their beginning */
    bool prefix;
    const char *path;  /* optional: a value of the updated object */
    const char *value; /* JSON, or NULL for absent */
};

#define PODC(c) POD("{'containers':[" c "]}")
#define NODEPORT_SVC                                                                               \
    SVC("{'type':'NodePort','clusterIP':'10.0.0.9','selector':{'app':'a'},'ports':"                \
        "[{'port':80,'nodePort':30080}]}")

static const struct update_case UPDATES[] = {
    /* pods: images may change; nothing else in the spec */
    {&R_POD, PODC("{'name':'c','image':'nginx:1'}"), PODC("{'name':'c','image':'nginx:2'}"), false,
     "", false, "spec.containers[0].image", "'nginx:2'"},
    {&R_POD, PODC("{'name':'c','image':'nginx:1'}"),
     POD("{'restartPolicy':'Never','containers':[{'name':'c','image':'nginx:1'}]}"), false,
     "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
     "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
     "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be "
     "set to 1 if it was previously negative)\n  core.PodSpec{\n",
     true, NULL, NULL},
    {&R_POD, PODC("{'name':'c','image':'nginx:1'}"),
     PODC("{'name':'c','image':'nginx:1'},{'name':'d','image':'x'}"), false,
     "spec.containers: Forbidden: pod updates may not add or remove containers", false, NULL, NULL},
    {&R_POD, PODC("{'name':'c','image':'nginx:1'}"), PODC("{'name':'c','image':''}"), false,
     "spec.containers[0].image: Required value\nspec.containers[0].image: Required value", false,
     NULL, NULL},
    {&R_POD, POD("{'activeDeadlineSeconds':30,'containers':[{'name':'c','image':'x'}]}"),
     POD("{'activeDeadlineSeconds':60,'containers':[{'name':'c','image':'x'}]}"), false,
     "spec.activeDeadlineSeconds: Invalid value: 60: must be less than or equal to previous value",
     false, NULL, NULL},
    {&R_POD, POD("{'activeDeadlineSeconds':30,'containers':[{'name':'c','image':'x'}]}"),
     POD("{'activeDeadlineSeconds':10,'containers':[{'name':'c','image':'x'}]}"), false, "", false,
     "spec.activeDeadlineSeconds", "10"},
    {&R_POD,
     POD("{'tolerations':[{'key':'a','operator':'Exists'}],'containers':[{'name':'c','image':"
         "'x'}]}"),
     POD("{'tolerations':[{'key':'a','operator':'Exists'},{'key':'b','operator':'Exists'}],"
         "'containers':[{'name':'c','image':'x'}]}"),
     false, "", false, "spec.tolerations[1].key", "'b'"},
    {&R_POD,
     POD("{'tolerations':[{'key':'a','operator':'Exists'}],'containers':[{'name':'c','image':"
         "'x'}]}"),
     POD("{'tolerations':[{'key':'z','operator':'Exists'}],'containers':[{'name':'c','image':"
         "'x'}]}"),
     false,
     "spec.tolerations: Forbidden: existing toleration can not be modified except its "
     "tolerationSeconds",
     false, NULL, NULL},
    {&R_POD, POD("{'terminationGracePeriodSeconds':-1,'containers':[{'name':'c','image':'x'}]}"),
     POD("{'terminationGracePeriodSeconds':1,'containers':[{'name':'c','image':'x'}]}"), false, "",
     false, "spec.terminationGracePeriodSeconds", "1"},
    {&R_POD, POD("{'schedulingGates':[{'name':'a.io/g'}],'containers':[{'name':'c','image':'x'}]}"),
     POD("{'schedulingGates':[{'name':'a.io/g'},{'name':'b.io/h'}],'containers':[{'name':'c',"
         "'image':'x'}]}"),
     false,
     "spec.schedulingGates[1].name: Forbidden: only deletion is allowed, but found new "
     "scheduling gate 'b.io/h'",
     false, NULL, NULL},
    /* /status updates keep the stored spec; the QoS class may not change */
    {&R_POD, PODC("{'name':'c','image':'nginx:1'}"),
     "{'metadata':{'name':'p','namespace':'default'},'spec':{'containers':[{'name':'c','image':"
     "'other'}]},'status':{'phase':'Running','qosClass':'BestEffort'}}",
     true, "", false, "spec.containers[0].image", "'nginx:1'"},
    {&R_POD, PODC("{'name':'c','image':'nginx:1'}"),
     "{'metadata':{'name':'p','namespace':'default'},'status':{'phase':'Running','qosClass':"
     "'Guaranteed'}}",
     true, "status.qosClass: Invalid value: \"Guaranteed\": field is immutable", false, NULL, NULL},
    /* a main update keeps the stored status */
    {&R_POD, PODC("{'name':'c','image':'x'}"),
     "{'metadata':{'name':'p','namespace':'default'},'spec':{'containers':[{'name':'c','image':"
     "'x'}]},'status':{'phase':'Failed'}}",
     false, "", false, "status.phase", "'Pending'"},
    /* services: allocated values survive clients that leave them out */
    {&R_SVC, NODEPORT_SVC, SVC("{'type':'NodePort','selector':{'app':'a'},'ports':[{'port':80}]}"),
     false, "", false, "spec.ports[0].nodePort", "30080"},
    {&R_SVC, NODEPORT_SVC, SVC("{'type':'NodePort','selector':{'app':'a'},'ports':[{'port':80}]}"),
     false, "", false, "spec.clusterIPs", "['10.0.0.9']"},
    {&R_SVC, NODEPORT_SVC,
     SVC("{'type':'NodePort','clusterIP':'10.0.0.8','clusterIPs':['10.0.0.8'],'selector':"
         "{'app':'a'},'ports':[{'port':80}]}"),
     false, "spec.clusterIPs[0]: Invalid value: []string{\"10.0.0.8\"}: may not change once set",
     false, NULL, NULL},
    /* a changed clusterIP alone: the stored clusterIPs are patched in, and no longer match */
    {&R_SVC, NODEPORT_SVC,
     SVC("{'type':'NodePort','clusterIP':'10.0.0.8','selector':{'app':'a'},'ports':[{'port':80}]}"),
     false,
     "spec.clusterIPs: Invalid value: []string{\"10.0.0.9\"}: first value must match "
     "`clusterIP`",
     false, NULL, NULL},
    {&R_SVC, NODEPORT_SVC,
     SVC("{'type':'ClusterIP','clusterIP':'10.0.0.9','selector':{'app':'a'},'ports':[{'port':80,"
         "'nodePort':30080}],'externalTrafficPolicy':'Cluster'}"),
     false, "", false, "spec.ports[0].nodePort", NULL},
    {&R_SVC, NODEPORT_SVC,
     SVC("{'type':'ClusterIP','clusterIP':'10.0.0.9','selector':{'app':'a'},'ports':[{'port':80,"
         "'nodePort':30080}],'externalTrafficPolicy':'Cluster'}"),
     false, "", false, "spec.externalTrafficPolicy", NULL},
    {&R_SVC, NODEPORT_SVC,
     SVC("{'type':'ExternalName','externalName':'x.example.com','clusterIP':'10.0.0.9',"
         "'clusterIPs':['10.0.0.9'],'ipFamilies':['IPv4'],'ipFamilyPolicy':'SingleStack',"
         "'ports':[{'port':80,'nodePort':30080}],'externalTrafficPolicy':'Cluster'}"),
     false, "", false, "spec.clusterIP", NULL},
    /* immutable ConfigMaps and Secrets, Secret type, Namespace finalizers */
    {&R_CM, "{'metadata':{'name':'c','namespace':'default'},'immutable':true,'data':{'a':'1'}}",
     "{'metadata':{'name':'c','namespace':'default'},'immutable':true,'data':{'a':'2'}}", false,
     "data: Forbidden: field is immutable when `immutable` is set", false, NULL, NULL},
    {&R_CM, "{'metadata':{'name':'c','namespace':'default'},'immutable':true,'data':{'a':'1'}}",
     "{'metadata':{'name':'c','namespace':'default'},'data':{'a':'1'}}", false,
     "immutable: Forbidden: field is immutable when `immutable` is set", false, NULL, NULL},
    {&R_CM, "{'metadata':{'name':'c','namespace':'default'},'data':{'a':'1'}}",
     "{'metadata':{'name':'c','namespace':'default'},'immutable':true,'data':{'a':'2'}}", false, "",
     false, "data.a", "'2'"},
    {&R_SECRET, "{'metadata':{'name':'s','namespace':'default'},'data':{'a':'eA=='}}",
     "{'metadata':{'name':'s','namespace':'default'},'type':'kubernetes.io/basic-auth','data':"
     "{'username':'eA=='}}",
     false, "type: Invalid value: \"kubernetes.io/basic-auth\": field is immutable", false, NULL,
     NULL},
    {&R_SECRET,
     "{'metadata':{'name':'s','namespace':'default'},'immutable':true,'data':{'a':'eA=='}}",
     "{'metadata':{'name':'s','namespace':'default'},'immutable':true,'stringData':{'a':'y'}}",
     false, "data: Forbidden: field is immutable when `immutable` is set", false, NULL, NULL},
    {&R_NS, "{'metadata':{'name':'team'}}", "{'metadata':{'name':'team'},'spec':{'finalizers':[]}}",
     false, "", false, "spec.finalizers", "['kubernetes']"},
    {&R_NS, "{'metadata':{'name':'team'}}",
     "{'metadata':{'name':'team'},'status':{'phase':'Terminating'}}", true,
     "status.Phase: Invalid value: \"Terminating\": may only be 'Active' if `deletionTimestamp` "
     "is empty",
     false, NULL, NULL},
    {&R_NODE, "{'metadata':{'name':'n1'},'spec':{'podCIDR':'10.244.1.0/24'}}",
     "{'metadata':{'name':'n1'},'spec':{'podCIDR':'10.244.2.0/24','podCIDRs':['10.244.2.0/24']}}",
     false,
     "spec.podCIDRs: Forbidden: node updates may not change podCIDR except from \"\" to valid",
     false, NULL, NULL},
    {&R_NODE, "{'metadata':{'name':'n1'}}",
     "{'metadata':{'name':'n1'},'spec':{'podCIDR':'10.244.2.0/24'}}", false, "", false,
     "spec.podCIDRs", "['10.244.2.0/24']"},
};

static void update_rules(void **state)
{
    (void)state;
    for (size_t i = 0; i < CK_ARRAY_SIZE(UPDATES); i++) {
        const struct update_case *c = &UPDATES[i];
        char *errs;
        cJSON *obj = update(c->r, c->old, c->new, c->status, &errs);
        bool ok = c->prefix ? !strncmp(errs, c->want, strlen(c->want)) : !strcmp(errs, c->want);
        if (!ok)
            fail_msg("case %zu: got\n%s\nwant%s\n%s", i, errs, c->prefix ? " prefix" : "", c->want);
        assert_true(ok);
        if (c->path) {
            const cJSON *got = ck_json_get(obj, c->path);
            if (!c->value) {
                assert_null(got);
            } else {
                cJSON *want = J(c->value);
                assert_true(ck_json_equal(got, want));
                cJSON_Delete(want);
            }
        }
        free(errs);
        cJSON_Delete(obj);
    }
}

/* The forbidden-update message carries a diff naming the changed field with old and new. */
static void pod_update_diff_names_field(void **state)
{
    (void)state;
    char *errs;
    cJSON *obj = update(&R_POD, PODC("{'name':'c','image':'x'}"),
                        POD("{'restartPolicy':'Never','containers':[{'name':'c','image':'y'}]}"),
                        false, &errs);
    assert_non_null(strstr(errs, "- \tRestartPolicy: \"Always\",\n+ \tRestartPolicy: \"Never\","));
    /* the image change is allowed, so it is not part of the diff */
    assert_null(strstr(errs, "\tContainers:"));
    assert_non_null(strstr(errs, "  \t... // 3 identical fields\n"));
    free(errs);
    cJSON_Delete(obj);
}

/* /status writes: terminated containers stay terminated unless the pod restarts them, IPs
 * must parse, conditions of other types need qualified names. */
static void pod_status_update_rules(void **state)
{
    (void)state;
    static const struct {
        const char *policy, *old_status, *new_status, *want;
    } CASES[] = {
        {"Never", "{'containerStatuses':[{'name':'c','state':{'terminated':{'exitCode':1}}}]}",
         "{'containerStatuses':[{'name':'c','state':{'running':{}}}]}",
         "status.containerStatuses[0].state: Forbidden: may not be transitioned to "
         "non-terminated state"},
        {"OnFailure", "{'containerStatuses':[{'name':'c','state':{'terminated':{'exitCode':1}}}]}",
         "{'containerStatuses':[{'name':'c','state':{'running':{}}}]}", ""},
        {"Always", "{'containerStatuses':[{'name':'c','state':{'terminated':{'exitCode':0}}}]}",
         "{'containerStatuses':[{'name':'c','state':{'running':{}}}]}", ""},
        {"Always", "{}", "{'podIP':'10.0.0.300','podIPs':[{'ip':'10.0.0.300'}]}",
         "status.podIPs[0]: Invalid value: \"10.0.0.300\": must be a valid IP address, (e.g. "
         "10.9.8.7 or 2001:db8::ffff)"},
        {"Always", "{}", "{'conditions':[{'type':'bad type','status':'True'}]}",
         "metadata.conditions[0].Type: Invalid value: \"bad type\": name part must consist of "
         "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
         "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
         "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(CASES); i++) {
        char buf[512], *errs;
        snprintf(buf, sizeof(buf),
                 POD("{'restartPolicy':'%s','containers':[{'name':'c','image':'x'}]}"),
                 CASES[i].policy);
        cJSON *old = create(&R_POD, buf, &errs);
        assert_string_equal(errs, "");
        free(errs);
        cJSON *st = J(CASES[i].old_status);
        cJSON_AddStringToObject(st, "qosClass", "BestEffort");
        cJSON_ReplaceItemInObjectCaseSensitive(old, "status", st);
        cJSON *obj = cJSON_Duplicate(old, 1);
        cJSON *nst = J(CASES[i].new_status);
        cJSON_AddStringToObject(nst, "qosClass", "BestEffort");
        cJSON_ReplaceItemInObjectCaseSensitive(obj, "status", nst);
        meta_prepare_update(&R_POD, obj, old, true);
        struct field_errors e = FIELD_ERRORS_INIT;
        meta_validate_update(&R_POD, obj, old, false, &e);
        errs = join(&e);
        if (strcmp(errs, CASES[i].want))
            fail_msg("case %zu: got\n%s\nwant\n%s", i, errs, CASES[i].want);
        assert_string_equal(errs, CASES[i].want);
        free(errs);
        field_errors_free(&e);
        cJSON_Delete(obj);
        cJSON_Delete(old);
    }
}

/* ---- pieces used by the workload strategies ---- */

static void image_tags(void **state)
{
    (void)state;
    static const struct {
        const char *image, *tag;
    } CASES[] = {
        {"nginx", "latest"},
        {"nginx:1.25-alpine", "1.25-alpine"},
        {"docker.io/library/nginx:stable", "stable"},
        {"[::1]:5000/app:v2", "v2"},
        {"nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", ""},
        {"nginx:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "1"},
        {"nginx@sha256:abc", ""},
        {"UPPER/case", "latest"}, /* an upper-case first component is a registry host */
        {"upper/Case", ""},
        {"a//b", ""},
        {"nginx:-bad", ""},
        {"", ""},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(CASES); i++) {
        char buf[200];
        assert_string_equal(podspec_image_tag(CASES[i].image, buf, sizeof(buf)), CASES[i].tag);
    }
}

static void template_validation_paths(void **state)
{
    (void)state;
    cJSON *tmpl = J("{'metadata':{'labels':{'app':'-bad'}},'spec':{'restartPolicy':'Bogus',"
                    "'containers':[{'name':'c'}]}}");
    podtemplate_defaults(tmpl);
    struct field_errors e = FIELD_ERRORS_INIT;
    podtemplate_validate(tmpl, "spec.template", &e);
    char *errs = join(&e);
    assert_string_equal(
        errs,
        "spec.template.labels: Invalid value: \"-bad\": a valid label must be an empty string or "
        "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
        "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')\n"
        "spec.template.spec.containers[0].image: Required value\n"
        "spec.template.spec.restartPolicy: Unsupported value: \"Bogus\": supported values: "
        "\"Always\", \"OnFailure\", \"Never\"");
    field_errors_free(&e);
    /* a template without spec is Go's zero value, defaulted: only containers are missing */
    cJSON *empty = J("{}");
    podtemplate_validate(empty, "spec.template", &e);
    char *zero = join(&e);
    assert_string_equal(zero, "spec.template.spec.containers: Required value");
    free(zero);
    cJSON_Delete(empty);
    /* templates get no Pod-only defaults */
    assert_null(ck_json_get(tmpl, "spec.enableServiceLinks"));
    assert_string_equal(podspec_qos_class(ck_json_get(tmpl, "spec")), "BestEffort");
    free(errs);
    field_errors_free(&e);
    cJSON_Delete(tmpl);
}

static void go_equality(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b;
        bool equal;
    } CASES[] = {
        {"{'hostNetwork':false}", "{}", true},
        {"{'volumes':[]}", "{'volumes':null}", true},
        {"{'nodeSelector':{}}", "{}", true},
        {"{'automountServiceAccountToken':false}", "{}", false},
        {"{'securityContext':{}}", "{}", false},
        {"{'a':[1,2]}", "{'a':[2,1]}", false},
        {"{'x':{'y':''}}", "{'x':{}}", true},
    };
    for (size_t i = 0; i < CK_ARRAY_SIZE(CASES); i++) {
        cJSON *a = J(CASES[i].a), *b = J(CASES[i].b);
        assert_int_equal(podspec_go_equal(a, b), CASES[i].equal);
        assert_int_equal(podspec_go_equal(b, a), CASES[i].equal);
        cJSON_Delete(a);
        cJSON_Delete(b);
    }
}

/* Hostile input never crashes: wrong types everywhere. */
static void wrong_types_do_not_crash(void **state)
{
    (void)state;
    static const char *const INPUTS[] = {
        "{'metadata':{'name':'p','namespace':'d'},'spec':[]}",
        "{'metadata':{'name':'p','namespace':'d'},'spec':{'containers':{'a':1}}}",
        "{'metadata':{'name':'p','namespace':'d'},'spec':{'containers':[1,'x',null,{'name':5,"
        "'image':[],'ports':'x','env':[{'valueFrom':7}],'resources':{'limits':{'cpu':[]}},"
        "'livenessProbe':[]}],'volumes':[{'name':'v','secret':'x','configMap':3}],"
        "'tolerations':'x','affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuring"
        "Execution':{'nodeSelectorTerms':[{'matchExpressions':[{'operator':'Bad'}]}]}}}}}",
    };
    const struct resource *const RS[] = {&R_POD,    &R_SVC, &R_RC, &R_NODE,
                                         &R_SECRET, &R_CM,  &R_NS, &R_EVENT};
    for (size_t i = 0; i < CK_ARRAY_SIZE(INPUTS); i++) {
        for (size_t r = 0; r < CK_ARRAY_SIZE(RS); r++) {
            char *errs;
            cJSON *obj = create(RS[r], INPUTS[i], &errs);
            assert_non_null(obj);
            free(errs);
            cJSON_Delete(obj);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_follow_upstream),
        cmocka_unit_test(defaults_are_idempotent),
        cmocka_unit_test(create_validation_messages),
        cmocka_unit_test(invalid_pod_status),
        cmocka_unit_test(update_rules),
        cmocka_unit_test(pod_update_diff_names_field),
        cmocka_unit_test(pod_status_update_rules),
        cmocka_unit_test(image_tags),
        cmocka_unit_test(template_validation_paths),
        cmocka_unit_test(go_equality),
        cmocka_unit_test(wrong_types_do_not_crash),
    };
    return cmocka_run_group_tests_name("strategy_core", tests, NULL, NULL);
}
