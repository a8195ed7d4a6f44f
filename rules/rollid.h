/*
 * rules/rollid.h - roll ids: a self-contained, signed record of one ability
 * score roll, so any instance can verify a "rolled" build without a shared
 * table. A roll id carries the six scores, the time it was made and a random
 * nonce, authenticated with crypto_auth (HMAC-SHA-512-256) under the key all
 * instances share (setting rolls.key). It expires; the nonce is what a stored
 * character records (under a unique index) so one roll serves one character.
 * Pure: the caller supplies the key and the clock.
 */
#ifndef RULES_ROLLID_H
#define RULES_ROLLID_H

#include <stddef.h>
#include <stdint.h>

#define ROLLID_KEY_BYTES 32
#define ROLLID_NONCE_BYTES 12
#define ROLLID_TEXT_MAX 96 /* base64url text and its NUL */

struct rollid {
    int scores[6];               /* 3..18 each, in the order rolled */
    int64_t issued_at;           /* seconds since the epoch */
    unsigned char nonce[ROLLID_NONCE_BYTES];
};

enum rollid_status { ROLLID_OK = 0, ROLLID_MALFORMED = -1, ROLLID_FORGED = -2, ROLLID_EXPIRED = -3 };

/*
 * Make the text of a roll id for `r` (its nonce is filled from libsodium here)
 * into out[ROLLID_TEXT_MAX]. Returns 0, or -1 when a score is outside 3..18.
 */
int rollid_issue(struct rollid *r, const unsigned char key[ROLLID_KEY_BYTES], char out[ROLLID_TEXT_MAX]);

/*
 * Check `text` (len bytes) under `key` at time `now`: ROLLID_OK and *out, or
 * ROLLID_MALFORMED (not a roll id), ROLLID_FORGED (the MAC does not verify:
 * edited, or made under another key; compared in constant time),
 * ROLLID_EXPIRED (older than ttl_s seconds, or issued more than a minute in
 * the future).
 */
enum rollid_status rollid_verify(const char *text, size_t len, const unsigned char key[ROLLID_KEY_BYTES], int64_t now,
                                 int64_t ttl_s, struct rollid *out);

/* The nonce as 24 lowercase hex digits and a NUL (what a character stores). */
void rollid_nonce_hex(const struct rollid *r, char out[2 * ROLLID_NONCE_BYTES + 1]);

#endif
