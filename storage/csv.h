/*
 * storage/csv.h - a strict, bounded reader for the CSV files the migration
 * command `load` takes: RFC 4180 plus what real exports carry - a UTF-8
 * byte-order mark, CRLF, LF or CR line endings, no final line ending, blank
 * trailing lines. The whole input is parsed in memory into NUL-terminated
 * strings. It does no I/O (callers read the file) and knows nothing of
 * migrations: column names are only checked to be present, not to be SQL names.
 *
 * Rules:
 *   - the first record is the header; its fields name the columns and may not be empty;
 *   - a field is "quoted" (commas, line breaks and doubled quotes "" inside) or
 *     unquoted (no quote, comma or line break inside; spaces are kept);
 *   - a field with nothing in it, quoted ("") or not, is empty: NULL in rows[r][c];
 *   - every record has as many fields as the header; a blank line between records
 *     is a record of one empty field (so it is an error unless there is one column);
 *   - the input is UTF-8 without NUL bytes.
 * Errors are "NAME:LINE: message" with the 1-based line where the record starts
 * (for an unterminated quote: where the quote opened).
 */
#ifndef STORAGE_CSV_H
#define STORAGE_CSV_H

#include <stddef.h>

#include "common/err.h"

#define CSV_MAX_BYTES (16u << 20) /* input, after nothing is removed */
#define CSV_MAX_ROWS 100000u      /* records after the header */
#define CSV_MAX_COLS 256u         /* fields per record */
#define CSV_MAX_FIELD (64u << 10) /* bytes of one field, after unquoting */

struct csv_table {
    char **header; /* ncols column names, never NULL or empty */
    size_t ncols;
    char ***rows; /* rows[r][c]: the field, NUL-terminated; NULL when the field is empty */
    size_t nrows;
    size_t *row_lines; /* 1-based line where row r starts */
    char *text_;       /* private: the storage every string above points into */
};

/*
 * Parse `len` bytes of `buf` (need not be NUL-terminated) into *out; `name` is
 * only used in messages. Returns 0, ERR_INVALID ("NAME:LINE: expected N fields,
 * found M", "unterminated quoted field", "invalid UTF-8", ...) or ERR_TOO_LARGE
 * (over a CSV_MAX_* bound). On failure *out is empty (csv_free() is harmless);
 * on success the caller owns it and frees it with csv_free().
 */
int csv_parse(const char *name, const char *buf, size_t len, struct csv_table *out, struct err *e);

/* Free what *t owns and zero it; a zeroed or already freed table is fine. */
void csv_free(struct csv_table *t);

#endif
