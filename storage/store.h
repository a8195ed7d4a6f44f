/*
 * storage/store.h - the local SQLite store: one connection per process, opened
 * after fork, WAL mode, busy timeout, prepared statements kept for the life of
 * the connection. Resources are kept as their full JSON document plus the
 * columns needed to find them. Knows nothing of HTTP.
 */
#ifndef STORAGE_STORE_H
#define STORAGE_STORE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct store;

/*
 * The kinds of stored document. Each is one table of document rows (id,
 * version, timestamps, ETag, the served JSON, the writing instance, and a few
 * columns to find rows by) and one outbox resource; one implementation serves
 * them all (the store_doc_* functions), and store_character_* are its
 * character instances.
 */
enum store_kind {
    STORE_CHARACTERS = 0, /* table characters, outbox resource "characters" */
    STORE_EQUIPMENT = 1,  /* table equipment, resource "equipment" (custom items; CSV-loaded rows have no document) */
    STORE_CAMPAIGNS = 2,  /* table campaign, resource "campaigns" */
};
#define STORE_KINDS 3

struct store_options {
    int busy_timeout_ms;     /* wait this long for a lock before failing */
    int synchronous_full;    /* 1: PRAGMA synchronous=FULL, 0: NORMAL */
    int readonly;            /* open without write access */
    uint64_t *generation;    /* shared write counter (storage/cache.h); NULL: no read cache */
    size_t cache_bytes;      /* read cache bound; 0: no read cache */
    int outbox;              /* write-through: each write also queues an outbox row */
    const char *instance;    /* this instance's id, recorded with each write (may be NULL) */
};

/* One stored document row (a character, an equipment item, a campaign); strings are NUL-terminated. */
struct store_record {
    const char *id;
    long long version;
    const char *name;
    const char *created_at;
    const char *updated_at;
    const char *etag;
    const char *document;    /* the JSON served to clients */
    size_t document_len;
    /* Columns for listing and uniqueness (writes set them; store_character_get leaves them NULL/0,
     * store_character_list sets race, class_ and level; NULL/0 is stored as NULL). */
    const char *race;        /* race index */
    const char *class_;      /* creation class index */
    int level;               /* total character level */
    const char *roll_nonce;  /* rolled builds: the roll id's nonce (hex), unique; NULL otherwise */
    /* Equipment columns (writes set them; store_doc_list sets them; NULL is stored as NULL). */
    const char *equip_type;  /* one of the original API's 16 types */
    double base_cost;        /* gp */
    double weight;           /* lb */
    /* Campaign column (writes set it; store_doc_list sets it). */
    const char *character_id;
};

/* GET /v1/characters filters; NULL / 0 = no filter. */
struct store_filter {
    const char *race;
    const char *class_;      /* matches the creation class */
    int level;
    const char *name_prefix; /* case-insensitive (ASCII) prefix of the name (characters, equipment) */
    const char *equip_type;  /* equipment: exactly this type */
    const char *character_id; /* campaigns: of this character */
    int documents_only;      /* equipment: only rows with a document (not rows loaded from CSV) */
};

/* Called once per listed row; the record's strings live until it returns. Non-zero stops the walk. */
typedef int (*store_row_fn)(void *ctx, const struct store_record *r);

/*
 * Open (creating it and its folder when absent, unless readonly) the database
 * at `path`, set its pragmas. Returns 0 and *out, or ERR_IO with SQLite's message. Statements are
 * prepared lazily by store_prepare() because the schema may not exist yet.
 */
int store_open(const char *path, const struct store_options *opt, struct store **out, struct err *e);

/* Prepare the statements the request paths use. ERR_IO when the schema lacks a table. */
int store_prepare(struct store *s, struct err *e);

/* Finalize statements and close the connection; NULL is a no-op. */
void store_close(struct store *s);

/* The raw connection (for migrations). Borrowed. */
sqlite3 *store_db(struct store *s);

/* 0 when the connection answers a trivial query, ERR_IO otherwise. */
int store_ping(struct store *s, struct err *e);

/*
 * Insert a new character row, and with options.outbox an outbox row for it in
 * the same transaction (*seq, may be NULL, gets its sequence number; 0 when
 * none). On success every process's read cache learns of the change before
 * this returns. ERR_CONFLICT when the id exists, ERR_DUPLICATE when
 * r->roll_nonce is already recorded, ERR_IO otherwise.
 */
int store_character_insert(struct store *s, const struct store_record *r, long long *seq, struct err *e);

/*
 * Replace character r->id with r (r->version must be the stored version + 1),
 * with an outbox "upsert" row in the same transaction when options.outbox.
 * `expect_version` > 0: only when the stored version is that one (If-Match).
 * ERR_NOT_FOUND when absent, ERR_CONFLICT when the stored version differs
 * from expect_version (or from r->version - 1), ERR_DUPLICATE when r->roll_nonce is
 * another character's, ERR_IO otherwise.
 */
int store_character_update(struct store *s, const struct store_record *r, long long expect_version, long long *seq,
                           struct err *e);

/*
 * Delete character `id` (with an outbox "delete" row when options.outbox);
 * `expect_version` > 0: only when the stored version is that one.
 * ERR_NOT_FOUND, ERR_CONFLICT, ERR_IO.
 */
int store_character_delete(struct store *s, const char *id, long long expect_version, long long *seq, struct err *e);

/*
 * List characters matching `f`, ordered by id, starting after `after_id`
 * (NULL: from the start), at most `limit` rows (none when limit <= 0), each
 * passed to fn (id, version, etag, document, name, created_at, updated_at,
 * race, class_ and level set). *count gets the number of all rows matching
 * `f` (ignoring after_id and limit), from the same snapshot as the rows. `f`
 * may be NULL (no filter). Rows whose column is NULL (written before
 * migration 0003) match no filter on it. ERR_IO on failure.
 */
int store_character_list(struct store *s, const struct store_filter *f, const char *after_id, int limit,
                         long long *count, store_row_fn fn, void *ctx, struct err *e);

/*
 * Store a character that another instance wrote (pulled from HarperDB) when
 * it is newer than ours by the total order (version, updated_at, instance);
 * no outbox row. *applied (may be NULL) is 1 when it replaced or added the row.
 */
int store_character_put_remote(struct store *s, const struct store_record *r, const char *instance, int *applied,
                               struct err *e);

/*
 * Pulled records do not overwrite a local row that is newer, nor bring back a
 * character whose local delete still waits in the outbox; a pulled
 * r->roll_nonce that another local character holds is dropped (the record is
 * kept, logged), and a pulled record without one keeps the local nonce.
 */

/* The roll_nonce of character `id` into out ("" when it has none); ERR_NOT_FOUND, ERR_IO. For the syncer. */
int store_character_nonce(struct store *s, const char *id, char *out, size_t outlen, struct err *e);

/* Remove a character deleted elsewhere. ERR_NOT_FOUND when it was not here. */
int store_character_delete_remote(struct store *s, const char *id, struct err *e);

/*
 * The generic document-row functions behind store_character_*: the same
 * contracts as the character functions below with "character" read as "row
 * of kind k", for any kind. The roll-nonce rules (ERR_DUPLICATE, keeping a
 * local nonce on pull) apply to characters only. store_doc_get answers
 * ERR_NOT_FOUND for a row without a document (equipment loaded from CSV).
 * store_doc_list passes rows with a NULL document to fn only for
 * STORE_EQUIPMENT without f->documents_only (the library lists them); the
 * equipment columns (name, equip_type, base_cost, weight) or the campaign's
 * character_id are set on the records it passes. The statements of the
 * equipment and campaign tables are prepared on first use, so a database
 * without migration 0004 still serves characters.
 */
int store_doc_insert(struct store *s, enum store_kind k, const struct store_record *r, long long *seq,
                     struct err *e);
int store_doc_update(struct store *s, enum store_kind k, const struct store_record *r, long long expect_version,
                     long long *seq, struct err *e);
int store_doc_delete(struct store *s, enum store_kind k, const char *id, long long expect_version, long long *seq,
                     struct err *e);
int store_doc_get(struct store *s, enum store_kind k, const char *id, size_t id_len, struct store_record *out,
                  struct err *e);
int store_doc_list(struct store *s, enum store_kind k, const struct store_filter *f, const char *after_id, int limit,
                   long long *count, store_row_fn fn, void *ctx, struct err *e);
int store_doc_put_remote(struct store *s, enum store_kind k, const struct store_record *r, const char *instance,
                         int *applied, struct err *e);
int store_doc_delete_remote(struct store *s, enum store_kind k, const char *id, struct err *e);

/* The outbox resource of kind k ("characters", "equipment", "campaigns"); kind_of: the kind of a resource, or -1. */
const char *store_kind_resource(enum store_kind k);
int store_kind_of(const char *resource);

/* Tell every process's read cache that the database changed (after a raw write). */
void store_changed(struct store *s);

/*
 * Find character `id`: sets out->id, version, etag and document (the others are
 * NULL: the document holds them). Served from the read cache when it is
 * current. On 0 the strings point into SQLite's or the cache's memory: copy
 * what you keep, then call store_row_done() at once (a row holds a read
 * transaction open until then). ERR_NOT_FOUND when absent, ERR_IO on failure;
 * on an error no row is held.
 */
int store_character_get(struct store *s, const char *id, size_t id_len, struct store_record *out, struct err *e);

/* Release the row returned by the last successful *_get call. */
void store_row_done(struct store *s);

/* Strong ETag for a document: a quoted hex digest of the version and the
 * document's canonical JSON (keys sorted; the raw bytes when it is not JSON),
 * into out[36]: the same content in any key order gets the same ETag. */
void store_etag(long long version, const char *doc, size_t len, char out[36]);

#endif
