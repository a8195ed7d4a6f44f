/*
 * server/openapi.h - the project's OpenAPI 3.1 document (api/openapi.json),
 * built into the binary at build time, and its ETag. Serves GET /openapi.json
 * and the test that compares the document with the route table. No I/O.
 */
#ifndef SERVER_OPENAPI_H
#define SERVER_OPENAPI_H

#include <stddef.h>

/*
 * The document's bytes, exactly as in api/openapi.json (followed by a NUL that
 * `*len` does not count), and, when `etag` is not NULL, its strong quoted ETag
 * ("\"<32 hex digits>\"": BLAKE2b-128 of the bytes, computed on the first call,
 * thread-safe). Both are static: never freed, the same on every call and in
 * every process built from the same document. Never fails.
 */
const char *openapi_body(size_t *len, const char **etag);

#endif
