/* test_spewhash.c - the pod-template-hash equals upstream's (Kubernetes v1.32
 * ComputeHash over go-spew's %#v of the typed PodTemplateSpec) byte for byte.
 *
 * The expected hashes, renderings and Quantity fields below were computed by a reference Go
 * program (go-spew 1.1 with upstream's config, the v1.32 struct layouts, ParseQuantity) run
 * outside the repository, over the templates as our apiserver serves them; three more are
 * ReplicaSet names published from real v1.32 clusters.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "controller-manager/deployment_util.h"
#include "error.h"
#include "controller-manager/gotypes.h"
#include "json.h"
#include "mem.h"
#include "controller-manager/spewhash.h"

/* A cJSON tree from JSON written with ' for " (caller frees). */
static cJSON *J(const char *sq)
{
    char *s = ck_xstrdup(sq);
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    struct ck_error err = CK_ERROR_INIT;
    cJSON *v = ck_json_parse(s, strlen(s), &err);
    free(s);
    assert_non_null(v);
    return v;
}

/* spew_print of JSON sq read as Go type tname; the caller frees the string. */
static char *render(const char *tname, const char *sq, int *rc)
{
    const struct gt_type *t = gt_lookup(tname);
    assert_non_null(t);
    cJSON *v = sq ? J(sq) : NULL;
    struct ck_buf b;
    ck_buf_init(&b);
    struct ck_error err = CK_ERROR_INIT;
    *rc = spew_print(&b, t, v, &err);
    ck_error_clear(&err);
    cJSON_Delete(v);
    return ck_buf_detach(&b);
}

/* ---- upstream's hash values ---------------------------------------------------------------- */

struct hash_case {
    const char *name;
    const char *tmpl;
    bool has_count;
    int64_t count;
    const char *want;
};

/* kubectl create deployment bb --image=busybox, as our apiserver defaults it */
static const char T_BB[] =
    "{'metadata':{'creationTimestamp':null,'labels':{'app':'bb'}},'spec':{'containers':[{"
    "'image':'busybox','imagePullPolicy':'Always','name':'busybox','resources':{},'termin"
    "ationMessagePath':'/dev/termination-log','terminationMessagePolicy':'File'}],'dnsPol"
    "icy':'ClusterFirst','restartPolicy':'Always','schedulerName':'default-scheduler','se"
    "curityContext':{},'terminationGracePeriodSeconds':30}}";

/* kubectl create deployment ng --image=nginx --port=80 */
static const char T_NG[] =
    "{'metadata':{'creationTimestamp':null,'labels':{'app':'ng'}},'spec':{'containers':[{"
    "'image':'nginx','imagePullPolicy':'Always','name':'nginx','ports':[{'containerPort':"
    "80,'protocol':'TCP'}],'resources':{},'terminationMessagePath':'/dev/termination-log'"
    ",'terminationMessagePolicy':'File'}],'dnsPolicy':'ClusterFirst','restartPolicy':'Alw"
    "ays','schedulerName':'default-scheduler','securityContext':{},'terminationGracePerio"
    "dSeconds':30}}";

/* nginx with ports, env, envFrom, resources, volumes, probes, affinity, tolerations,
 * securityContext */
static const char T_WEB[] =
    "{'metadata':{'annotations':{'example.com/owner':'team-a','prometheus.io/port':'9113'"
    ",'prometheus.io/scrape':'true'},'creationTimestamp':null,'labels':{'app':'web','tier"
    "':'frontend','version':'v1.2.3'}},'spec':{'affinity':{'nodeAffinity':{'preferredDuri"
    "ngSchedulingIgnoredDuringExecution':[{'preference':{'matchExpressions':[{'key':'gpu'"
    ",'operator':'DoesNotExist'}]},'weight':10}],'requiredDuringSchedulingIgnoredDuringEx"
    "ecution':{'nodeSelectorTerms':[{'matchExpressions':[{'key':'zone','operator':'In','v"
    "alues':['a','b']}]}]}},'podAntiAffinity':{'preferredDuringSchedulingIgnoredDuringExe"
    "cution':[{'podAffinityTerm':{'labelSelector':{'matchLabels':{'app':'web'}},'topology"
    "Key':'kubernetes.io/hostname'},'weight':100}]}},'containers':[{'args':['-g','daemon "
    "off;'],'env':[{'name':'MODE','value':'production'},{'name':'EMPTY','value':''},{'nam"
    "e':'POD_NAME','valueFrom':{'fieldRef':{'apiVersion':'v1','fieldPath':'metadata.name'"
    "}}},{'name':'MEM_LIMIT','valueFrom':{'resourceFieldRef':{'containerName':'nginx','di"
    "visor':'1Mi','resource':'limits.memory'}}},{'name':'CFG','valueFrom':{'configMapKeyR"
    "ef':{'key':'mode','name':'web-config','optional':true}}},{'name':'PASS','valueFrom':"
    "{'secretKeyRef':{'key':'password','name':'web-secret'}}}],'envFrom':[{'configMapRef'"
    ":{'name':'web-env'}},{'prefix':'S_','secretRef':{'name':'web-env-secret','optional':"
    "false}}],'image':'nginx:1.27','imagePullPolicy':'IfNotPresent','lifecycle':{'preStop"
    "':{'sleep':{'seconds':5}}},'livenessProbe':{'failureThreshold':3,'httpGet':{'httpHea"
    "ders':[{'name':'X-Probe','value':'live'}],'path':'/healthz','port':'http','scheme':'"
    "HTTP'},'initialDelaySeconds':5,'periodSeconds':10,'successThreshold':1,'timeoutSecon"
    "ds':1},'name':'nginx','ports':[{'containerPort':80,'name':'http','protocol':'TCP'},{"
    "'containerPort':9113,'name':'metrics','protocol':'TCP'}],'readinessProbe':{'failureT"
    "hreshold':5,'periodSeconds':10,'successThreshold':1,'tcpSocket':{'port':80},'timeout"
    "Seconds':1},'resources':{'limits':{'cpu':'500m','ephemeral-storage':'2G','memory':'1"
    "Gi'},'requests':{'cpu':'100m','memory':'128Mi'}},'securityContext':{'allowPrivilegeE"
    "scalation':false,'capabilities':{'add':['NET_BIND_SERVICE'],'drop':['ALL']},'readOnl"
    "yRootFilesystem':true,'runAsNonRoot':true},'startupProbe':{'exec':{'command':['cat',"
    "'/tmp/started']},'failureThreshold':3,'periodSeconds':10,'successThreshold':1,'timeo"
    "utSeconds':1},'terminationMessagePath':'/dev/termination-log','terminationMessagePol"
    "icy':'File','volumeMounts':[{'mountPath':'/var/cache/nginx','name':'cache'},{'mountP"
    "ath':'/etc/nginx/conf.d','name':'config','readOnly':true},{'mountPath':'/etc/tls','n"
    "ame':'certs','readOnly':true,'subPath':'tls'}]}],'dnsConfig':{'nameservers':['1.1.1."
    "1'],'options':[{'name':'ndots','value':'2'},{'name':'edns0'}]},'dnsPolicy':'ClusterF"
    "irst','hostAliases':[{'hostnames':['foo.local','bar.local'],'ip':'10.1.2.3'}],'image"
    "PullSecrets':[{'name':'regcred'}],'initContainers':[{'command':['sh','-c','echo init"
    " > /work/ready'],'image':'busybox:1.36','imagePullPolicy':'IfNotPresent','name':'ini"
    "t','resources':{},'terminationMessagePath':'/dev/termination-log','terminationMessag"
    "ePolicy':'File','volumeMounts':[{'mountPath':'/work','name':'work'}]}],'nodeSelector"
    "':{'disktype':'ssd','kubernetes.io/os':'linux'},'restartPolicy':'Always','schedulerN"
    "ame':'default-scheduler','securityContext':{'fsGroup':2000,'runAsGroup':3000,'runAsU"
    "ser':1000,'seccompProfile':{'type':'RuntimeDefault'},'supplementalGroups':[4000,5000"
    "],'sysctls':[{'name':'net.core.somaxconn','value':'1024'}]},'serviceAccountName':'we"
    "b','terminationGracePeriodSeconds':45,'tolerations':[{'effect':'NoSchedule','key':'d"
    "edicated','operator':'Equal','value':'web'},{'effect':'NoExecute','key':'node.kubern"
    "etes.io/unreachable','operator':'Exists','tolerationSeconds':60}],'topologySpreadCon"
    "straints':[{'labelSelector':{'matchLabels':{'app':'web'}},'maxSkew':1,'topologyKey':"
    "'topology.kubernetes.io/zone','whenUnsatisfiable':'ScheduleAnyway'}],'volumes':[{'em"
    "ptyDir':{'medium':'Memory','sizeLimit':'64Mi'},'name':'cache'},{'emptyDir':{},'name'"
    ":'work'},{'configMap':{'defaultMode':420,'items':[{'key':'nginx.conf','path':'defaul"
    "t.conf'}],'name':'web-config'},'name':'config'},{'name':'certs','secret':{'defaultMo"
    "de':420,'optional':true,'secretName':'web-tls'}},{'name':'proj','projected':{'defaul"
    "tMode':420,'sources':[{'serviceAccountToken':{'audience':'api','expirationSeconds':3"
    "600,'path':'token'}},{'downwardAPI':{'items':[{'fieldRef':{'apiVersion':'v1','fieldP"
    "ath':'metadata.labels'},'path':'labels'}]}}]}}]}}";

/* quantities 0.5, 1.5Gi, 1e3, 2000m, 100000Gi, 1Ei, 1.500, 5Pi, 20-digit, 1n, 0.5Gi as served */
static const char T_QTY[] =
    "{'metadata':{'creationTimestamp':null,'labels':{'app':'qty'}},'spec':{'containers':["
    "{'image':'busybox','imagePullPolicy':'Always','name':'a','resources':{'limits':{'cpu"
    "':'500m','ephemeral-storage':'1k','example.com/k':'1k','memory':'1536Mi'}},'terminat"
    "ionMessagePath':'/dev/termination-log','terminationMessagePolicy':'File'},{'image':'"
    "busybox','imagePullPolicy':'Always','name':'b','resources':{'limits':{'cpu':'2','eph"
    "emeral-storage':'1Ei','example.com/zero':'0','memory':'100000Gi'}},'terminationMessa"
    "gePath':'/dev/termination-log','terminationMessagePolicy':'File'},{'image':'busybox'"
    ",'imagePullPolicy':'Always','name':'c','resources':{'limits':{'cpu':'1.500','ephemer"
    "al-storage':'5Pi','memory':'12345678901234567890'}},'terminationMessagePath':'/dev/t"
    "ermination-log','terminationMessagePolicy':'File'},{'image':'busybox','imagePullPoli"
    "cy':'Always','name':'d','resources':{'limits':{'cpu':'1m','ephemeral-storage':'1024'"
    ",'memory':'512Mi'}},'terminationMessagePath':'/dev/termination-log','terminationMess"
    "agePolicy':'File'}],'dnsPolicy':'ClusterFirst','restartPolicy':'Always','schedulerNa"
    "me':'default-scheduler','securityContext':{},'terminationGracePeriodSeconds':30}}";

/* empty lists and maps the user sent, kept by the apiserver */
static const char T_EMPTY[] =
    "{'metadata':{'annotations':{},'creationTimestamp':null,'labels':{'app':'empty'}},'sp"
    "ec':{'containers':[{'command':[],'env':[],'image':'busybox','imagePullPolicy':'Alway"
    "s','name':'a','resources':{},'securityContext':{},'terminationMessagePath':'/dev/ter"
    "mination-log','terminationMessagePolicy':'File'}],'dnsPolicy':'ClusterFirst','nodeSe"
    "lector':{},'restartPolicy':'Always','schedulerName':'default-scheduler','securityCon"
    "text':{},'terminationGracePeriodSeconds':30,'tolerations':[]}}";

/* every other kind: ephemeral containers, CSI/ephemeral/image volumes, int64 past 2^53, unicode */
static const char T_SYNTH_EPHEMERAL[] =
    "{'metadata':{'name':'x','generateName':'g-','namespace':'ns','uid':'1234-abcd','reso"
    "urceVersion':'7','generation':3,'creationTimestamp':null,'deletionGracePeriodSeconds"
    "':30,'labels':{'B':'1','a':'2','_':'3','':'empty','é':'4'},'annotations':{'k':'vé wi"
    "th spaces'},'ownerReferences':[{'apiVersion':'apps/v1','kind':'ReplicaSet','name':'r"
    "s','uid':'u1','controller':true,'blockOwnerDeletion':false}],'finalizers':['a/b','c'"
    "],'unknownField':{'x':1}},'spec':{'ephemeralContainers':[{'name':'dbg','image':'busy"
    "box','targetContainerName':'a','stdin':true,'tty':true}],'containers':[{'name':'a','"
    "image':'i','ports':null,'restartPolicy':'Always','resizePolicy':[{'resourceName':'cp"
    "u','restartPolicy':'NotRequired'}],'volumeMounts':[{'name':'v','mountPath':'/m','rec"
    "ursiveReadOnly':'Disabled','mountPropagation':'None','subPathExpr':'$(X)'}],'volumeD"
    "evices':[{'name':'d','devicePath':'/dev/x'}],'startupProbe':{'grpc':{'port':9000,'se"
    "rvice':''},'terminationGracePeriodSeconds':9007199254740993},'lifecycle':{'postStart"
    "':{'httpGet':{'port':8080,'scheme':'HTTPS','host':'h'}},'preStop':{'tcpSocket':{'por"
    "t':'web'}}},'securityContext':{'privileged':false,'procMount':'Default','runAsUser':"
    "0,'seLinuxOptions':{'user':'u','role':'r','type':'t','level':'s0'},'windowsOptions':"
    "{'gmsaCredentialSpecName':'n','hostProcess':false,'runAsUserName':''},'appArmorProfi"
    "le':{'type':'Localhost','localhostProfile':'p'},'seccompProfile':{'type':'Unconfined"
    "'}}}],'volumes':[{'name':'csi','csi':{'driver':'d.example.com','readOnly':true,'fsTy"
    "pe':'ext4','volumeAttributes':{'z':'1','a':'2'},'nodePublishSecretRef':{'name':'s'}}"
    "},{'name':'eph','ephemeral':{'volumeClaimTemplate':{'metadata':{'labels':{'x':'y'}},"
    "'spec':{'accessModes':['ReadWriteOnce'],'storageClassName':'fast','resources':{'requ"
    "ests':{'storage':'1Gi'}},'volumeMode':'Filesystem','dataSourceRef':{'kind':'VolumeSn"
    "apshot','name':'snap','apiGroup':'snapshot.storage.k8s.io'}}}}},{'name':'hp','hostPa"
    "th':{'path':'/var/log','type':'Directory'}},{'name':'img','image':{'reference':'quay"
    ".io/x:1','pullPolicy':'IfNotPresent'}},{'name':'nfs','nfs':{'server':'10.0.0.1','pat"
    "h':'/exports','readOnly':true}},{'name':'pvc','persistentVolumeClaim':{'claimName':'"
    "data'}},{'name':'dapi','downwardAPI':{'items':[{'path':'cpu','resourceFieldRef':{'co"
    "ntainerName':'a','resource':'limits.cpu','divisor':'1m'}}],'defaultMode':420}},{'nam"
    "e':'proj','projected':{'sources':[{'clusterTrustBundle':{'signerName':'example.com/s"
    "','labelSelector':{'matchExpressions':[{'key':'k','operator':'Exists'}]},'path':'b.p"
    "em','optional':true}},{'configMap':{'name':'c','items':[{'key':'k','path':'p','mode'"
    ":256}]}},{'secret':{'name':'s','optional':false}}]}}],'podOS':{'name':'linux'},'os':"
    "{'name':'linux'},'hostUsers':false,'schedulingGates':[{'name':'gate'}],'resourceClai"
    "ms':[{'name':'rc','resourceClaimTemplateName':'t'}],'resources':{'limits':{'cpu':'2'"
    "},'claims':[{'name':'rc','request':'r0'}]},'readinessGates':[{'conditionType':'examp"
    "le.com/ready'}],'runtimeClassName':'','enableServiceLinks':false,'preemptionPolicy':"
    "'Never','priority':0,'priorityClassName':'high','overhead':{'cpu':'250m','memory':'1"
    "20Mi'},'setHostnameAsFQDN':true,'shareProcessNamespace':true,'hostNetwork':true,'hos"
    "tPID':true,'hostIPC':true,'hostname':'h','subdomain':'s','nodeName':'n','serviceAcco"
    "unt':'sa','automountServiceAccountToken':false,'activeDeadlineSeconds':-5,'dnsPolicy"
    "':'None','restartPolicy':'OnFailure','securityContext':{'supplementalGroupsPolicy':'"
    "Strict','fsGroupChangePolicy':'OnRootMismatch','seLinuxChangePolicy':'MountOption','"
    "runAsNonRoot':true,'appArmorProfile':{'type':'RuntimeDefault'}},'affinity':{'podAffi"
    "nity':{'requiredDuringSchedulingIgnoredDuringExecution':[{'labelSelector':{'matchLab"
    "els':{'a':'b'}},'namespaces':['x'],'topologyKey':'zone','namespaceSelector':{},'matc"
    "hLabelKeys':['pod-template-hash'],'mismatchLabelKeys':['m']}]}},'topologySpreadConst"
    "raints':[{'maxSkew':2,'topologyKey':'k','whenUnsatisfiable':'DoNotSchedule','minDoma"
    "ins':3,'nodeAffinityPolicy':'Honor','nodeTaintsPolicy':'Ignore','matchLabelKeys':['a"
    "pp']}]}}";

/* JSON nulls, {} and [] where Go has pointers, maps and slices; rarer volume sources */
static const char T_SYNTH_NULLS[] =
    "{'metadata':null,'spec':{'containers':[{'name':'a','env':[{'name':'E','valueFrom':nu"
    "ll}],'resources':{'limits':null,'requests':{}},'livenessProbe':null}],'volumes':[{'n"
    "ame':'e','emptyDir':{'sizeLimit':null}},{'name':'e2','emptyDir':{'sizeLimit':'0'}},{"
    "'name':'g','gitRepo':{'repository':'r'}},{'name':'rbd','rbd':{'monitors':['m1'],'ima"
    "ge':'i','pool':'p','user':'u','keyring':'k','secretRef':{'name':'s'},'readOnly':true"
    "}},{'name':'iscsi','iscsi':{'targetPortal':'t','iqn':'q','lun':1,'iscsiInterface':'d"
    "efault','portals':['a'],'chapAuthDiscovery':true,'chapAuthSession':false,'initiatorN"
    "ame':'n'}},{'name':'fc','fc':{'targetWWNs':['w'],'lun':0,'wwids':[]}},{'name':'az','"
    "azureDisk':{'diskName':'d','diskURI':'u','cachingMode':'ReadOnly','kind':'Managed'}}"
    ",{'name':'sio','scaleIO':{'gateway':'g','system':'s','secretRef':{'name':'x'},'sslEn"
    "abled':true}},{'name':'flex','flexVolume':{'driver':'d','options':{'b':'2','a':'1'}}"
    "}],'tolerations':[{'operator':'Exists'}],'dnsConfig':{'searches':['a.b'],'options':["
    "{'name':'x','value':''}]}}}";

/* the zero PodTemplateSpec */
static const char T_SYNTH_EMPTY[] = "{}";

/* kubectl create deployment web --image=busybox:1.36 (controller_deployment.bats) */
static const char T_BATS_WEB[] =
    "{'metadata':{'creationTimestamp':null,'labels':{'app':'web'}},'spec':{'containers':["
    "{'image':'busybox:1.36','imagePullPolicy':'IfNotPresent','name':'busybox','resources"
    "':{},'terminationMessagePath':'/dev/termination-log','terminationMessagePolicy':'Fil"
    "e'}],'dnsPolicy':'ClusterFirst','restartPolicy':'Always','schedulerName':'default-sc"
    "heduler','securityContext':{},'terminationGracePeriodSeconds':30}}";

static const struct hash_case hash_cases[] = {
    {"bb", T_BB, false, 0, "6cf7f979f9"},
    {"bb", T_BB, true, 0, "576b58bfc5"},
    {"bb", T_BB, true, 1, "8498895d78"},
    {"bb", T_BB, true, 7, "6df6d4f848"},
    {"ng", T_NG, false, 0, "59696fd589"},
    {"web", T_WEB, false, 0, "786c765b67"},
    {"web", T_WEB, true, 1, "76fd79447d"},
    {"qty", T_QTY, false, 0, "6d5f5767cc"},
    {"empty", T_EMPTY, false, 0, "5f7795d8db"},
    {"synth-ephemeral", T_SYNTH_EPHEMERAL, true, 2147483647, "6778d45c95"},
    {"synth-nulls", T_SYNTH_NULLS, false, 0, "759f7654c6"},
    {"synth-empty", T_SYNTH_EMPTY, false, 0, "6f75fc469d"},
    {"synth-empty", T_SYNTH_EMPTY, true, 0, "679f49bb9d"},
    {"bats-web", T_BATS_WEB, false, 0, "67d686db67"},
};

static void pod_template_hash_equals_upstream(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(hash_cases) / sizeof(hash_cases[0]); i++) {
        const struct hash_case *c = &hash_cases[i];
        cJSON *t = J(c->tmpl);
        uint32_t sum;
        struct ck_error err = CK_ERROR_INIT;
        assert_int_equal(spew_template_sum(t, c->has_count ? &c->count : NULL, &sum, &err), 0);
        char *h = dp_compute_hash(t, c->has_count ? &c->count : NULL);
        if (strcmp(h, c->want) != 0)
            fail_msg("%s (count %lld): got %s, upstream %s", c->name, (long long)c->count, h,
                     c->want);
        free(h);
        cJSON_Delete(t);
    }
}

/* ReplicaSet names seen on public v1.32 clusters (kind v0.27) after
 * `kubectl create deployment NAME --image=IMAGE`, e.g. nginx-5869d7778c. */
static void public_replicaset_names_match(void **state)
{
    (void)state;
    static const struct {
        const char *app, *container, *image, *pull, *want;
    } cases[] = {
        {"nginx", "nginx", "nginx", "Always", "5869d7778c"},
        {"kubernetes-bootcamp", "kubernetes-bootcamp",
         "gcr.io/google-samples/kubernetes-bootcamp:v1", "IfNotPresent", "9bc58d867"},
        {"web", "hello-app", "gcr.io/google-samples/hello-app:1.0", "IfNotPresent", "75995f7dbf"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *sq = ck_xasprintf(
            "{'metadata':{'creationTimestamp':null,'labels':{'app':'%s'}},'spec':{'containers':[{"
            "'image':'%s','imagePullPolicy':'%s','name':'%s','resources':{},"
            "'terminationMessagePath':'/dev/termination-log','terminationMessagePolicy':'File'}],"
            "'dnsPolicy':'ClusterFirst','restartPolicy':'Always','schedulerName':'default-"
            "scheduler',"
            "'securityContext':{},'terminationGracePeriodSeconds':30}}",
            cases[i].app, cases[i].image, cases[i].pull, cases[i].container);
        cJSON *t = J(sq);
        char *h = dp_compute_hash(t, NULL);
        assert_string_equal(h, cases[i].want);
        free(h);
        cJSON_Delete(t);
        free(sq);
    }
}

/* ---- the rendering itself ------------------------------------------------------------------ */

static const char ZERO_TEMPLATE[] =
    "(v1.PodTemplateSpec){ObjectMeta:(v1.ObjectMeta){Name:(string) GenerateName:(string)"
    " Namespace:(string) SelfLink:(string) UID:(types.UID) ResourceVersion:(string)"
    " Generation:(int64)0 CreationTimestamp:(v1.Time){Time:(time.Time){wall:(uint64)0"
    " ext:(int64)0 loc:(*time.Location)<nil>}} DeletionTimestamp:(*v1.Time)<nil>"
    " DeletionGracePeriodSeconds:(*int64)<nil> Labels:(map[string]string)<nil>"
    " Annotations:(map[string]string)<nil> OwnerReferences:([]v1.OwnerReference)<nil>"
    " Finalizers:([]string)<nil> ManagedFields:([]v1.ManagedFieldsEntry)<nil>}"
    " Spec:(v1.PodSpec){Volumes:([]v1.Volume)<nil> InitContainers:([]v1.Container)<nil>"
    " Containers:([]v1.Container)<nil> EphemeralContainers:([]v1.EphemeralContainer)<nil>"
    " RestartPolicy:(v1.RestartPolicy) TerminationGracePeriodSeconds:(*int64)<nil>"
    " ActiveDeadlineSeconds:(*int64)<nil> DNSPolicy:(v1.DNSPolicy)"
    " NodeSelector:(map[string]string)<nil> ServiceAccountName:(string)"
    " DeprecatedServiceAccount:(string) AutomountServiceAccountToken:(*bool)<nil>"
    " NodeName:(string) HostNetwork:(bool)false HostPID:(bool)false HostIPC:(bool)false"
    " ShareProcessNamespace:(*bool)<nil> SecurityContext:(*v1.PodSecurityContext)<nil>"
    " ImagePullSecrets:([]v1.LocalObjectReference)<nil> Hostname:(string) Subdomain:(string)"
    " Affinity:(*v1.Affinity)<nil> SchedulerName:(string) Tolerations:([]v1.Toleration)<nil>"
    " HostAliases:([]v1.HostAlias)<nil> PriorityClassName:(string) Priority:(*int32)<nil>"
    " DNSConfig:(*v1.PodDNSConfig)<nil> ReadinessGates:([]v1.PodReadinessGate)<nil>"
    " RuntimeClassName:(*string)<nil> EnableServiceLinks:(*bool)<nil>"
    " PreemptionPolicy:(*v1.PreemptionPolicy)<nil> Overhead:(v1.ResourceList)<nil>"
    " TopologySpreadConstraints:([]v1.TopologySpreadConstraint)<nil>"
    " SetHostnameAsFQDN:(*bool)<nil> OS:(*v1.PodOS)<nil> HostUsers:(*bool)<nil>"
    " SchedulingGates:([]v1.PodSchedulingGate)<nil>"
    " ResourceClaims:([]v1.PodResourceClaim)<nil> Resources:(*v1.ResourceRequirements)<nil>}}";

static void zero_template_renders_as_spew(void **state)
{
    (void)state;
    int rc;
    const char *inputs[] = {NULL,
                            "{}",
                            "null",
                            "[]",
                            "{'metadata':null,'spec':null}",
                            "{'metadata':{},'spec':{},'status':{'x':1},'kind':'Pod'}"};
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        char *s = render("v1.PodTemplateSpec", inputs[i], &rc);
        assert_int_equal(rc, 0);
        assert_string_equal(s, ZERO_TEMPLATE);
        free(s);
    }
}

static void values_render_by_spew_rules(void **state)
{
    (void)state;
    static const struct {
        const char *type, *json, *want;
    } cases[] = {
        /* pointers: the type with a star, then the target without a type */
        {"*int64", NULL, "(*int64)<nil>"},
        {"*int64", "null", "(*int64)<nil>"},
        {"*int64", "5", "(*int64)5"},
        {"*int64", "9007199254740993", "(*int64)9007199254740993"},
        {"*string", "''", "(*string)"},
        {"*bool", "false", "(*bool)false"},
        {"*v1.PreemptionPolicy", "'Never'", "(*v1.PreemptionPolicy)Never"},
        /* strings print raw, named types under their own name */
        {"string", "'a \\'b\\' é\\n'", "(string)a \"b\" é\n"},
        {"v1.PullPolicy", "'IfNotPresent'", "(v1.PullPolicy)IfNotPresent"},
        {"types.UID", NULL, "(types.UID)"},
        {"bool", "true", "(bool)true"},
        {"int32", "-7", "(int32)-7"},
        {"int64", "'12'", "(int64)0"},
        /* slices: nil and empty are both nil after protobuf; elements without types */
        {"[]string", NULL, "([]string)<nil>"},
        {"[]string", "[]", "([]string)<nil>"},
        {"[]string", "['b','a']", "([]string)[b a]"},
        {"[]int64", "[4000,5000]", "([]int64)[4000 5000]"},
        {"[]v1.Capability", "['ALL']", "([]v1.Capability)[ALL]"},
        {"[]v1.HTTPHeader", "[{'name':'a','value':'b'},{}]",
         "([]v1.HTTPHeader)[{Name:(string)a Value:(string)b} {Name:(string) Value:(string)}]"},
        /* maps: keys sorted bytewise, the last of duplicate keys wins */
        {"map[string]string", "{}", "(map[string]string)<nil>"},
        {"map[string]string", "{'b':'1','a':'2','B':'3','':'4'}",
         "(map[string]string)map[:4 B:3 a:2 b:1]"},
        {"map[string]string", "{'a':'1','a':'2'}", "(map[string]string)map[a:2]"},
        /* structs: Go field names in declaration order, unknown members ignored */
        {"v1.KeyToPath", "{'mode':420,'path':'p','key':'k','extra':true}",
         "(v1.KeyToPath){Key:(string)k Path:(string)p Mode:(*int32)420}"},
        {"v1.KeyToPath", "{'key':'x','key':'y'}",
         "(v1.KeyToPath){Key:(string)y Path:(string) Mode:(*int32)<nil>}"},
        {"v1.ConfigMapEnvSource", "{'name':'c','optional':true}",
         "(v1.ConfigMapEnvSource){LocalObjectReference:(v1.LocalObjectReference){Name:(string)c}"
         " Optional:(*bool)true}"},
        {"*v1.SleepAction", "{}", "(*v1.SleepAction){Seconds:(int64)0}"},
        /* the special types */
        {"intstr.IntOrString", "8080",
         "(intstr.IntOrString){Type:(intstr.Type)0 IntVal:(int32)8080 "
         "StrVal:(string)}"},
        {"intstr.IntOrString", "'http'",
         "(intstr.IntOrString){Type:(intstr.Type)1 IntVal:(int32)0 "
         "StrVal:(string)http}"},
        {"v1.Time", "null",
         "(v1.Time){Time:(time.Time){wall:(uint64)0 ext:(int64)0 loc:(*time.Location)<nil>}}"},
        {"*v1.Time", NULL, "(*v1.Time)<nil>"},
        {"*v1.FieldsV1", "{'f:a':{}}",
         "(*v1.FieldsV1){Raw:([]uint8)[123 34 102 58 97 34 58 123 125 125]}"},
        /* upstream keeps a BinarySI string only when the mantissa is not a multiple of 8 */
        {"*resource.Quantity", "'64Mi'",
         "(*resource.Quantity){i:(resource.int64Amount){value:(int64)67108864 "
         "scale:(resource.Scale)0} d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string) "
         "Format:(resource.Format)BinarySI}"},
        {"*resource.Quantity", "'5Mi'",
         "(*resource.Quantity){i:(resource.int64Amount){value:(int64)5242880 "
         "scale:(resource.Scale)0} d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string)5Mi "
         "Format:(resource.Format)BinarySI}"},
        {"resource.Quantity", NULL,
         "(resource.Quantity){i:(resource.int64Amount){value:(int64)0 scale:(resource.Scale)0} "
         "d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string) Format:(resource.Format)}"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc;
        char *s = render(cases[i].type, cases[i].json, &rc);
        assert_int_equal(rc, 0);
        if (strcmp(s, cases[i].want) != 0)
            fail_msg("%s %s: got %s, want %s", cases[i].type, cases[i].json ? cases[i].json : "-",
                     s, cases[i].want);
        free(s);
    }
}

/* A quantity as the controller-manager decodes it: the apiserver's string for the value,
 * split by ParseQuantity into the int64Amount fast path or an inf.Dec. */
static void quantities_split_like_parse_quantity(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"100m", "{i:(resource.int64Amount){value:(int64)100 scale:(resource.Scale)-3} "
                 "d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string)100m "
                 "Format:(resource.Format)DecimalSI}"},
        {"128Mi", "{i:(resource.int64Amount){value:(int64)134217728 scale:(resource.Scale)0} "
                  "d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string) "
                  "Format:(resource.Format)BinarySI}"},
        {"1Gi", "{i:(resource.int64Amount){value:(int64)1073741824 scale:(resource.Scale)0} "
                "d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string)1Gi "
                "Format:(resource.Format)BinarySI}"},
        {"0.5", "{i:(resource.int64Amount){value:(int64)500 scale:(resource.Scale)-3} "
                "d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string)500m "
                "Format:(resource.Format)DecimalSI}"},
        {"1.5Gi", "{i:(resource.int64Amount){value:(int64)1610612736 scale:(resource.Scale)0} "
                  "d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string) "
                  "Format:(resource.Format)BinarySI}"},
        {"2000m", "{i:(resource.int64Amount){value:(int64)2 scale:(resource.Scale)0} "
                  "d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string)2 "
                  "Format:(resource.Format)DecimalSI}"},
        {"0", "{i:(resource.int64Amount){value:(int64)0 scale:(resource.Scale)0} "
              "d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string)0 "
              "Format:(resource.Format)DecimalSI}"},
        {"1.500", "{i:(resource.int64Amount){value:(int64)1500 scale:(resource.Scale)-3} "
                  "d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string)1.500 "
                  "Format:(resource.Format)DecimalSI}"},
        {"1n", "{i:(resource.int64Amount){value:(int64)1 scale:(resource.Scale)-9} "
               "d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string)1n "
               "Format:(resource.Format)DecimalSI}"},
        {"1024", "{i:(resource.int64Amount){value:(int64)1024 scale:(resource.Scale)0} "
                 "d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string)1024 "
                 "Format:(resource.Format)DecimalSI}"},
        {"-100m", "{i:(resource.int64Amount){value:(int64)-100 scale:(resource.Scale)-3} "
                  "d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string)-100m "
                  "Format:(resource.Format)DecimalSI}"},
        {"+1", "{i:(resource.int64Amount){value:(int64)1 scale:(resource.Scale)0} "
               "d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string)+1 "
               "Format:(resource.Format)DecimalSI}"},
        {"1e-3", "{i:(resource.int64Amount){value:(int64)1 scale:(resource.Scale)-3} "
                 "d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string)1e-3 "
                 "Format:(resource.Format)DecimalExponent}"},
        {"1E3", "{i:(resource.int64Amount){value:(int64)1 scale:(resource.Scale)3} "
                "d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string)1E3 "
                "Format:(resource.Format)DecimalExponent}"},
        {"2G", "{i:(resource.int64Amount){value:(int64)2 scale:(resource.Scale)9} "
               "d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string)2G "
               "Format:(resource.Format)DecimalSI}"},
        {"1Ei", "{i:(resource.int64Amount){value:(int64)0 scale:(resource.Scale)0} "
                "d:(resource.infDecAmount){Dec:(*inf.Dec){unscaled:(big.Int){neg:(bool)false "
                "abs:(big.nat)[0 62500000]} scale:(inf.Scale)9}} s:(string) "
                "Format:(resource.Format)BinarySI}"},
        {"100000Gi", "{i:(resource.int64Amount){value:(int64)0 scale:(resource.Scale)0} "
                     "d:(resource.infDecAmount){Dec:(*inf.Dec){unscaled:(big.Int){neg:(bool)false "
                     "abs:(big.nat)[14131891010409594880 5820]} scale:(inf.Scale)9}} s:(string) "
                     "Format:(resource.Format)BinarySI}"},
        {"5Pi", "{i:(resource.int64Amount){value:(int64)0 scale:(resource.Scale)0} "
                "d:(resource.infDecAmount){Dec:(*inf.Dec){unscaled:(big.Int){neg:(bool)false "
                "abs:(big.nat)[14411518807585587200 305175]} scale:(inf.Scale)9}} s:(string) "
                "Format:(resource.Format)BinarySI}"},
        {"12345678901234567890",
         "{i:(resource.int64Amount){value:(int64)0 scale:(resource.Scale)0} "
         "d:(resource.infDecAmount){Dec:(*inf.Dec){unscaled:(big.Int){neg:(bool)false "
         "abs:(big.nat)[5097733592002180096 669260594]} scale:(inf.Scale)9}} s:(string) "
         "Format:(resource.Format)DecimalSI}"},
        {"-12345678901234567890",
         "{i:(resource.int64Amount){value:(int64)0 scale:(resource.Scale)0} "
         "d:(resource.infDecAmount){Dec:(*inf.Dec){unscaled:(big.Int){neg:(bool)true "
         "abs:(big.nat)[5097733592002180096 669260594]} scale:(inf.Scale)9}} s:(string) "
         "Format:(resource.Format)DecimalSI}"},
        {"9Ei", "{i:(resource.int64Amount){value:(int64)0 scale:(resource.Scale)0} "
                "d:(resource.infDecAmount){Dec:(*inf.Dec){unscaled:(big.Int){neg:(bool)false "
                "abs:(big.nat)[18446744072709551616 499999999]} scale:(inf.Scale)9}} s:(string) "
                "Format:(resource.Format)DecimalSI}"},
        {"0.1Ki", "{i:(resource.int64Amount){value:(int64)102400 scale:(resource.Scale)-3} "
                  "d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string)102400m "
                  "Format:(resource.Format)DecimalSI}"},
        {"1024Ki", "{i:(resource.int64Amount){value:(int64)1048576 scale:(resource.Scale)0} "
                   "d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string)1Mi "
                   "Format:(resource.Format)BinarySI}"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *json = ck_xasprintf("{'q':'%s'}", cases[i].in);
        char *want = ck_xasprintf("(v1.ResourceList)map[q:%s]", cases[i].want);
        int rc;
        char *s = render("v1.ResourceList", json, &rc);
        assert_int_equal(rc, 0);
        if (strcmp(s, want) != 0)
            fail_msg("%s: got %s, want %s", cases[i].in, s, want);
        free(s);
        free(want);
        free(json);
    }
    /* a JSON number is read from its decimal spelling, as upstream's UnmarshalJSON */
    static const struct {
        const char *num, *str;
    } nums[] = {{"1", "'1'"}, {"0.5", "'500m'"}, {"1000", "'1k'"}, {"0", "'0'"}};
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        int r1, r2;
        char *a = render("resource.Quantity", nums[i].num, &r1);
        char *b = render("resource.Quantity", nums[i].str, &r2);
        assert_int_equal(r1, 0);
        assert_int_equal(r2, 0);
        assert_string_equal(a, b);
        free(a);
        free(b);
    }
}

/* ---- what the hash ignores and what it does not ------------------------------------------- */

static char *hash_of(const char *sq, const int64_t *count)
{
    cJSON *t = J(sq);
    char *h = dp_compute_hash(t, count);
    cJSON_Delete(t);
    return h;
}

static void hash_ignores_what_go_drops(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b;
        bool equal;
    } cases[] = {
        /* member order and unknown members */
        {"{'metadata':{'labels':{'a':'1','b':'2'}},'spec':{'containers':[{'name':'c','image':'i'}]}"
         "}",
         "{'spec':{'containers':[{'image':'i','name':'c','bogus':1}]},'metadata':{'labels':{'b':'2'"
         ","
         "'a':'1'}},'status':{}}",
         true},
        /* empty and null collections are unset; an empty struct pointer is not */
        {"{'spec':{'containers':[{'name':'c','command':[],'env':null}],'nodeSelector':{}}}",
         "{'spec':{'containers':[{'name':'c'}]}}", true},
        {"{'spec':{'securityContext':{}}}", "{'spec':{}}", false},
        /* a string pointer set to "" is set */
        {"{'spec':{'runtimeClassName':''}}", "{'spec':{}}", false},
        /* the apiserver's form of a quantity */
        {"{'spec':{'overhead':{'cpu':'0.5','memory':'1.5Gi'}}}",
         "{'spec':{'overhead':{'cpu':'500m','memory':'1536Mi'}}}", true},
        {"{'spec':{'overhead':{'cpu':'1'}}}", "{'spec':{'overhead':{'cpu':'1000m'}}}", true},
        /* list order matters */
        {"{'spec':{'containers':[{'name':'a'},{'name':'b'}]}}",
         "{'spec':{'containers':[{'name':'b'},{'name':'a'}]}}", false},
        /* an int port and its string differ, as IntOrString types do */
        {"{'spec':{'containers':[{'name':'a','readinessProbe':{'tcpSocket':{'port':80}}}]}}",
         "{'spec':{'containers':[{'name':'a','readinessProbe':{'tcpSocket':{'port':'80'}}}]}}",
         false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *a = hash_of(cases[i].a, NULL), *b = hash_of(cases[i].b, NULL);
        if ((strcmp(a, b) == 0) != cases[i].equal)
            fail_msg("case %zu: %s vs %s", i, a, b);
        free(a);
        free(b);
    }
}

static void collision_count_is_a_uint32(void **state)
{
    (void)state;
    const char *t = "{'spec':{'containers':[{'name':'c'}]}}";
    int64_t seven = 7, seven_wrapped = 7 + ((int64_t)1 << 32), minus_one = -1, max = 4294967295LL;
    char *a = hash_of(t, &seven), *b = hash_of(t, &seven_wrapped);
    char *c = hash_of(t, &minus_one), *d = hash_of(t, &max), *n = hash_of(t, NULL);
    assert_string_equal(a, b);
    assert_string_equal(c, d);
    assert_string_not_equal(a, n);
    free(a);
    free(b);
    free(c);
    free(d);
    free(n);
}

/* ---- what cannot be reproduced falls back, never fails ------------------------------------ */

static void unreproducible_templates_fall_back(void **state)
{
    (void)state;
    static const struct {
        const char *tmpl;
        int rc;
    } cases[] = {
        {"{'metadata':{'creationTimestamp':'2024-01-01T00:00:00Z'}}", -ENOTSUP},
        {"{'metadata':{'managedFields':[{'manager':'m','time':'2024-01-01T00:00:00Z'}]}}",
         -ENOTSUP},
        {"{'spec':{'overhead':{'cpu':'12x'}}}", -EINVAL},
        {"{'spec':{'overhead':{'cpu':'1234567890123456789012345678901234567890'}}}", -ERANGE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *t = J(cases[i].tmpl);
        uint32_t sum;
        struct ck_error err = CK_ERROR_INIT;
        assert_int_equal(spew_template_sum(t, NULL, &sum, &err), cases[i].rc);
        assert_true(err.message[0] != '\0');
        ck_error_clear(&err);
        char *h = dp_compute_hash(t, NULL);
        assert_true(strlen(h) >= 1 && strlen(h) <= 10);
        assert_int_equal(strspn(h, "456789bcdf"), strlen(h));
        free(h);
        cJSON_Delete(t);
    }
}

static void hostile_inputs_do_not_crash(void **state)
{
    (void)state;
    const char *inputs[] = {
        "{'metadata':[1,2],'spec':'x'}",
        "{'spec':{'containers':{'name':'c'},'volumes':[1,'a',null,[]],'tolerations':[[[]]]}}",
        "{'spec':{'containers':[{'name':5,'ports':[{'containerPort':'80','hostPort':1e300}]}]}}",
        "{'metadata':{'labels':{'a':1,'b':null,'c':{}}}}",
        "{'spec':{'overhead':{'cpu':null,'memory':true}}}",
    };
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        char *h = hash_of(inputs[i], NULL);
        assert_true(strlen(h) >= 1);
        free(h);
    }
    struct ck_buf b;
    ck_buf_init(&b);
    assert_int_equal(spew_print(&b, NULL, NULL, NULL), -EINVAL);
    ck_buf_free(&b);
}

/* ---- the type table ------------------------------------------------------------------------ */

static void type_table_has_the_v1_32_layouts(void **state)
{
    (void)state;
    const struct gt_type *ps = gt_lookup("v1.PodSpec");
    assert_non_null(ps);
    assert_int_equal(ps->kind, GT_STRUCT);
    assert_int_equal(ps->nfields, 40);
    assert_string_equal(ps->fields[0].go_name, "Volumes");
    assert_string_equal(ps->fields[10].go_name, "DeprecatedServiceAccount");
    assert_string_equal(ps->fields[10].json, "serviceAccount");
    assert_string_equal(ps->fields[39].go_name, "Resources");
    assert_string_equal(ps->fields[39].type->name, "*v1.ResourceRequirements");
    const struct gt_type *c = gt_lookup("v1.Container");
    assert_non_null(c);
    assert_int_equal(c->nfields, 24);
    const struct gt_type *vs = gt_lookup("v1.VolumeSource");
    assert_non_null(vs);
    assert_string_equal(vs->fields[vs->nfields - 1].go_name, "Image");
    const struct gt_type *v = gt_lookup("v1.Volume");
    assert_non_null(v);
    assert_null(v->fields[1].json); /* VolumeSource is inlined */
    assert_ptr_equal(gt_pod_template_spec(), gt_lookup("v1.PodTemplateSpec"));
    assert_null(gt_lookup("v1.Pod"));
    assert_null(gt_lookup(NULL));
    assert_int_equal(gt_lookup("v1.ResourceList")->kind, GT_MAP);
    assert_int_equal(gt_lookup("v1.ResourceList")->elem->kind, GT_QUANTITY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pod_template_hash_equals_upstream),
        cmocka_unit_test(public_replicaset_names_match),
        cmocka_unit_test(zero_template_renders_as_spew),
        cmocka_unit_test(values_render_by_spew_rules),
        cmocka_unit_test(quantities_split_like_parse_quantity),
        cmocka_unit_test(hash_ignores_what_go_drops),
        cmocka_unit_test(collision_count_is_a_uint32),
        cmocka_unit_test(unreproducible_templates_fall_back),
        cmocka_unit_test(hostile_inputs_do_not_crash),
        cmocka_unit_test(type_table_has_the_v1_32_layouts),
    };
    return cmocka_run_group_tests_name("spewhash", tests, NULL, NULL);
}
