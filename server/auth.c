/*
 * server/auth.c - see auth.h.
 */
#include "server/auth.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/xmalloc.h"

#define AUTH_MAX_ENTRIES 4096
#define AUTH_FILE_MAX_BYTES (1u << 20)

static void digest(const struct auth *a, const char *tok, size_t len, unsigned char out[AUTH_DIGEST_BYTES])
{
    crypto_generichash(out, AUTH_DIGEST_BYTES, (const unsigned char *)tok, len, a->key, sizeof(a->key));
}

/* Parse one entry (bare or NAME:SCOPE:TOKEN) and append it. `where` names its origin for messages. */
static int add_entry(struct auth *a, const char *text, size_t len, const char *where, struct err *e)
{
    if (a->n >= AUTH_MAX_ENTRIES)
        return err_set(e, ERR_INVALID, "%s: more than %d tokens", where, AUTH_MAX_ENTRIES);
    const char *c1 = memchr(text, ':', len);
    struct auth_entry *x = &a->entries[a->n];
    const char *tok = text;
    size_t toklen = len;
    x->scope = AUTH_SCOPE_WRITE;
    snprintf(x->name, sizeof(x->name), "token-%zu", a->n + 1);
    if (c1 != NULL) {
        const char *c2 = memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - text));
        if (c2 == NULL)
            return err_set(e, ERR_INVALID, "%s: expected a bare token or NAME:SCOPE:TOKEN", where);
        size_t namelen = (size_t)(c1 - text), scopelen = (size_t)(c2 - c1 - 1);
        tok = c2 + 1;
        toklen = len - (size_t)(tok - text);
        if (namelen == 0 || namelen >= sizeof(x->name))
            return err_set(e, ERR_INVALID, "%s: token name must be 1..%zu characters", where, sizeof(x->name) - 1);
        if (scopelen == 4 && memcmp(c1 + 1, "read", 4) == 0)
            x->scope = AUTH_SCOPE_READ;
        else if (scopelen == 5 && memcmp(c1 + 1, "write", 5) == 0)
            x->scope = AUTH_SCOPE_WRITE;
        else
            return err_set(e, ERR_INVALID, "%s: scope must be \"read\" or \"write\"", where);
        memcpy(x->name, text, namelen);
        x->name[namelen] = '\0';
    }
    if (toklen == 0)
        return err_set(e, ERR_INVALID, "%s: empty token", where);
    if (toklen > AUTH_TOKEN_MAX)
        return err_set(e, ERR_INVALID, "%s: token longer than %d bytes", where, AUTH_TOKEN_MAX);
    for (size_t i = 0; i < toklen; i++)
        if ((unsigned char)tok[i] <= 0x20 || (unsigned char)tok[i] >= 0x7f)
            return err_set(e, ERR_INVALID, "%s: token has a space or non-printable character", where);
    digest(a, tok, toklen, x->digest);
    a->n++;
    return 0;
}

static int load_file(struct auth *a, const char *path, struct err *e)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return err_set(e, ERR_IO, "cannot read tokens file \"%s\": %s", path, strerror(errno));
    char *buf = xmalloc(AUTH_FILE_MAX_BYTES + 1);
    size_t len = fread(buf, 1, AUTH_FILE_MAX_BYTES + 1, f);
    fclose(f);
    int rc = 0;
    if (len > AUTH_FILE_MAX_BYTES) {
        rc = err_set(e, ERR_TOO_LARGE, "tokens file \"%s\" is larger than 1 MiB", path);
        goto out;
    }
    size_t lineno = 0;
    for (size_t i = 0; i < len && rc == 0;) {
        size_t j = i;
        while (j < len && buf[j] != '\n')
            j++;
        lineno++;
        size_t s = i, t = j;
        while (s < t && (buf[s] == ' ' || buf[s] == '\t'))
            s++;
        while (t > s && (buf[t - 1] == ' ' || buf[t - 1] == '\t' || buf[t - 1] == '\r'))
            t--;
        if (t > s && buf[s] != '#') {
            char where[600];
            snprintf(where, sizeof(where), "%s:%zu", path, lineno);
            rc = add_entry(a, buf + s, t - s, where, e);
        }
        i = j + 1;
    }
out:
    sodium_memzero(buf, len < AUTH_FILE_MAX_BYTES ? len : AUTH_FILE_MAX_BYTES);
    free(buf);
    return rc;
}

int auth_init(struct auth *a, const struct settings *s, struct err *e)
{
    memset(a, 0, sizeof(*a));
    randombytes_buf(a->key, sizeof(a->key));
    a->entries = xcalloc(AUTH_MAX_ENTRIES, sizeof(*a->entries));
    int rc = 0;
    if (s->api_key != NULL && s->api_key[0] != '\0')
        rc = add_entry(a, s->api_key, strlen(s->api_key), "API_KEY", e);
    for (size_t i = 0; rc == 0 && i < s->ntokens; i++) {
        char where[64];
        snprintf(where, sizeof(where), "auth.tokens entry %zu", i + 1);
        rc = add_entry(a, s->tokens[i], strlen(s->tokens[i]), where, e);
    }
    if (rc == 0 && s->tokens_file != NULL && s->tokens_file[0] != '\0')
        rc = load_file(a, s->tokens_file, e);
    if (rc == 0 && a->n == 0)
        rc = err_set(e, ERR_INVALID,
                     "no API token configured: set API_KEY or API_TOKENS (make one with \"character-server token\")");
    return rc;
}

void auth_release(struct auth *a)
{
    if (a->entries != NULL) {
        sodium_memzero(a->entries, AUTH_MAX_ENTRIES * sizeof(*a->entries));
        free(a->entries);
    }
    sodium_memzero(a->key, sizeof(a->key));
    a->entries = NULL;
    a->n = 0;
}

enum auth_scope auth_check(const struct auth *a, const char *header, size_t len, int *who)
{
    if (who != NULL)
        *who = -1;
    if (header == NULL || len < 7 || strncasecmp(header, "bearer", 6) != 0 || (header[6] != ' ' && header[6] != '\t'))
        return AUTH_SCOPE_NONE;
    size_t i = 7;
    while (i < len && (header[i] == ' ' || header[i] == '\t'))
        i++;
    size_t end = len;
    while (end > i && (header[end - 1] == ' ' || header[end - 1] == '\t'))
        end--;
    if (end == i || end - i > AUTH_TOKEN_MAX)
        return AUTH_SCOPE_NONE;
    unsigned char d[AUTH_DIGEST_BYTES];
    digest(a, header + i, end - i, d);
    /* Visit every entry; select the match with arithmetic, not branches. */
    unsigned scope = 0;
    int match = -1;
    for (size_t k = 0; k < a->n; k++) {
        unsigned eq = (unsigned)(sodium_memcmp(d, a->entries[k].digest, AUTH_DIGEST_BYTES) == 0);
        unsigned mask = 0u - eq;
        unsigned better = 0u - (unsigned)((unsigned)a->entries[k].scope > scope);
        scope = (scope & ~(mask & better)) | ((unsigned)a->entries[k].scope & mask & better);
        match = (int)(((unsigned)match & ~(mask & better)) | ((unsigned)k & mask & better));
    }
    sodium_memzero(d, sizeof(d));
    if (who != NULL)
        *who = match;
    return (enum auth_scope)scope;
}

enum auth_scope auth_check_memo(const struct auth *a, struct auth_memo *m, const char *header, size_t len)
{
    if (m == NULL)
        return auth_check(a, header, len, NULL);
    if (header != NULL && m->len != 0 && len == m->len && sodium_memcmp(header, m->header, len) == 0)
        return m->scope;
    enum auth_scope scope = auth_check(a, header, len, NULL);
    auth_memo_clear(m);
    if (scope != AUTH_SCOPE_NONE && len <= AUTH_MEMO_MAX) {
        memcpy(m->header, header, len);
        m->len = len;
        m->scope = scope;
    }
    return scope;
}

void auth_memo_clear(struct auth_memo *m)
{
    if (m->len != 0)
        sodium_memzero(m->header, m->len);
    m->len = 0;
    m->scope = AUTH_SCOPE_NONE;
}

void auth_token_generate(char out[64])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(out, 64, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
}
