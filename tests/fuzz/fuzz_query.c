/*
 * tests/fuzz/fuzz_query.c - libFuzzer target for server/query.c. Any bytes must
 * parse or fail with a message, never crash or read out of bounds, and every
 * parameter must keep query.h's promises: NUL-terminated names and values of
 * the stated lengths inside the query's own buffer, within their bounds, valid
 * UTF-8 without control characters unless a problem is recorded, problems
 * clearing the text they concern, and no more parameters than the bound.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct query q;

/* 1 when s[0..n) is inside q.buf with its NUL there too. */
static int in_buf(const char *s, size_t n)
{
    return s >= q.buf && s + n < q.buf + sizeof(q.buf) && s[n] == '\0' && strlen(s) == n;
}

/* Loose re-check of the text promise: no byte below 0x20, no DEL, no 0xC0/0xC1/0xF5+ lead bytes. */
static int plain_text(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == 0xc0 || c == 0xc1 || c >= 0xf5)
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly `size` bytes, so ASan catches any read past the end. */
    char *text = malloc(size ? size : 1);
    if (text == NULL)
        abort();
    memcpy(text, data, size);
    struct err e = {0};
    int rc = query_parse(&q, text, size, &e);
    if (rc != 0) {
        if (rc != ERR_TOO_LARGE || e.msg[0] == '\0' || memchr(e.msg, '\0', sizeof(e.msg)) == NULL)
            abort();
        if (size <= QUERY_TEXT_MAX && !q.too_many)
            abort();
    } else if (q.too_many) {
        abort();
    }
    if (q.n > QUERY_PARAMS_MAX || (size > QUERY_TEXT_MAX && q.n != 0))
        abort();
    for (size_t i = 0; i < q.n; i++) {
        const struct query_param *p = &q.params[i];
        if (!in_buf(p->key, p->key_len) || !in_buf(p->value, p->value_len))
            abort();
        if (p->key_problem == QUERY_OK && (p->key_len > QUERY_KEY_MAX || !plain_text(p->key, p->key_len)))
            abort();
        if (p->key_problem == QUERY_TOO_LONG && (p->key_len <= QUERY_KEY_MAX || !plain_text(p->key, p->key_len)))
            abort();
        if (p->key_problem != QUERY_OK && p->key_problem != QUERY_TOO_LONG && p->key_len != 0)
            abort();
        if (p->value_problem == QUERY_OK && (p->value_len > QUERY_VALUE_MAX || !plain_text(p->value, p->value_len)))
            abort();
        if (p->value_problem != QUERY_OK && p->value_len != 0)
            abort();
        if (!p->has_value && (p->value_len != 0 || p->value_problem != QUERY_OK))
            abort();
        if (p->key_len == 0 && p->key_problem == QUERY_OK && p->has_value && p->value_len == 0 &&
            p->value_problem == QUERY_OK)
            abort(); /* a lone "=" is skipped */
        if (query_problem_text(p->key_problem) == NULL || query_problem_text(p->value_problem) == NULL)
            abort();
        /* query_find() finds the first parameter of that name */
        if (p->key_problem == QUERY_OK) {
            int j = query_find(&q, p->key, 0);
            if (j < 0 || (size_t)j > i || strcmp(q.params[j].key, p->key) != 0)
                abort();
        }
    }
    free(text);
    return 0;
}
