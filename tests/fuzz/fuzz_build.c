/*
 * tests/fuzz/fuzz_build.c - libFuzzer target for the build path of
 * POST /v1/characters: bytes -> JSON (as the server parses a body: UTF-8
 * checked, duplicate keys refused) -> server/charjson.c -> rules/character.c
 * (both modes) -> the sheet and the build as JSON. Nothing may crash, leak or
 * read out of bounds, and:
 *   - every violation has a code and a message, and a field that is valid UTF-8;
 *   - a build the engine accepts (no violations) maps to JSON that maps back
 *     without a problem and to the same JSON again (the stored build is stable);
 *   - the sheet renders to JSON whatever the build was.
 * The SRD data is loaded once from the checkout (SRCDIR/rules/data). Any
 * broken promise abort()s.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/build.h"
#include "rules/character.h"
#include "rules/ruleset.h"
#include "server/charjson.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct ruleset *rs;
static const unsigned char key[ROLLID_KEY_BYTES] = {1, 2, 3, 4, 5, 6, 7, 8};

static void check(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    struct err e = {0};
    const char *dir = getenv("FUZZ_RULES_DIR") ? getenv("FUZZ_RULES_DIR") : SRCDIR "/rules/data";
    if (ruleset_load(dir, &rs, &e) != 0) {
        fprintf(stderr, "fuzz_build: cannot load %s: %s\n", dir, e.msg);
        abort();
    }
    return 0;
}

static void check_violations(const struct violations *v)
{
    for (size_t i = 0; i < v->n; i++) {
        const struct violation *x = &v->items[i];
        check(x->code != NULL && x->code[0] != '\0');
        check(memchr(x->field, '\0', sizeof(x->field)) != NULL);
        check(memchr(x->message, '\0', sizeof(x->message)) != NULL && x->message[0] != '\0');
        json_t *s = json_string(x->field); /* NULL when not valid UTF-8 */
        check(s != NULL);
        json_decref(s);
    }
}

static void render(const struct build *b, const struct sheet *s)
{
    json_t *o = json_object();
    charjson_write_sheet(rs, b, s, o);
    json_object_set_new(o, "build", charjson_write_build(b));
    char *text = json_dumps(o, JSON_COMPACT);
    check(text != NULL);
    free(text);
    json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *body = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (body == NULL)
        return 0;
    struct build_policy p;
    build_policy_default(&p);
    p.rolls_key = key;
    p.now = 1700000000;
    static struct build b, b2;
    static struct violations v, v2;
    static struct sheet s;
    for (int mode = 0; mode < 2; mode++) {
        violations_init(&v);
        charjson_read_build(body, &b, &v);
        character_evaluate(rs, &p, &b, mode == 0 ? CHARACTER_CREATE : CHARACTER_DRAFT, &v, &s);
        check_violations(&v);
        render(&b, &s);
        if (v.n == 0) {
            /* Stored builds must map back exactly. */
            json_t *j1 = charjson_write_build(&b);
            violations_init(&v2);
            charjson_read_build(j1, &b2, &v2);
            check(v2.n == 0);
            json_t *j2 = charjson_write_build(&b2);
            check(json_equal(j1, j2));
            json_decref(j1);
            json_decref(j2);
        }
    }
    struct level_up lu;
    violations_init(&v);
    charjson_read_level_up(body, &lu, &v);
    check_violations(&v);
    json_decref(body);
    return 0;
}
