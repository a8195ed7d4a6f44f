/*
 * rules/build.c - see build.h.
 */
#include "rules/build.h"

#include <string.h>

size_t build_utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            n++;
    return n;
}

/* 1 when the text has a C0/C1 control character or DEL. */
static int has_control(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return 1;
        if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 && (unsigned char)s[i + 1] <= 0x9f)
            return 1;
    }
    return 0;
}

static int is_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t')
            return 0;
    return 1;
}

void build_validate_name_level(const struct build *b, enum build_field field_name, struct violations *v)
{
    (void)field_name;
    if (b->name == NULL && (b->bad & (1u << BF_NAME))) {
        /* already reported as wrong_type */
    } else if (b->name == NULL) {
        violations_add(v, "name", "required", "name is required");
    } else {
        size_t chars = build_utf8_chars(b->name, b->name_len);
        if (chars == 0 || is_blank(b->name, b->name_len))
            violations_add(v, "name", "required", "name must not be empty");
        else if (chars > BUILD_NAME_MAX_CHARS)
            violations_add(v, "name", "too_long", "name has %zu characters; at most %d allowed", chars,
                           BUILD_NAME_MAX_CHARS);
        if (has_control(b->name, b->name_len))
            violations_add(v, "name", "not_allowed", "name must not contain control characters");
    }
    if (!(b->bad & (1u << BF_LEVEL)) && (b->level < BUILD_LEVEL_MIN || b->level > BUILD_LEVEL_MAX))
        violations_add(v, "level", "out_of_range", "level must be %d..%d", BUILD_LEVEL_MIN, BUILD_LEVEL_MAX);
}

static const char *const method_names[] = {
    [BUILD_METHOD_STANDARD_ARRAY] = "standard_array",
    [BUILD_METHOD_POINT_BUY] = "point_buy",
    [BUILD_METHOD_ROLLED] = "rolled",
    [BUILD_METHOD_MANUAL] = "manual",
};

const char *build_method_name(enum build_method m)
{
    return m > BUILD_METHOD_NONE && m < BUILD_METHOD_INVALID ? method_names[m] : NULL;
}

enum build_method build_method_parse(const char *s)
{
    for (int m = BUILD_METHOD_STANDARD_ARRAY; s != NULL && m < BUILD_METHOD_INVALID; m++)
        if (strcmp(method_names[m], s) == 0)
            return (enum build_method)m;
    return BUILD_METHOD_INVALID;
}

void build_policy_default(struct build_policy *p)
{
    memset(p, 0, sizeof(*p));
    p->methods = (1u << BUILD_METHOD_STANDARD_ARRAY) | (1u << BUILD_METHOD_POINT_BUY) | (1u << BUILD_METHOD_ROLLED);
    p->point_buy_budget = 27;
    p->hp_method = BUILD_HP_EITHER;
    p->roll_ttl_s = 24 * 3600;
}
