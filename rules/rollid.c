/*
 * rules/rollid.c - see rollid.h. Layout of the authenticated bytes (before
 * base64url, no padding): version 1 (1 byte), issued_at (8 bytes, big-endian),
 * nonce (12), six scores (1 byte each), then the 32-byte MAC of all that.
 */
#include "rules/rollid.h"

#include <sodium.h>
#include <string.h>

#define FORMAT_VERSION 1
#define BODY_BYTES (1 + 8 + ROLLID_NONCE_BYTES + 6)
#define TOTAL_BYTES (BODY_BYTES + crypto_auth_BYTES)

static void pack(const struct rollid *r, unsigned char b[BODY_BYTES])
{
    b[0] = FORMAT_VERSION;
    uint64_t t = (uint64_t)r->issued_at;
    for (int i = 0; i < 8; i++)
        b[1 + i] = (unsigned char)(t >> (56 - 8 * i));
    memcpy(b + 9, r->nonce, ROLLID_NONCE_BYTES);
    for (int i = 0; i < 6; i++)
        b[9 + ROLLID_NONCE_BYTES + i] = (unsigned char)r->scores[i];
}

int rollid_issue(struct rollid *r, const unsigned char key[ROLLID_KEY_BYTES], char out[ROLLID_TEXT_MAX])
{
    for (int i = 0; i < 6; i++)
        if (r->scores[i] < 3 || r->scores[i] > 18)
            return -1;
    randombytes_buf(r->nonce, sizeof(r->nonce));
    unsigned char b[TOTAL_BYTES];
    pack(r, b);
    crypto_auth(b + BODY_BYTES, b, BODY_BYTES, key);
    sodium_bin2base64(out, ROLLID_TEXT_MAX, b, sizeof(b), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return 0;
}

enum rollid_status rollid_verify(const char *text, size_t len, const unsigned char key[ROLLID_KEY_BYTES], int64_t now,
                                 int64_t ttl_s, struct rollid *out)
{
    unsigned char b[TOTAL_BYTES + 1];
    size_t n = 0;
    const char *end = NULL;
    if (len == 0 || len >= ROLLID_TEXT_MAX ||
        sodium_base642bin(b, sizeof(b), text, len, NULL, &n, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        end != text + len || n != TOTAL_BYTES || b[0] != FORMAT_VERSION)
        return ROLLID_MALFORMED;
    if (crypto_auth_verify(b + BODY_BYTES, b, BODY_BYTES, key) != 0)
        return ROLLID_FORGED;
    struct rollid r;
    uint64_t t = 0;
    for (int i = 0; i < 8; i++)
        t = (t << 8) | b[1 + i];
    r.issued_at = (int64_t)t;
    memcpy(r.nonce, b + 9, ROLLID_NONCE_BYTES);
    for (int i = 0; i < 6; i++) {
        r.scores[i] = b[9 + ROLLID_NONCE_BYTES + i];
        if (r.scores[i] < 3 || r.scores[i] > 18)
            return ROLLID_MALFORMED; /* cannot happen for ids we signed */
    }
    if (r.issued_at > now + 60 || now - r.issued_at > ttl_s)
        return ROLLID_EXPIRED;
    *out = r;
    return ROLLID_OK;
}

void rollid_nonce_hex(const struct rollid *r, char out[2 * ROLLID_NONCE_BYTES + 1])
{
    sodium_bin2hex(out, 2 * ROLLID_NONCE_BYTES + 1, r->nonce, ROLLID_NONCE_BYTES);
}
