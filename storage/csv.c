/*
 * storage/csv.c - see csv.h. Two passes over the input: the first checks the
 * encoding (UTF-8, no NUL) and counts the most fields there can be, so that one
 * allocation holds every unquoted string and pointers into it never move; the
 * second splits records and fields. It owns nothing beyond the table it returns.
 */
#include "storage/csv.h"

#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"

struct reader {
    const char *name;
    const unsigned char *p;
    size_t len, pos;
    size_t line; /* 1-based line of p[pos] */
    char *text;  /* the arena: unquoted field bytes and their NULs */
    size_t tlen;
    char **cells; /* the header's fields, then each row's */
    size_t ncells, capcells;
    size_t *lines; /* the line of each row */
    size_t nrows, caplines;
    size_t ncols;   /* 0 until the header is read */
    size_t data_at; /* the first byte at or after pos that is not a line ending (cached) */
    struct err *e;
};

/* Length of the valid UTF-8 sequence that starts s[0..n), or 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t need, i;

    if (c < 0x80)
        return 1;
    if (c < 0xc2 || c > 0xf4)
        return 0; /* a continuation byte, an overlong 2-byte lead, or past U+10FFFF */
    need = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    if (n < need)
        return 0;
    for (i = 1; i < need; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xf0 && s[1] < 0x90)) /* overlong */
        return 0;
    if ((c == 0xed && s[1] >= 0xa0) || (c == 0xf4 && s[1] >= 0x90)) /* surrogate, past U+10FFFF */
        return 0;
    return need;
}

/* First pass: UTF-8 without NUL; *max_fields receives an upper bound on the fields. */
static int check_encoding(struct reader *r, size_t *max_fields)
{
    size_t line = 1, seps = 0;

    for (size_t i = r->pos; i < r->len;) {
        unsigned char c = r->p[i];
        size_t n;
        if (c == 0)
            return err_set(r->e, ERR_INVALID, "%s:%zu: NUL byte in the data", r->name, line);
        if (c == ',' || c == '\n' || c == '\r')
            seps++;
        if (c == '\n' || (c == '\r' && (i + 1 == r->len || r->p[i + 1] != '\n')))
            line++;
        n = utf8_seq(r->p + i, r->len - i);
        if (n == 0)
            return err_set(r->e, ERR_INVALID, "%s:%zu: invalid UTF-8 (byte 0x%02X)", r->name, line, c);
        i += n;
    }
    *max_fields = seps + 1;
    return 0;
}

/* Step over one line ending at pos (CRLF, LF or CR), if there is one. */
static void skip_line_end(struct reader *r)
{
    if (r->pos < r->len && r->p[r->pos] == '\r') {
        r->pos++;
        if (r->pos < r->len && r->p[r->pos] == '\n')
            r->pos++;
        r->line++;
    } else if (r->pos < r->len && r->p[r->pos] == '\n') {
        r->pos++;
        r->line++;
    }
}

static void push_cell(struct reader *r, char *cell)
{
    if (r->ncells == r->capcells) {
        r->capcells = r->capcells ? r->capcells * 2 : 64;
        r->cells = xrealloc(r->cells, r->capcells * sizeof(*r->cells));
    }
    r->cells[r->ncells++] = cell;
}

/*
 * Read one field at pos into the arena; *cell receives it (NULL when empty).
 * `field` is its 1-based number, for messages. Leaves pos at the comma, line
 * ending or end of input after it.
 */
static int read_field(struct reader *r, size_t field, char **cell)
{
    size_t start = r->tlen;

    if (r->pos < r->len && r->p[r->pos] == '"') {
        size_t open_line = r->line;
        r->pos++;
        for (;;) {
            unsigned char c;
            if (r->pos == r->len)
                return err_set(r->e, ERR_INVALID, "%s:%zu: unterminated quoted field (field %zu)", r->name, open_line,
                               field);
            c = r->p[r->pos++];
            if (c == '"') {
                if (r->pos < r->len && r->p[r->pos] == '"') {
                    r->pos++;
                } else {
                    break;
                }
            } else if (c == '\n' || (c == '\r' && (r->pos == r->len || r->p[r->pos] != '\n'))) {
                r->line++;
            }
            r->text[r->tlen++] = (char)c;
        }
        if (r->pos < r->len && r->p[r->pos] != ',' && r->p[r->pos] != '\r' && r->p[r->pos] != '\n')
            return err_set(r->e, ERR_INVALID, "%s:%zu: unexpected text after the closing quote of field %zu", r->name,
                           r->line, field);
    } else {
        while (r->pos < r->len) {
            unsigned char c = r->p[r->pos];
            if (c == ',' || c == '\r' || c == '\n')
                break;
            if (c == '"')
                return err_set(r->e, ERR_INVALID,
                               "%s:%zu: a quote inside unquoted field %zu (quote the whole field and double the "
                               "quote: \"a \"\"b\"\"\")",
                               r->name, r->line, field);
            r->text[r->tlen++] = (char)c;
            r->pos++;
        }
    }
    if (r->tlen - start > CSV_MAX_FIELD)
        return err_set(r->e, ERR_TOO_LARGE, "%s:%zu: field %zu is longer than %u bytes", r->name, r->line, field,
                       CSV_MAX_FIELD);
    if (r->tlen == start) {
        *cell = NULL;
        return 0;
    }
    r->text[r->tlen++] = '\0';
    *cell = r->text + start;
    return 0;
}

/* Read the record at pos (the header first) and check its number of fields. */
static int read_record(struct reader *r)
{
    size_t line = r->line, nf = 0, keep = r->ncols ? r->ncols : CSV_MAX_COLS;
    int rc;

    if (r->ncols > 0 && r->nrows == CSV_MAX_ROWS)
        return err_set(r->e, ERR_TOO_LARGE, "%s:%zu: more than %u rows", r->name, line, CSV_MAX_ROWS);
    for (;;) {
        char *cell = NULL;
        size_t mark = r->tlen;
        rc = read_field(r, nf + 1, &cell);
        if (rc != 0)
            return rc;
        if (nf < keep) {
            push_cell(r, cell);
        } else if (r->ncols == 0) {
            return err_set(r->e, ERR_TOO_LARGE, "%s:%zu: more than %u columns", r->name, line, CSV_MAX_COLS);
        } else {
            r->tlen = mark; /* a surplus field: counted for the message, not kept */
        }
        nf++;
        if (r->pos < r->len && r->p[r->pos] == ',') {
            r->pos++;
            continue;
        }
        break;
    }
    skip_line_end(r);

    if (r->ncols == 0) {
        for (size_t i = 0; i < nf; i++)
            if (r->cells[i] == NULL)
                return err_set(r->e, ERR_INVALID, "%s:%zu: column %zu of the header has no name", r->name, line, i + 1);
        r->ncols = nf;
        return 0;
    }
    if (nf != r->ncols)
        return err_set(r->e, ERR_INVALID, "%s:%zu: expected %zu field%s, found %zu", r->name, line, r->ncols,
                       r->ncols == 1 ? "" : "s", nf);
    if (r->nrows == r->caplines) {
        r->caplines = r->caplines ? r->caplines * 2 : 64;
        r->lines = xrealloc(r->lines, r->caplines * sizeof(*r->lines));
    }
    r->lines[r->nrows++] = line;
    return 0;
}

/* Whether only line endings are left from pos on; linear over a whole parse. */
static int only_blank_lines_left(struct reader *r)
{
    if (r->data_at < r->pos)
        r->data_at = r->pos;
    while (r->data_at < r->len && (r->p[r->data_at] == '\r' || r->p[r->data_at] == '\n'))
        r->data_at++;
    return r->data_at == r->len;
}

/*
 * Check the encoding, then read records until only blank lines are left. The
 * header's cells come first in r.cells, each row's ncols cells after them.
 */
int csv_parse(const char *name, const char *buf, size_t len, struct csv_table *out, struct err *e)
{
    struct reader r = {
        .name = name != NULL ? name : "<csv>", .p = (const unsigned char *)buf, .len = len, .line = 1, .e = e};
    size_t max_fields = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    if (buf == NULL)
        r.len = len = 0;
    if (len > CSV_MAX_BYTES)
        return err_set(e, ERR_TOO_LARGE, "%s: %zu bytes is over the limit of %u bytes for a CSV file", r.name, len,
                       CSV_MAX_BYTES);
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
        r.pos = 3;
    rc = check_encoding(&r, &max_fields);
    if (rc != 0)
        return rc;
    if (only_blank_lines_left(&r))
        return err_set(e, ERR_INVALID, "%s:1: no header line: the file is empty", r.name);

    r.text = xmalloc(len - r.pos + max_fields + 1);
    while (rc == 0 && (r.ncols == 0 || !only_blank_lines_left(&r)))
        rc = read_record(&r);
    if (rc != 0) {
        free(r.text);
        free(r.cells);
        free(r.lines);
        return rc;
    }

    out->header = r.cells; /* csv_free() frees the cells through it */
    out->ncols = r.ncols;
    out->nrows = r.nrows;
    out->rows = xmalloc((r.nrows ? r.nrows : 1) * sizeof(*out->rows));
    for (size_t i = 0; i < r.nrows; i++)
        out->rows[i] = r.cells + r.ncols * (i + 1);
    out->row_lines = r.lines;
    out->text_ = r.text;
    return 0;
}

void csv_free(struct csv_table *t)
{
    if (t == NULL)
        return;
    free(t->header);
    free(t->rows);
    free(t->row_lines);
    free(t->text_);
    memset(t, 0, sizeof(*t));
}
