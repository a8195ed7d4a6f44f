/*
 * tests/unit/test_csv.c - unit tests of storage/csv.c: the original API's export
 * format (byte-order mark, CRLF, no final line ending, empty fields), every line
 * ending, quoting, blank lines, UTF-8, every error message and every bound.
 *
 * Fixtures live in tests/fixtures/csv/ under $top_srcdir (default ".").
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "storage/csv.h"

/* ------------------------------------------------------------------------- */
/* Helpers.                                                                  */

static const char *top_srcdir(void)
{
    const char *s = getenv("top_srcdir");
    return s != NULL && s[0] != '\0' ? s : ".";
}

/* The bytes of $top_srcdir/tests/fixtures/csv/REL (caller frees); *len receives their number. */
static char *read_fixture(const char *rel, size_t *len)
{
    char path[4096];
    FILE *f;
    long size;
    char *buf;

    snprintf(path, sizeof(path), "%s/tests/fixtures/csv/%s", top_srcdir(), rel);
    f = fopen(path, "rb");
    if (f == NULL)
        print_error("cannot open %s\n", path);
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    assert_true(size >= 0);
    rewind(f);
    buf = malloc((size_t)size + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *len = (size_t)size;
    return buf;
}

static int parse_str(const char *text, struct csv_table *t, struct err *e)
{
    return csv_parse("x.csv", text, strlen(text), t, e);
}

/* Parsing `len` bytes of `text` fails with `code` and exactly the message `want`; *t stays empty. */
static void expect_error_n(const char *text, size_t len, int code, const char *want)
{
    struct csv_table t;
    struct err e = {0};
    int rc = csv_parse("x.csv", text, len, &t, &e);
    if (rc != code || strcmp(e.msg, want) != 0)
        print_error("expected %d [%s], got %d [%s]\n", code, want, rc, e.msg);
    assert_int_equal(rc, code);
    assert_string_equal(e.msg, want);
    assert_null(t.header);
    assert_null(t.rows);
    assert_int_equal(t.nrows, 0);
    assert_int_equal(t.ncols, 0);
    csv_free(&t);
}

static void expect_error(const char *text, int code, const char *want)
{
    expect_error_n(text, strlen(text), code, want);
}

/* Field r,c is `want` (NULL: empty). */
static void assert_field(const struct csv_table *t, size_t r, size_t c, const char *want)
{
    assert_true(r < t->nrows);
    assert_true(c < t->ncols);
    if (want == NULL) {
        if (t->rows[r][c] != NULL)
            print_error("row %zu field %zu: expected empty, got [%s]\n", r, c, t->rows[r][c]);
        assert_null(t->rows[r][c]);
    } else {
        assert_non_null(t->rows[r][c]);
        assert_string_equal(t->rows[r][c], want);
    }
}

/* ------------------------------------------------------------------------- */
/* Formats.                                                                  */

static void test_original_format(void **state)
{
    (void)state;
    struct csv_table t;
    struct err e = {0};
    size_t len;
    char *buf = read_fixture("original_format.csv", &len);

    /* as the original API's files are: a byte-order mark, CRLF, no final line ending */
    assert_memory_equal(buf, "\xef\xbb\xbfname,", 8);
    assert_true(strstr(buf, "\r\n") != NULL);
    assert_true(buf[len - 1] != '\n');

    assert_int_equal(csv_parse("original_format.csv", buf, len, &t, &e), 0);
    assert_int_equal(t.ncols, 6);
    assert_string_equal(t.header[0], "name"); /* the byte-order mark is not part of the first name */
    assert_string_equal(t.header[5], "stealth");
    assert_int_equal(t.nrows, 3);
    assert_field(&t, 0, 0, "Burglar's Pack");
    assert_field(&t, 0, 3, "44.5");
    assert_field(&t, 0, 4, NULL); /* two empty fields at the end of a line */
    assert_field(&t, 0, 5, NULL);
    assert_field(&t, 1, 4, "ink and parchment");
    assert_field(&t, 2, 1, NULL);
    assert_field(&t, 2, 5, "disadvantage"); /* the last line, without a line ending */
    assert_int_equal(t.row_lines[0], 2);
    assert_int_equal(t.row_lines[2], 4);
    for (size_t r = 0; r < t.nrows; r++)
        for (size_t c = 0; c < t.ncols; c++)
            assert_true(t.rows[r][c] == NULL || strchr(t.rows[r][c], '\r') == NULL);
    csv_free(&t);
    assert_null(t.header);
    csv_free(&t); /* twice is harmless */
    free(buf);
}

static void test_line_endings(void **state)
{
    (void)state;
    /* one table written with every line ending, with and without a final one */
    const char *forms[] = {
        "a,b\n1,2\n3,\n",
        "a,b\n1,2\n3,",
        "a,b\r\n1,2\r\n3,\r\n",
        "a,b\r\n1,2\r\n3,",
        "a,b\r1,2\r3,\r",
        "a,b\r1,2\r3,",
        "a,b\r\n1,2\n3,\r",
        "\xef\xbb\xbf"
        "a,b\r\n1,2\r\n3,",
    };
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        struct csv_table t;
        struct err e = {0};
        if (parse_str(forms[i], &t, &e) != 0)
            print_error("form %zu: %s\n", i, e.msg);
        assert_int_equal(e.code, 0);
        assert_int_equal(t.ncols, 2);
        assert_string_equal(t.header[0], "a");
        assert_string_equal(t.header[1], "b");
        assert_int_equal(t.nrows, 2);
        assert_field(&t, 0, 0, "1");
        assert_field(&t, 0, 1, "2");
        assert_field(&t, 1, 0, "3");
        assert_field(&t, 1, 1, NULL);
        assert_int_equal(t.row_lines[0], 2);
        assert_int_equal(t.row_lines[1], 3);
        csv_free(&t);
    }
}

static void test_blank_lines(void **state)
{
    (void)state;
    struct csv_table t;
    struct err e = {0};

    /* blank trailing lines, of any kind, are ignored */
    assert_int_equal(parse_str("a,b\r\n1,2\r\n\r\n\n\r\r\n", &t, &e), 0);
    assert_int_equal(t.nrows, 1);
    csv_free(&t);
    /* a header alone is a table without rows */
    assert_int_equal(parse_str("a,b\r\n\r\n", &t, &e), 0);
    assert_int_equal(t.ncols, 2);
    assert_int_equal(t.nrows, 0);
    csv_free(&t);
    assert_int_equal(parse_str("\xef\xbb\xbfonly", &t, &e), 0);
    assert_int_equal(t.ncols, 1);
    assert_string_equal(t.header[0], "only");
    assert_int_equal(t.nrows, 0);
    csv_free(&t);
    /* a blank line between rows is a record of one empty field: fine with one column */
    assert_int_equal(parse_str("a\n1\n\n2\n\n", &t, &e), 0);
    assert_int_equal(t.nrows, 3);
    assert_field(&t, 1, 0, NULL);
    assert_field(&t, 2, 0, "2");
    assert_int_equal(t.row_lines[2], 4);
    csv_free(&t);
    /* ... and an error with more */
    expect_error("a,b\r\n1,2\r\n\r\n3,4\r\n", ERR_INVALID, "x.csv:3: expected 2 fields, found 1");
}

static void test_quoted_fields(void **state)
{
    (void)state;
    struct csv_table t;
    struct err e = {0};
    size_t len;
    char *buf = read_fixture("quoted_lf.csv", &len);

    assert_int_equal(csv_parse("quoted_lf.csv", buf, len, &t, &e), 0);
    assert_int_equal(t.ncols, 3);
    assert_int_equal(t.nrows, 3);
    assert_field(&t, 0, 0, "Potion, greater"); /* a comma inside quotes */
    assert_field(&t, 0, 1, "restores 4d4 + 4 hit points, when drunk");
    assert_field(&t, 1, 1, "a \"waterproof\" tube\nwith a cap"); /* doubled quotes, a line break */
    assert_field(&t, 1, 2, "1");
    assert_field(&t, 2, 1, NULL); /* "" is empty too */
    assert_field(&t, 2, 2, NULL);
    assert_int_equal(t.row_lines[0], 2);
    assert_int_equal(t.row_lines[1], 3);
    assert_int_equal(t.row_lines[2], 5); /* the quoted line break counted */
    csv_free(&t);
    free(buf);

    /* CRLF and CR inside quotes are kept as they are, and counted as lines */
    assert_int_equal(parse_str("a,b\r\n\"x\r\ny\",\"p\rq\"\r\nz,w", &t, &e), 0);
    assert_field(&t, 0, 0, "x\r\ny");
    assert_field(&t, 0, 1, "p\rq");
    assert_int_equal(t.row_lines[1], 5); /* 2: the record; 3: after CRLF; 4: after CR */
    csv_free(&t);
    /* quoted header names, spaces kept, a quote alone, quotes around nothing but quotes */
    assert_int_equal(parse_str("\"a\",b,c\n \"q\"\"\" , x ,\"\"\"\"", &t, &e), ERR_INVALID);
    assert_string_equal(e.msg, "x.csv:2: a quote inside unquoted field 1 (quote the whole field and double the "
                               "quote: \"a \"\"b\"\"\")");
    assert_int_equal(parse_str("\"a\",b,c\n\"q\"\"\", x ,\"\"\"\"", &t, &e), 0);
    assert_string_equal(t.header[0], "a");
    assert_field(&t, 0, 0, "q\"");
    assert_field(&t, 0, 1, " x ");
    assert_field(&t, 0, 2, "\"");
    csv_free(&t);
    /* a quoted last field at the very end, and a quoted field holding a whole fake record */
    assert_int_equal(parse_str("a,b\n1,\"2,3\n4,5\"", &t, &e), 0);
    assert_int_equal(t.nrows, 1);
    assert_field(&t, 0, 1, "2,3\n4,5");
    csv_free(&t);
}

static void test_empty_fields(void **state)
{
    (void)state;
    struct csv_table t;
    struct err e = {0};

    assert_int_equal(parse_str("a,b,c\n,,\n1,,\n,,3\n,\"\",", &t, &e), 0);
    assert_int_equal(t.nrows, 4);
    for (size_t c = 0; c < 3; c++)
        assert_field(&t, 0, c, NULL);
    assert_field(&t, 1, 0, "1");
    assert_field(&t, 1, 2, NULL);
    assert_field(&t, 2, 2, "3");
    assert_field(&t, 3, 1, NULL);
    assert_field(&t, 3, 2, NULL); /* a trailing comma at the end of the input is one more empty field */
    csv_free(&t);
}

static void test_utf8(void **state)
{
    (void)state;
    struct csv_table t;
    struct err e = {0};

    /* two-, three- and four-byte sequences, and U+FEFF past the start, are data */
    assert_int_equal(parse_str("name,rune\nCaf\xc3\xa9,\xe2\x9c\x93\n\xf0\x9f\x90\x89,\xef\xbb\xbfx", &t, &e), 0);
    assert_field(&t, 0, 0, "Caf\xc3\xa9");
    assert_field(&t, 0, 1, "\xe2\x9c\x93");
    assert_field(&t, 1, 0, "\xf0\x9f\x90\x89");
    assert_field(&t, 1, 1, "\xef\xbb\xbfx");
    csv_free(&t);

    expect_error("a,b\n1,\xff\n", ERR_INVALID, "x.csv:2: invalid UTF-8 (byte 0xFF)");
    expect_error("a,b\n1,2\n3,Caf\xc3", ERR_INVALID, "x.csv:3: invalid UTF-8 (byte 0xC3)");       /* cut short */
    expect_error("a,b\n\xc0\x80,2\n", ERR_INVALID, "x.csv:2: invalid UTF-8 (byte 0xC0)");         /* overlong NUL */
    expect_error("a,b\n\xe0\x80\xaf,2\n", ERR_INVALID, "x.csv:2: invalid UTF-8 (byte 0xE0)");     /* overlong '/' */
    expect_error("a,b\n\xed\xa0\x80,2\n", ERR_INVALID, "x.csv:2: invalid UTF-8 (byte 0xED)");     /* a surrogate */
    expect_error("a,b\n\xf4\x90\x80\x80,2\n", ERR_INVALID, "x.csv:2: invalid UTF-8 (byte 0xF4)"); /* past U+10FFFF */
    expect_error("a,b\n\x80,2\n", ERR_INVALID, "x.csv:2: invalid UTF-8 (byte 0x80)");
    expect_error("a,b\r\r\n\"1\n\xfe\",2\n", ERR_INVALID, "x.csv:4: invalid UTF-8 (byte 0xFE)"); /* lines counted */
    /* a byte-order mark in another encoding is not skipped */
    expect_error("\xff\xfe"
                 "a\0",
                 ERR_INVALID, "x.csv:1: invalid UTF-8 (byte 0xFF)");
    expect_error_n("a,b\n1,\0\n", 8, ERR_INVALID, "x.csv:2: NUL byte in the data");
}

/* ------------------------------------------------------------------------- */
/* Errors.                                                                   */

static void test_field_counts(void **state)
{
    (void)state;
    expect_error("a,b,c\r\n1,2,3\r\n4,5", ERR_INVALID, "x.csv:3: expected 3 fields, found 2");
    expect_error("a,b,c\r\n1,2,3,4\r\n", ERR_INVALID, "x.csv:2: expected 3 fields, found 4");
    expect_error("a\n1,2\n", ERR_INVALID, "x.csv:2: expected 1 field, found 2");
    /* the line is where the record starts */
    expect_error("a,b\n\"1\n\n\",2,3\n", ERR_INVALID, "x.csv:2: expected 2 fields, found 3");
    /* surplus fields are counted even past the column bound */
    char *wide = malloc(4 * 1024);
    assert_non_null(wide);
    size_t n = (size_t)sprintf(wide, "a,b\n");
    for (int i = 0; i < 300; i++)
        n += (size_t)sprintf(wide + n, "%sx", i ? "," : "");
    expect_error(wide, ERR_INVALID, "x.csv:2: expected 2 fields, found 300");
    free(wide);
}

static void test_quote_errors(void **state)
{
    (void)state;
    expect_error("a,b\n1,\"two\n3,4\n", ERR_INVALID, "x.csv:2: unterminated quoted field (field 2)");
    expect_error("a,b\n1,\"", ERR_INVALID, "x.csv:2: unterminated quoted field (field 2)");
    expect_error("a,b\n1,\"tw\"\"", ERR_INVALID, "x.csv:2: unterminated quoted field (field 2)");
    expect_error("\"a,b\n", ERR_INVALID, "x.csv:1: unterminated quoted field (field 1)");
    expect_error("a,b\n\"one\"two,2\n", ERR_INVALID, "x.csv:2: unexpected text after the closing quote of field 1");
    expect_error("a,b\n\"one\" ,2\n", ERR_INVALID, "x.csv:2: unexpected text after the closing quote of field 1");
    expect_error("a,b\n1,2\n3,fo\"o\n", ERR_INVALID,
                 "x.csv:3: a quote inside unquoted field 2 (quote the whole field and double the quote: "
                 "\"a \"\"b\"\"\")");
}

static void test_header_errors(void **state)
{
    (void)state;
    expect_error("", ERR_INVALID, "x.csv:1: no header line: the file is empty");
    expect_error("\xef\xbb\xbf", ERR_INVALID, "x.csv:1: no header line: the file is empty");
    expect_error("\r\n\r\n", ERR_INVALID, "x.csv:1: no header line: the file is empty");
    expect_error("a,,c\n1,2,3\n", ERR_INVALID, "x.csv:1: column 2 of the header has no name");
    expect_error("a,b,\n1,2,3\n", ERR_INVALID, "x.csv:1: column 3 of the header has no name");
    expect_error("a,\"\"\n1,2\n", ERR_INVALID, "x.csv:1: column 2 of the header has no name");
    expect_error("\na,b\n", ERR_INVALID, "x.csv:1: column 1 of the header has no name");

    struct csv_table t;
    struct err e = {0};
    assert_int_equal(csv_parse("x.csv", NULL, 0, &t, &e), ERR_INVALID); /* no buffer at all */
    assert_string_equal(e.msg, "x.csv:1: no header line: the file is empty");
}

static void test_bounds(void **state)
{
    (void)state;
    struct csv_table t;
    struct err e = {0};
    size_t cap = CSV_MAX_BYTES + 2, n;
    char *buf = malloc(cap);
    assert_non_null(buf);

    /* 256 columns pass, 257 do not */
    n = 0;
    for (unsigned i = 0; i < CSV_MAX_COLS; i++)
        n += (size_t)sprintf(buf + n, "%sc%u", i ? "," : "", i);
    assert_int_equal(csv_parse("x.csv", buf, n, &t, &e), 0);
    assert_int_equal(t.ncols, 256);
    assert_string_equal(t.header[255], "c255");
    csv_free(&t);
    n += (size_t)sprintf(buf + n, ",c256");
    expect_error_n(buf, n, ERR_TOO_LARGE, "x.csv:1: more than 256 columns");

    /* 100000 rows pass, 100001 do not */
    n = (size_t)sprintf(buf, "v\r\n");
    for (unsigned i = 0; i < CSV_MAX_ROWS; i++)
        n += (size_t)sprintf(buf + n, "%u\r\n", i);
    assert_int_equal(csv_parse("x.csv", buf, n, &t, &e), 0);
    assert_int_equal(t.nrows, 100000);
    assert_int_equal(t.row_lines[99999], 100001);
    assert_field(&t, 99999, 0, "99999");
    csv_free(&t);
    n += (size_t)sprintf(buf + n, "extra");
    expect_error_n(buf, n, ERR_TOO_LARGE, "x.csv:100002: more than 100000 rows");

    /* a field of 64 KiB passes, one byte more does not (counted after unquoting) */
    n = (size_t)sprintf(buf, "a,b\n1,\"");
    memset(buf + n, 'x', CSV_MAX_FIELD);
    n += CSV_MAX_FIELD;
    buf[n++] = '"';
    assert_int_equal(csv_parse("x.csv", buf, n, &t, &e), 0);
    assert_int_equal(strlen(t.rows[0][1]), CSV_MAX_FIELD);
    csv_free(&t);
    memmove(buf + n - 1, "\"\"\"", 3); /* a doubled quote: one byte more in the field */
    n += 2;
    expect_error_n(buf, n, ERR_TOO_LARGE, "x.csv:2: field 2 is longer than 65536 bytes");

    /* 16 MiB of input pass, one byte more does not */
    n = (size_t)sprintf(buf, "a\n");
    memset(buf + n, 'x', CSV_MAX_BYTES - n);
    for (size_t i = n + 1000; i < CSV_MAX_BYTES; i += 1001)
        buf[i] = '\n'; /* rows of 1000 bytes */
    assert_int_equal(csv_parse("x.csv", buf, CSV_MAX_BYTES, &t, &e), 0);
    assert_true(t.nrows > 16000);
    csv_free(&t);
    buf[CSV_MAX_BYTES] = 'x';
    expect_error_n(buf, CSV_MAX_BYTES + 1, ERR_TOO_LARGE,
                   "x.csv: 16777217 bytes is over the limit of 16777216 bytes for a CSV file");
    free(buf);
}

static void test_name_in_messages(void **state)
{
    (void)state;
    struct csv_table t;
    struct err e = {0};
    assert_int_equal(csv_parse("/srv/data/armor.csv", "a,b\n1", 5, &t, &e), ERR_INVALID);
    assert_string_equal(e.msg, "/srv/data/armor.csv:2: expected 2 fields, found 1");
    assert_int_equal(csv_parse(NULL, "a,b\n1", 5, &t, &e), ERR_INVALID);
    assert_string_equal(e.msg, "<csv>:2: expected 2 fields, found 1");
    assert_int_equal(csv_parse("x.csv", "a,b\n1", 5, &t, NULL), ERR_INVALID); /* no error record wanted */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_original_format),  cmocka_unit_test(test_line_endings),
        cmocka_unit_test(test_blank_lines),      cmocka_unit_test(test_quoted_fields),
        cmocka_unit_test(test_empty_fields),     cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_field_counts),     cmocka_unit_test(test_quote_errors),
        cmocka_unit_test(test_header_errors),    cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_name_in_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
