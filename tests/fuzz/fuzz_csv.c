/*
 * tests/fuzz/fuzz_csv.c - libFuzzer target for storage/csv.c. Any bytes must
 * give a table or an error, never a crash, a leak or a read out of bounds; a
 * table must keep the promises csv.h makes (header names present, every field
 * NULL or a non-empty string within CSV_MAX_FIELD, rows in line order).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct csv_table t;
    struct err e = {0};

    if (csv_parse("fuzz.csv", (const char *)data, size, &t, &e) != 0) {
        if (t.header != NULL || t.rows != NULL || e.code == 0 || memchr(e.msg, '\0', sizeof(e.msg)) == NULL)
            abort();
        return 0;
    }
    if (t.ncols == 0 || t.ncols > CSV_MAX_COLS || t.nrows > CSV_MAX_ROWS)
        abort();
    for (size_t c = 0; c < t.ncols; c++)
        if (t.header[c] == NULL || t.header[c][0] == '\0')
            abort();
    for (size_t r = 0; r < t.nrows; r++) {
        if (t.row_lines[r] < 2 || (r > 0 && t.row_lines[r] <= t.row_lines[r - 1]))
            abort();
        for (size_t c = 0; c < t.ncols; c++) {
            const char *f = t.rows[r][c];
            if (f != NULL && (f[0] == '\0' || strlen(f) > CSV_MAX_FIELD))
                abort();
        }
    }
    csv_free(&t);
    return 0;
}
