/*
 * tests/unit/test_auth.c - bearer token loading and checking (server/auth.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/auth.h"

static const char *TOK_W = "0123456789abcdef0123456789abcdef";
static const char *TOK_R = "f47ac10b-58cc-4372-a567-0e02b2c3d479"; /* uuid4, as the original used */

static void load(struct auth *a, char **tokens, size_t n, const char *api_key, const char *file, int expect)
{
    struct settings s;
    memset(&s, 0, sizeof(s));
    for (size_t i = 0; i < n; i++)
        s.tokens[i] = tokens[i];
    s.ntokens = n;
    s.api_key = (char *)api_key;
    s.tokens_file = (char *)file;
    struct err e = {0};
    int rc = auth_init(a, &s, &e);
    assert_int_equal(rc, expect);
}

static enum auth_scope check(const struct auth *a, const char *hdr)
{
    return auth_check(a, hdr, hdr ? strlen(hdr) : 0, NULL);
}

static void test_scopes(void **state)
{
    (void)state;
    char entry[128];
    snprintf(entry, sizeof(entry), "viewer:read:%s", TOK_R);
    char *toks[] = {(char *)TOK_W, entry};
    struct auth a;
    load(&a, toks, 2, NULL, NULL, 0);
    char hdr[200];
    snprintf(hdr, sizeof(hdr), "Bearer %s", TOK_W);
    assert_int_equal(check(&a, hdr), AUTH_SCOPE_WRITE);
    snprintf(hdr, sizeof(hdr), "Bearer %s", TOK_R);
    assert_int_equal(check(&a, hdr), AUTH_SCOPE_READ);
    int who = -2;
    auth_check(&a, hdr, strlen(hdr), &who);
    assert_int_equal(who, 1);
    assert_string_equal(a.entries[1].name, "viewer");
    auth_release(&a);
}

static void test_scheme_case_and_spaces(void **state)
{
    (void)state;
    char *toks[] = {(char *)TOK_W};
    struct auth a;
    load(&a, toks, 1, NULL, NULL, 0);
    char hdr[200];
    snprintf(hdr, sizeof(hdr), "bearer %s", TOK_W);
    assert_int_equal(check(&a, hdr), AUTH_SCOPE_WRITE);
    snprintf(hdr, sizeof(hdr), "BEARER   %s  ", TOK_W);
    assert_int_equal(check(&a, hdr), AUTH_SCOPE_WRITE);
    snprintf(hdr, sizeof(hdr), "Basic %s", TOK_W);
    assert_int_equal(check(&a, hdr), AUTH_SCOPE_NONE);
    snprintf(hdr, sizeof(hdr), "Bearer%s", TOK_W);
    assert_int_equal(check(&a, hdr), AUTH_SCOPE_NONE);
    assert_int_equal(check(&a, "Bearer "), AUTH_SCOPE_NONE);
    assert_int_equal(check(&a, "Bearer"), AUTH_SCOPE_NONE);
    assert_int_equal(check(&a, NULL), AUTH_SCOPE_NONE);
    auth_release(&a);
}

static void test_one_byte_changed_and_prefix(void **state)
{
    (void)state;
    char *toks[] = {(char *)TOK_W};
    struct auth a;
    load(&a, toks, 1, NULL, NULL, 0);
    char hdr[200];
    snprintf(hdr, sizeof(hdr), "Bearer %s", TOK_W);
    for (size_t i = 7; i < strlen(hdr); i++) {
        char saved = hdr[i];
        hdr[i] = saved == 'x' ? 'y' : 'x';
        assert_int_equal(check(&a, hdr), AUTH_SCOPE_NONE);
        hdr[i] = saved;
    }
    hdr[strlen(hdr) - 1] = '\0'; /* a prefix of the token */
    assert_int_equal(check(&a, hdr), AUTH_SCOPE_NONE);
    snprintf(hdr, sizeof(hdr), "Bearer %sX", TOK_W); /* token plus one byte */
    assert_int_equal(check(&a, hdr), AUTH_SCOPE_NONE);
    auth_release(&a);
}

static void test_api_key_and_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_auth_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "# tokens\n\n  ops:write:%s  \r\nreader:read:tok-from-file-123456\n", "ops-token-abcdefghijkl");
    fclose(f);
    struct auth a;
    load(&a, NULL, 0, TOK_R, path, 0);
    assert_int_equal(a.n, 3);
    char hdr[200];
    snprintf(hdr, sizeof(hdr), "Bearer %s", TOK_R);
    assert_int_equal(check(&a, hdr), AUTH_SCOPE_WRITE); /* API_KEY is a bare token: write scope */
    assert_int_equal(check(&a, "Bearer ops-token-abcdefghijkl"), AUTH_SCOPE_WRITE);
    assert_int_equal(check(&a, "Bearer tok-from-file-123456"), AUTH_SCOPE_READ);
    auth_release(&a);
    unlink(path);
}

static void test_bad_entries(void **state)
{
    (void)state;
    struct auth a;
    char *bad_scope[] = {"name:admin:secret-value-1234"};
    load(&a, bad_scope, 1, NULL, NULL, ERR_INVALID);
    auth_release(&a);
    char *two_parts[] = {"name:secret-value-1234"};
    load(&a, two_parts, 1, NULL, NULL, ERR_INVALID);
    auth_release(&a);
    char *empty_tok[] = {"name:read:"};
    load(&a, empty_tok, 1, NULL, NULL, ERR_INVALID);
    auth_release(&a);
    load(&a, NULL, 0, NULL, NULL, ERR_INVALID); /* nothing configured */
    auth_release(&a);
    load(&a, NULL, 0, NULL, "/nonexistent/tokens", ERR_IO);
    auth_release(&a);
}

static void test_error_never_echoes_token(void **state)
{
    (void)state;
    struct settings s;
    memset(&s, 0, sizeof(s));
    char *toks[] = {"svc:root:SUPERSECRETVALUE42"};
    s.tokens[0] = toks[0];
    s.ntokens = 1;
    struct auth a;
    struct err e = {0};
    assert_int_equal(auth_init(&a, &s, &e), ERR_INVALID);
    assert_null(strstr(e.msg, "SUPERSECRETVALUE42"));
    assert_non_null(strstr(e.msg, "scope"));
    auth_release(&a);
}

static void test_memo_per_connection(void **state)
{
    (void)state;
    char entry[128];
    snprintf(entry, sizeof(entry), "viewer:read:%s", TOK_R);
    char *toks[] = {(char *)TOK_W, entry};
    struct auth a;
    load(&a, toks, 2, NULL, NULL, 0);
    struct auth_memo m = {0};
    char good[200], bad[200];
    snprintf(good, sizeof(good), "Bearer %s", TOK_W);
    snprintf(bad, sizeof(bad), "Bearer %s", TOK_W);
    bad[10] ^= 1;
    assert_int_equal(auth_check_memo(&a, &m, good, strlen(good)), AUTH_SCOPE_WRITE);
    assert_int_equal(m.len, strlen(good));
    assert_int_equal(auth_check_memo(&a, &m, good, strlen(good)), AUTH_SCOPE_WRITE); /* from the memo */
    /* A different header on the same connection is judged afresh, and a failure forgets the memo. */
    assert_int_equal(auth_check_memo(&a, &m, bad, strlen(bad)), AUTH_SCOPE_NONE);
    assert_int_equal(m.len, 0);
    assert_int_equal(auth_check_memo(&a, &m, NULL, 0), AUTH_SCOPE_NONE);
    snprintf(good, sizeof(good), "Bearer %s", TOK_R);
    assert_int_equal(auth_check_memo(&a, &m, good, strlen(good)), AUTH_SCOPE_READ);
    /* A shorter header that is a prefix of the remembered one never matches. */
    assert_int_equal(auth_check_memo(&a, &m, good, strlen(good) - 1), AUTH_SCOPE_NONE);
    auth_memo_clear(&m);
    assert_int_equal(m.len, 0);
    auth_release(&a);
}

static void test_generate(void **state)
{
    (void)state;
    char t1[64], t2[64];
    auth_token_generate(t1);
    auth_token_generate(t2);
    assert_int_equal(strlen(t1), 43);
    assert_string_not_equal(t1, t2);
    for (size_t i = 0; i < 43; i++)
        assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", t1[i]));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scopes),
        cmocka_unit_test(test_scheme_case_and_spaces),
        cmocka_unit_test(test_one_byte_changed_and_prefix),
        cmocka_unit_test(test_api_key_and_file),
        cmocka_unit_test(test_bad_entries),
        cmocka_unit_test(test_error_never_echoes_token),
        cmocka_unit_test(test_memo_per_connection),
        cmocka_unit_test(test_generate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
