/* fuzz_dns.c - ckube-dns on any packet: dns_msg_parse and dns_query_parse (dns/message.c) as
 * the server receives it, and dns_zone_respond (dns/zone.c) answering it from a small zone
 * (a ClusterIP service, a headless one with a hostname endpoint, an ExternalName).
 *
 * Properties: never a crash, leak, UB or hang (compression loops end); the two decoders agree
 * on whether a packet is well formed enough to carry a question; every reply fits the room
 * it was given, and decodes again as a response with the query's id. */
#include <stdbool.h>

#include "dns/message.h"
#include "dns/zone.h"
#include "fuzz.h"
#include "json.h"
#include "store.h"

static const char *const SERVICES[] = {
    "{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},\"spec\":{\"clusterIP\":"
    "\"10.96.0.20\",\"clusterIPs\":[\"10.96.0.20\"],\"ports\":[{\"name\":\"http\","
    "\"protocol\":\"TCP\",\"port\":80}]}}",
    "{\"metadata\":{\"name\":\"hl\",\"namespace\":\"default\"},\"spec\":{\"clusterIP\":\"None\","
    "\"ports\":[{\"name\":\"dns\",\"protocol\":\"UDP\",\"port\":53}]}}",
    "{\"metadata\":{\"name\":\"ext\",\"namespace\":\"default\"},\"spec\":{\"type\":"
    "\"ExternalName\",\"externalName\":\"example.com\"}}",
};
static const char *const SLICES[] = {
    "{\"metadata\":{\"name\":\"hl-1\",\"namespace\":\"default\",\"labels\":"
    "{\"kubernetes.io/service-name\":\"hl\"}},\"ports\":[{\"name\":\"dns\",\"protocol\":\"UDP\","
    "\"port\":53}],\"endpoints\":[{\"addresses\":[\"10.244.1.5\"],\"hostname\":\"hl-0\","
    "\"conditions\":{\"ready\":true}},{\"addresses\":[\"10.244.2.6\"],\"conditions\":"
    "{\"ready\":true}}]}",
};

static struct ck_store *svc, *eps;
static struct dns_zone zone;

static void put(struct ck_store *s, const char *json)
{
    struct ck_obj *o = ck_obj_new(ck_json_parse(json, strlen(json), NULL));
    ck_obj_unref(ck_store_put(s, o));
    ck_obj_unref(o);
}

static void drop_zone(void)
{
    ck_store_free(svc);
    ck_store_free(eps);
}

static void make_zone(void)
{
    svc = ck_store_new();
    eps = ck_store_new();
    ck_store_add_index(svc, "namespace", ck_index_namespace);
    ck_store_add_index(svc, DNS_INDEX_SERVICE_IP, dns_index_service_ip);
    ck_store_add_index(eps, DNS_INDEX_SLICE_SERVICE, dns_index_slice_service);
    ck_store_add_index(eps, DNS_INDEX_SLICE_IP, dns_index_slice_ip);
    for (size_t i = 0; i < sizeof SERVICES / sizeof SERVICES[0]; i++)
        put(svc, SERVICES[i]);
    for (size_t i = 0; i < sizeof SLICES / sizeof SLICES[0]; i++)
        put(eps, SLICES[i]);
    zone = (struct dns_zone){.domain = "cluster.local", .ttl = 30, .serial = 1,
                             .services = svc, .slices = eps};
    atexit(drop_zone);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!svc)
        make_zone();
    struct dns_msg *m = malloc(sizeof(*m));
    struct dns_query q;
    int full = dns_msg_parse(data, size, m);
    int quick = dns_query_parse(data, size, &q);
    FUZZ_CHECK(full == 0 ? quick == 0 : quick != 0, "dns_msg_parse %d but dns_query_parse %d",
               full, quick);

    uint8_t out[4096];
    for (int udp = 0; udp <= 1; udp++) {
        size_t cap = udp ? 512 + size % 3584 : sizeof(out), n = 0;
        int rc = dns_zone_respond(&zone, data, size, udp, out, cap, &n);
        if (rc < 0)
            continue;
        FUZZ_CHECK(n >= 12 && n <= cap, "reply of %zu octets in %zu", n, cap);
        FUZZ_CHECK(dns_msg_parse(out, n, m) == 0, "our reply of %zu octets does not decode", n);
        uint16_t id = (uint16_t)(data[0] << 8 | data[1]);
        FUZZ_CHECK(m->id == id && (m->flags & 0x8000), "reply id %u flags %#x for query id %u",
                   m->id, m->flags, id);
    }
    free(m);
    return 0;
}
