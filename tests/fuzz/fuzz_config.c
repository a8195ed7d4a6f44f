/*
 * tests/fuzz/fuzz_config.c - libFuzzer target for the config file parsers of
 * server/config.c: the YAML config loader and the .env parser, through
 * settings_apply_text(). The first byte chooses the parser (even: YAML, odd:
 * .env); the rest is the file. Any bytes must give settings or an error, never
 * a crash, a leak, undefined behaviour or a read out of bounds; an error must
 * carry a message that names the file, and whatever was applied must print
 * and release cleanly.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (sink == NULL && (sink = fopen("/dev/null", "w")) == NULL)
        abort();
    enum settings_text_kind kind = data[0] & 1 ? SETTINGS_TEXT_DOTENV : SETTINGS_TEXT_YAML;
    const char *name = kind == SETTINGS_TEXT_YAML ? "fuzz.yaml" : "fuzz.env";
    /* A copy of exactly the file's bytes, so ASan catches any read past the end. */
    size_t len = size - 1;
    char *text = malloc(len ? len : 1);
    if (text == NULL)
        abort();
    memcpy(text, data + 1, len);

    struct settings s;
    settings_init(&s);
    struct err e = {0};
    int rc = settings_apply_text(&s, kind, name, text, len, &e);
    if (rc != 0) {
        if (rc != e.code || memchr(e.msg, '\0', sizeof(e.msg)) == NULL || e.msg[0] == '\0')
            abort();
        if ((rc == ERR_INVALID || rc == ERR_TOO_LARGE) && strncmp(e.msg, name, strlen(name)) != 0)
            abort(); /* the message names the file (and the line) */
    }
    settings_print(&s, sink);
    settings_release(&s);
    free(text);
    return 0;
}
