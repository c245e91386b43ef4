/* strmap.h - a hash map from strings to pointers (chained, grows as it fills).
 *
 * The map owns copies of its keys; values are the caller's (the map never frees them, except
 * through the optional free function passed to ck_strmap_free). Not thread-safe: guard a map
 * shared between threads with a lock, and say which at the map's declaration.
 */
#ifndef CK_STRMAP_H
#define CK_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

struct ck_strmap_entry {
    char *key;
    void *value;
    struct ck_strmap_entry *next;
};

struct ck_strmap {
    struct ck_strmap_entry **buckets;
    size_t nbuckets;
    size_t len;
};

#define CK_STRMAP_INIT {NULL, 0, 0}

/* The value for key, or NULL. */
void *ck_strmap_get(const struct ck_strmap *m, const char *key);
/* Sets key to value; returns the value it replaced (the caller's to release), or NULL. */
void *ck_strmap_put(struct ck_strmap *m, const char *key, void *value);
/* Removes key; returns its value (the caller's), or NULL when absent. */
void *ck_strmap_remove(struct ck_strmap *m, const char *key);
/* Calls fn for every entry (in no particular order); fn must not change the map. */
void ck_strmap_each(const struct ck_strmap *m, void (*fn)(const char *key, void *value, void *ctx),
                    void *ctx);
/* Frees the map's memory, calling free_value (may be NULL) on every value. */
void ck_strmap_free(struct ck_strmap *m, void (*free_value)(void *value));

#endif
