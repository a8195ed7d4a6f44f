/*
 * storage/cache.h - a per-process read cache of stored documents, kept honest
 * by a generation counter shared by every process that writes the database.
 *
 * Every write through storage/store.c bumps the shared counter after it
 * commits; a lookup that sees a counter different from the one its entries
 * were filled under drops them all. So a reader never serves a document older
 * than the last acknowledged write: the writer answers its client only after
 * the bump. Bounded in bytes; direct-mapped (a new entry replaces the one in
 * its slot). The database must have no writer outside this project's processes
 * while the server runs (scripts/migrate runs before it starts).
 */
#ifndef STORAGE_CACHE_H
#define STORAGE_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct cache;

/* A counter in memory shared across fork() (MAP_SHARED); NULL when mmap fails. Never freed. */
uint64_t *cache_generation_new(void);

/* Bump the shared counter (after a commit). NULL is a no-op. */
void cache_generation_bump(uint64_t *gen);

/* A cache of at most `max_bytes` of documents tied to `gen`; NULL when max_bytes or gen is 0/NULL. */
struct cache *cache_new(uint64_t *gen, size_t max_bytes);

void cache_free(struct cache *c);

struct cache_hit {
    const char *etag;
    const char *doc;
    size_t doc_len;
    long long version;
};

/*
 * Look `key` up. 1 and *hit (pointing into the cache, valid until the next
 * cache call) when present and current, else 0. Drops every entry first when
 * the shared generation moved. Returns the generation the caller must pass to
 * cache_put() for what it reads from the database next, through *gen_out.
 */
int cache_get(struct cache *c, const char *key, size_t key_len, struct cache_hit *hit, uint64_t *gen_out);

/*
 * Remember a document read from the database under generation `gen` (from the
 * cache_get() that missed). Ignored when the generation has moved since, when
 * the key is longer than 64 bytes, or when it would not fit the byte bound.
 */
void cache_put(struct cache *c, uint64_t gen, const char *key, size_t key_len, long long version, const char *etag,
               const char *doc, size_t doc_len);

/* Entries and bytes held (for tests and metrics). */
void cache_stats(const struct cache *c, size_t *entries, size_t *bytes);

#endif
