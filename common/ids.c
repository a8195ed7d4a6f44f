/*
 * common/ids.c - see ids.h.
 */
#include "common/ids.h"

#include <sodium.h>
#include <stdio.h>
#include <time.h>

/* Stamp `version` and the RFC 4122 variant into b and write it as 8-4-4-4-12 lowercase hex. */
static void uuid_format(unsigned char b[16], unsigned version, char out[IDS_UUID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    b[6] = (unsigned char)((b[6] & 0x0f) | (version << 4));
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

void ids_uuid_v4(char out[IDS_UUID_LEN + 1])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof(b));
    uuid_format(b, 4, out);
}

void ids_uuid_from_key(const char *ns, size_t nslen, const char *key, size_t keylen, char out[IDS_UUID_LEN + 1])
{
    static const unsigned char sep = 0x00;
    crypto_generichash_state st;
    unsigned char b[16];
    crypto_generichash_init(&st, NULL, 0, sizeof(b));
    crypto_generichash_update(&st, (const unsigned char *)ns, nslen);
    crypto_generichash_update(&st, &sep, 1);
    crypto_generichash_update(&st, (const unsigned char *)key, keylen);
    crypto_generichash_final(&st, b, sizeof(b));
    uuid_format(b, 8, out);
}

int ids_is_uuid(const char *s, size_t len)
{
    /* 1 for lowercase hex digits; checked on every request that names an id. */
    static const unsigned char is_hex[256] = {
        ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
        ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    };
    if (len != IDS_UUID_LEN || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
        return 0;
    unsigned ok = 1;
    for (size_t i = 0; i < len; i++)
        ok &= is_hex[(unsigned char)s[i]] | (i == 8 || i == 13 || i == 18 || i == 23);
    return (int)ok;
}

void ids_now_rfc3339(char out[IDS_TIME_LEN + 1])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, IDS_TIME_LEN + 1, "%Y-%m-%dT%H:%M:%S", &tm);
    int ms = (int)(ts.tv_nsec / 1000000);
    out[n] = '.';
    out[n + 1] = (char)('0' + ms / 100);
    out[n + 2] = (char)('0' + ms / 10 % 10);
    out[n + 3] = (char)('0' + ms % 10);
    out[n + 4] = 'Z';
    out[n + 5] = '\0';
}
