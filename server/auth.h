/*
 * server/auth.h - bearer tokens. Tokens are hashed once at load (keyed BLAKE2b,
 * crypto_generichash, with a key made at start) and the plain text is wiped; a
 * presented token is hashed the same way and compared with sodium_memcmp
 * against every configured digest, with no early exit, so neither which entry
 * matched nor the length of a configured token leaks through timing.
 * Token text never reaches logs or error messages.
 */
#ifndef SERVER_AUTH_H
#define SERVER_AUTH_H

#include <stddef.h>

#include "common/err.h"
#include "server/config.h"

#define AUTH_DIGEST_BYTES 32
#define AUTH_TOKEN_MAX 1024

enum auth_scope { AUTH_SCOPE_NONE = 0, AUTH_SCOPE_READ = 1, AUTH_SCOPE_WRITE = 2 };

struct auth_entry {
    unsigned char digest[AUTH_DIGEST_BYTES];
    enum auth_scope scope;
    char name[64];           /* NAME from NAME:SCOPE:TOKEN, or "token-N"; safe to log */
};

struct auth {
    unsigned char key[32];   /* hashing key, random per process tree */
    struct auth_entry *entries;
    size_t n;
};

/*
 * Collect tokens from auth.api_key, auth.tokens and auth.tokens_file (one entry
 * per line, '#' comments, blank lines skipped). An entry is a bare token (write
 * scope) or NAME:SCOPE:TOKEN with SCOPE read|write. ERR_INVALID when an entry is
 * malformed (message names the file and line, never the token), ERR_IO when the
 * file cannot be read, ERR_INVALID when no token is configured at all.
 */
int auth_init(struct auth *a, const struct settings *s, struct err *e);

/* Wipe and free everything. */
void auth_release(struct auth *a);

/*
 * Judge an Authorization header value (NULL when absent). Returns the scope of
 * the matching token, or AUTH_SCOPE_NONE when the header is missing, not
 * "Bearer <token>" (scheme case-insensitive), empty, too long or unknown.
 * `who` (may be NULL) receives the matching entry's index, -1 when none.
 */
enum auth_scope auth_check(const struct auth *a, const char *header, size_t len, int *who);

/*
 * What one connection last presented and earned. A keep-alive client sends the
 * same Authorization header on every request; when the new header is
 * byte-for-byte the one already verified on this connection (compared with
 * sodium_memcmp, so in constant time for its length) the hash is skipped. The
 * memo never outlives its connection and is wiped when cleared.
 */
#define AUTH_MEMO_MAX 160

struct auth_memo {
    size_t len;                  /* 0: nothing remembered */
    enum auth_scope scope;
    char header[AUTH_MEMO_MAX];
};

/* auth_check() with a per-connection memo (may be NULL: plain auth_check()). */
enum auth_scope auth_check_memo(const struct auth *a, struct auth_memo *m, const char *header, size_t len);

/* Forget and wipe what the memo holds. */
void auth_memo_clear(struct auth_memo *m);

/* Write a new token: 32 random bytes as unpadded base64url (43 chars + NUL). */
void auth_token_generate(char out[64]);

#endif
