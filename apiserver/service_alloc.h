/* service_alloc.h - the Service hooks: cluster IPs and node ports (see hooks.h, alloc.h). */
#ifndef APISERVER_SERVICE_ALLOC_H
#define APISERVER_SERVICE_ALLOC_H

#include <cjson/cJSON.h>

#include "error.h"

struct apiserver;

int service_alloc_create(struct apiserver *s, cJSON *svc, struct ck_error *err);
void service_alloc_create_failed(struct apiserver *s, const cJSON *svc);
int service_alloc_update(struct apiserver *s, cJSON *svc, const cJSON *old, struct ck_error *err);
void service_alloc_update_done(struct apiserver *s, const cJSON *stored, const cJSON *old,
                               const cJSON *tried);
void service_alloc_deleted(struct apiserver *s, const cJSON *svc);
/* Start-up repair: make both bitmaps hold exactly what the stored services use. */
int service_alloc_repair(struct apiserver *s, struct ck_error *err);

#endif
