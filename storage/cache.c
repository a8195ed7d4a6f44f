/*
 * storage/cache.c - see cache.h.
 */
#include "storage/cache.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/xmalloc.h"

#define CACHE_SLOTS 4096 /* power of two */
#define CACHE_KEY_MAX 64
#define CACHE_ETAG_MAX 48

struct slot {
    char key[CACHE_KEY_MAX + 1];
    size_t key_len;
    char etag[CACHE_ETAG_MAX + 1];
    long long version;
    char *doc;           /* NULL when the slot is empty */
    size_t doc_len;
};

struct cache {
    uint64_t *shared;    /* the generation every writer bumps */
    uint64_t gen;        /* the generation the entries were read under */
    size_t max_bytes, bytes, entries;
    struct slot slots[CACHE_SLOTS];
};

uint64_t *cache_generation_new(void)
{
    void *p = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void cache_generation_bump(uint64_t *gen)
{
    if (gen != NULL)
        __atomic_add_fetch(gen, 1, __ATOMIC_SEQ_CST);
}

struct cache *cache_new(uint64_t *gen, size_t max_bytes)
{
    if (gen == NULL || max_bytes == 0)
        return NULL;
    struct cache *c = xcalloc(1, sizeof(*c));
    c->shared = gen;
    c->gen = __atomic_load_n(gen, __ATOMIC_SEQ_CST);
    c->max_bytes = max_bytes;
    return c;
}

static void drop(struct cache *c, struct slot *s)
{
    if (s->doc == NULL)
        return;
    c->bytes -= s->doc_len;
    c->entries--;
    free(s->doc);
    s->doc = NULL;
}

static void flush(struct cache *c)
{
    for (size_t i = 0; i < CACHE_SLOTS && c->entries > 0; i++)
        drop(c, &c->slots[i]);
}

void cache_free(struct cache *c)
{
    if (c == NULL)
        return;
    flush(c);
    free(c);
}

/* FNV-1a: keys are short ids; this only has to spread them over the slots. */
static size_t slot_of(const char *key, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 16777619u;
    return h & (CACHE_SLOTS - 1);
}

int cache_get(struct cache *c, const char *key, size_t key_len, struct cache_hit *hit, uint64_t *gen_out)
{
    uint64_t now = __atomic_load_n(c->shared, __ATOMIC_SEQ_CST);
    if (now != c->gen) {
        flush(c);
        c->gen = now;
    }
    *gen_out = now;
    if (key_len > CACHE_KEY_MAX)
        return 0;
    struct slot *s = &c->slots[slot_of(key, key_len)];
    if (s->doc == NULL || s->key_len != key_len || memcmp(s->key, key, key_len) != 0)
        return 0;
    hit->etag = s->etag;
    hit->doc = s->doc;
    hit->doc_len = s->doc_len;
    hit->version = s->version;
    return 1;
}

void cache_put(struct cache *c, uint64_t gen, const char *key, size_t key_len, long long version, const char *etag,
               const char *doc, size_t doc_len)
{
    size_t etag_len = strlen(etag);
    if (gen != c->gen || key_len > CACHE_KEY_MAX || etag_len > CACHE_ETAG_MAX)
        return;
    struct slot *s = &c->slots[slot_of(key, key_len)];
    drop(c, s);
    if (c->bytes + doc_len > c->max_bytes)
        return;
    s->doc = xmalloc(doc_len + 1);
    memcpy(s->doc, doc, doc_len);
    s->doc[doc_len] = '\0';
    s->doc_len = doc_len;
    memcpy(s->key, key, key_len);
    s->key[key_len] = '\0';
    s->key_len = key_len;
    memcpy(s->etag, etag, etag_len + 1);
    s->version = version;
    c->bytes += doc_len;
    c->entries++;
}

void cache_stats(const struct cache *c, size_t *entries, size_t *bytes)
{
    *entries = c != NULL ? c->entries : 0;
    *bytes = c != NULL ? c->bytes : 0;
}
