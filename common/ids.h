/*
 * common/ids.h - identifiers and timestamps: UUID v4 strings from libsodium
 * randomness, name-based UUIDs (version 8) from BLAKE2b, and RFC 3339 UTC
 * times. sodium_init() must have run first.
 */
#ifndef COMMON_IDS_H
#define COMMON_IDS_H

#include <stddef.h>

#define IDS_UUID_LEN 36
#define IDS_TIME_LEN 24 /* "2026-11-28T22:18:51.123Z" */

/* Write a new lowercase UUID v4 and its NUL into out[37]. */
void ids_uuid_v4(char out[IDS_UUID_LEN + 1]);

/*
 * Write the UUID named by `key` within namespace `ns` and its NUL into out[37]:
 * the BLAKE2b-128 digest (crypto_generichash, 16 bytes) of ns || 0x00 || key,
 * with the version nibble set to 8 and the RFC 4122 variant, in lowercase. The
 * same inputs always give the same id (the migration `load` command's row ids).
 */
void ids_uuid_from_key(const char *ns, size_t nslen, const char *key, size_t keylen, char out[IDS_UUID_LEN + 1]);

/* 1 when s[0..len) is a lowercase UUID (8-4-4-4-12 hex digits), else 0. */
int ids_is_uuid(const char *s, size_t len);

/* Write the current UTC time with milliseconds and its NUL into out[25]. */
void ids_now_rfc3339(char out[IDS_TIME_LEN + 1]);

#endif
