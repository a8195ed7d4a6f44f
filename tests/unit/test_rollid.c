/*
 * tests/unit/test_rollid.c - signed roll ids (rules/rollid.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
/* clang-format off */
#include <cmocka.h>
/* clang-format on */

#include <sodium.h>
#include <string.h>

#include "rules/rollid.h"

static unsigned char key[ROLLID_KEY_BYTES], other[ROLLID_KEY_BYTES];
static const int64_t NOW = 1795900000, TTL = 86400;

static void issue(struct rollid *r, char text[ROLLID_TEXT_MAX])
{
    const int scores[6] = {15, 14, 13, 12, 10, 8};
    memcpy(r->scores, scores, sizeof(scores));
    r->issued_at = NOW;
    assert_int_equal(rollid_issue(r, key, text), 0);
}

static void test_roundtrip(void **state)
{
    (void)state;
    struct rollid r, back;
    char text[ROLLID_TEXT_MAX];
    issue(&r, text);
    assert_int_equal(rollid_verify(text, strlen(text), key, NOW + 10, TTL, &back), ROLLID_OK);
    assert_memory_equal(back.scores, r.scores, sizeof(r.scores));
    assert_int_equal(back.issued_at, NOW);
    assert_memory_equal(back.nonce, r.nonce, ROLLID_NONCE_BYTES);
    for (size_t i = 0; i < strlen(text); i++) /* base64url, no padding */
        assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", text[i]));
}

static void test_every_edit_is_refused(void **state)
{
    (void)state;
    struct rollid r, back;
    char text[ROLLID_TEXT_MAX];
    issue(&r, text);
    size_t len = strlen(text);
    for (size_t i = 0; i < len; i++) {
        char saved = text[i];
        text[i] = saved == 'A' ? 'B' : 'A';
        enum rollid_status st = rollid_verify(text, len, key, NOW, TTL, &back);
        assert_true(st == ROLLID_FORGED || st == ROLLID_MALFORMED);
        text[i] = saved;
    }
}

static void test_other_key_expired_future_garbage(void **state)
{
    (void)state;
    struct rollid r, back;
    char text[ROLLID_TEXT_MAX];
    issue(&r, text);
    size_t len = strlen(text);
    assert_int_equal(rollid_verify(text, len, other, NOW, TTL, &back), ROLLID_FORGED);
    assert_int_equal(rollid_verify(text, len, key, NOW + TTL + 1, TTL, &back), ROLLID_EXPIRED);
    assert_int_equal(rollid_verify(text, len, key, NOW + TTL, TTL, &back), ROLLID_OK);
    assert_int_equal(rollid_verify(text, len, key, NOW - 61, TTL, &back), ROLLID_EXPIRED); /* from the future */
    assert_int_equal(rollid_verify("", 0, key, NOW, TTL, &back), ROLLID_MALFORMED);
    assert_int_equal(rollid_verify("not a roll id!", 14, key, NOW, TTL, &back), ROLLID_MALFORMED);
    assert_int_equal(rollid_verify(text, len - 1, key, NOW, TTL, &back), ROLLID_MALFORMED);
}

static void test_nonces_differ_and_scores_bounded(void **state)
{
    (void)state;
    struct rollid a, b;
    char ta[ROLLID_TEXT_MAX], tb[ROLLID_TEXT_MAX], ha[25], hb[25];
    issue(&a, ta);
    issue(&b, tb);
    rollid_nonce_hex(&a, ha);
    rollid_nonce_hex(&b, hb);
    assert_int_equal(strlen(ha), 24);
    assert_string_not_equal(ha, hb);
    assert_string_not_equal(ta, tb);
    a.scores[2] = 19;
    assert_int_equal(rollid_issue(&a, key, ta), -1);
    a.scores[2] = 2;
    assert_int_equal(rollid_issue(&a, key, ta), -1);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    randombytes_buf(key, sizeof(key));
    randombytes_buf(other, sizeof(other));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_every_edit_is_refused),
        cmocka_unit_test(test_other_key_expired_future_garbage),
        cmocka_unit_test(test_nonces_differ_and_scores_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
