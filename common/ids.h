/*
 * common/ids.h - identifiers and timestamps: UUID v4 strings from libsodium
 * randomness and RFC 3339 UTC times. sodium_init() must have run first.
 */
#ifndef COMMON_IDS_H
#define COMMON_IDS_H

#include <stddef.h>

#define IDS_UUID_LEN 36
#define IDS_TIME_LEN 24 /* "2026-11-28T22:18:51.123Z" */

/* Write a new lowercase UUID v4 and its NUL into out[37]. */
void ids_uuid_v4(char out[IDS_UUID_LEN + 1]);

/* 1 when s[0..len) is a lowercase UUID (8-4-4-4-12 hex digits), else 0. */
int ids_is_uuid(const char *s, size_t len);

/* Write the current UTC time with milliseconds and its NUL into out[25]. */
void ids_now_rfc3339(char out[IDS_TIME_LEN + 1]);

#endif
