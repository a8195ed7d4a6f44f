/*
 * server/openapi.c - see openapi.h. The bytes live in openapi_doc.c, which
 * the Makefile generates from api/openapi.json (od + awk) into the build
 * folder; this module only hands them out and hashes them once.
 */
#include "server/openapi.h"

#include <pthread.h>
#include <sodium.h>

/* Defined by the generated openapi_doc.c: the file's bytes and a final NUL. */
extern const unsigned char openapi_doc[];
extern const size_t openapi_doc_len;

#define OPENAPI_HASH_BYTES 16

static char etag_text[2 * OPENAPI_HASH_BYTES + 3];
static pthread_once_t etag_once = PTHREAD_ONCE_INIT;

static void etag_compute(void)
{
    unsigned char hash[OPENAPI_HASH_BYTES];
    if (sodium_init() < 0)
        sodium_misuse(); /* libsodium cannot work at all: abort, as its own failures do */
    crypto_generichash(hash, sizeof(hash), openapi_doc, openapi_doc_len, NULL, 0);
    etag_text[0] = '"';
    sodium_bin2hex(etag_text + 1, 2 * OPENAPI_HASH_BYTES + 1, hash, sizeof(hash));
    etag_text[1 + 2 * OPENAPI_HASH_BYTES] = '"';
    etag_text[2 + 2 * OPENAPI_HASH_BYTES] = '\0';
}

const char *openapi_body(size_t *len, const char **etag)
{
    if (etag != NULL) {
        pthread_once(&etag_once, etag_compute);
        *etag = etag_text;
    }
    *len = openapi_doc_len;
    return (const char *)openapi_doc;
}
