/*
 * server/reference.h - the SRD reference data served at /api/2014/..., in the
 * shapes of the public dnd5eapi (5e-srd-api) so its clients can switch hosts.
 * Every document is built once, in the master before fork, from the loaded
 * ruleset: a worker only finds the bytes and their strong ETag by path. The
 * documents are immutable for a release (Cache-Control: public, max-age=86400).
 */
#ifndef SERVER_REFERENCE_H
#define SERVER_REFERENCE_H

#include <stddef.h>

#include "rules/ruleset.h"

#define REFERENCE_ATTRIBUTION                                                                                          \
    "This work includes material taken from the System Reference Document 5.1 (\"SRD 5.1\") by Wizards of the "     \
    "Coast LLC and available at https://dnd.wizards.com/resources/systems-reference-document. The SRD 5.1 is "       \
    "licensed under the Creative Commons Attribution 4.0 International License available at "                       \
    "https://creativecommons.org/licenses/by/4.0/legalcode."

struct reference_doc {
    char *path;      /* "/api/2014/races/dwarf" */
    char *body;      /* compact JSON */
    size_t len;
    char etag[36];   /* strong, quoted */
};

struct reference {
    struct reference_doc *docs; /* sorted by path */
    size_t n;
};

/* Build every document from `rs`. Never fails (allocation failure aborts). */
void reference_build(const struct ruleset *rs, struct reference *out);

/* The document at exactly `path` (no query, no trailing slash), or NULL. */
const struct reference_doc *reference_find(const struct reference *r, const char *path, size_t len);

void reference_release(struct reference *r);

#endif
