/*
 * server/query.c - see query.h. One pass over the raw text: split on '&' and
 * the first '=', decode each part into q->buf, then judge the decoded bytes
 * (escape, NUL, UTF-8 and control characters, length, in that order).
 */
#include "server/query.h"

#include <string.h>

static int hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Length of the valid UTF-8 sequence starting at s[0..len), or 0 when it is not
 * one (overlong forms, surrogates and code points over U+10FFFF are invalid).
 */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
    unsigned char c = s[0];
    size_t n;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, cp = c & 0x1fu;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, cp = c & 0x0fu;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, cp = c & 0x07u;
    else
        return 0;
    if (n > len)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* 1 when s[0..len) is valid UTF-8 without C0 control characters or DEL. */
static int text_ok(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        if (u[i] < 0x20 || u[i] == 0x7f)
            return 0;
        size_t n = utf8_seq(u + i, len - i);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

/*
 * Decode raw[0..len) into out (room for len + 1 bytes) and judge the result
 * against `max`. Sets *out_len; on a problem other than QUERY_TOO_LONG the
 * output is emptied.
 */
static enum query_problem decode(const char *raw, size_t len, char *out, size_t max, size_t *out_len)
{
    enum query_problem p = QUERY_OK;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 1 < len ? hex_digit((unsigned char)raw[i + 1]) : -1;
            int lo = i + 2 < len ? hex_digit((unsigned char)raw[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                p = QUERY_BAD_ESCAPE;
                break;
            }
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0' && p == QUERY_OK)
            p = QUERY_NUL; /* keep scanning: a bad escape later is reported first */
        out[n++] = (char)c;
    }
    if (p == QUERY_OK && !text_ok(out, n))
        p = QUERY_NOT_TEXT;
    if (p == QUERY_OK && n > max)
        p = QUERY_TOO_LONG;
    if (p != QUERY_OK && p != QUERY_TOO_LONG)
        n = 0;
    out[n] = '\0';
    *out_len = n;
    return p;
}

int query_parse(struct query *q, const char *text, size_t len, struct err *e)
{
    q->n = 0;
    q->too_many = 0;
    q->buf[0] = '\0';
    if (len > QUERY_TEXT_MAX)
        return err_set(e, ERR_TOO_LARGE, "the query string is %zu bytes long; at most %d allowed", len, QUERY_TEXT_MAX);
    size_t at = 0; /* used bytes of q->buf: at most the raw bytes seen + 2 per parameter */
    for (size_t i = 0; i <= len;) {
        size_t j = i;
        while (j < len && text[j] != '&')
            j++;
        size_t eq = i;
        while (eq < j && text[eq] != '=')
            eq++;
        size_t seg = j - i;
        size_t start = i;
        i = j + 1;
        if (seg == 0 || (seg == 1 && text[start] == '='))
            continue;
        if (q->n == QUERY_PARAMS_MAX) {
            q->too_many = 1;
            break;
        }
        struct query_param *p = &q->params[q->n++];
        char *k = q->buf + at;
        p->key_problem = decode(text + start, eq - start, k, QUERY_KEY_MAX, &p->key_len);
        p->key = k;
        at += p->key_len + 1;
        char *v = q->buf + at;
        p->has_value = eq < j;
        p->value_problem =
            p->has_value ? decode(text + eq + 1, j - eq - 1, v, QUERY_VALUE_MAX, &p->value_len) : QUERY_OK;
        if (!p->has_value) {
            v[0] = '\0';
            p->value_len = 0;
        }
        p->value = v;
        if (p->value_problem == QUERY_TOO_LONG) { /* kept for the length check only; not shown */
            v[0] = '\0';
            p->value_len = 0;
        }
        at += p->value_len + 1;
    }
    if (q->too_many)
        return err_set(e, ERR_TOO_LARGE, "the query has more than %d parameters", QUERY_PARAMS_MAX);
    return 0;
}

int query_find(const struct query *q, const char *key, size_t from)
{
    for (size_t i = from; i < q->n; i++)
        if (q->params[i].key_problem == QUERY_OK && strcmp(q->params[i].key, key) == 0)
            return (int)i;
    return -1;
}

const char *query_problem_text(enum query_problem p)
{
    switch (p) {
    case QUERY_OK: return "";
    case QUERY_BAD_ESCAPE: return "holds an invalid percent escape";
    case QUERY_NUL: return "holds a NUL byte";
    case QUERY_NOT_TEXT: return "is not valid UTF-8 text or holds a control character";
    case QUERY_TOO_LONG: return "is too long";
    }
    return "is not valid";
}
