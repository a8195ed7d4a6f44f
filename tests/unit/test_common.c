/*
 * tests/unit/test_common.c - ids and timestamps (common/ids.c), error records
 * (common/err.c), the error-to-status table (server/problem.c) and listening
 * sockets (server/listen.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/ids.h"
#include "server/listen.h"
#include "server/problem.h"

static void test_uuid_v4_shape_and_uniqueness(void **state)
{
    (void)state;
    char a[IDS_UUID_LEN + 1], b[IDS_UUID_LEN + 1];
    ids_uuid_v4(a);
    ids_uuid_v4(b);
    assert_int_equal(strlen(a), 36);
    assert_true(ids_is_uuid(a, strlen(a)));
    assert_string_not_equal(a, b);
    assert_int_equal(a[14], '4');                   /* version 4 */
    assert_non_null(strchr("89ab", a[19]));         /* RFC 4122 variant */
    assert_false(ids_is_uuid("F47AC10B-58CC-4372-A567-0E02B2C3D479", 36)); /* upper case refused */
    assert_false(ids_is_uuid("f47ac10b58cc-4372-a567-0e02b2c3d4791", 36));
    assert_false(ids_is_uuid("f47ac10b-58cc-4372-a567-0e02b2c3d47", 35));
    assert_false(ids_is_uuid("g47ac10b-58cc-4372-a567-0e02b2c3d479", 36));
}

static void test_rfc3339_now(void **state)
{
    (void)state;
    char t[IDS_TIME_LEN + 1];
    ids_now_rfc3339(t);
    assert_int_equal(strlen(t), 24);
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *rest = strptime(t, "%Y-%m-%dT%H:%M:%S", &tm);
    assert_non_null(rest);
    assert_true(rest[0] == '.' && rest[4] == 'Z');
    time_t parsed = timegm(&tm), now = time(NULL);
    assert_true(parsed <= now && now - parsed < 5);
}

static void test_err_set(void **state)
{
    (void)state;
    struct err e = {0};
    assert_int_equal(err_set(&e, ERR_INVALID, "bad \"%s\"", "x"), ERR_INVALID);
    assert_int_equal(e.code, ERR_INVALID);
    assert_string_equal(e.msg, "bad \"x\"");
    assert_int_equal(err_set(NULL, ERR_IO, "ignored"), ERR_IO);
    char longer[2000];
    memset(longer, 'a', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    err_set(&e, ERR_IO, "%s", longer); /* truncated, never overflows */
    assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
    assert_string_equal(err_name(ERR_NOT_FOUND), "not found");
}

static void test_problem_table(void **state)
{
    (void)state;
    assert_int_equal(problem_status(problem_from_err(ERR_INVALID)), 400);
    assert_int_equal(problem_status(problem_from_err(ERR_NOT_FOUND)), 404);
    assert_int_equal(problem_status(problem_from_err(ERR_CONFLICT)), 412);
    assert_int_equal(problem_status(problem_from_err(ERR_TOO_LARGE)), 413);
    assert_int_equal(problem_status(problem_from_err(ERR_UNAVAILABLE)), 503);
    assert_int_equal(problem_status(problem_from_err(ERR_IO)), 500);
    assert_int_equal(problem_status(problem_from_err(ERR_GENERIC)), 500);
    int expected[] = {400, 401, 403, 404, 405, 412, 413, 415, 422, 500, 503};
    for (int k = 0; k < PROBLEM_KIND_COUNT; k++)
        assert_int_equal(problem_status((enum problem_kind)k), expected[k]);
}

static void test_listen_tcp_and_describe(void **state)
{
    (void)state;
    struct err e = {0};
    int fd = listen_open("127.0.0.1:0", 0, &e);
    assert_true(fd >= 0);
    char where[128];
    listen_describe(fd, where, sizeof(where));
    assert_true(strncmp(where, "127.0.0.1:", 10) == 0);
    /* A second socket on the same port fails and names the bind, unless both use SO_REUSEPORT. */
    char spec[128];
    memcpy(spec, where, sizeof(spec));
    int again = listen_open(spec, 0, &e);
    assert_true(again < 0);
    assert_non_null(strstr(e.msg, spec));
    close(fd);
    fd = listen_open("127.0.0.1:0", 1, &e);
    listen_describe(fd, spec, sizeof(spec));
    int twin = listen_open(spec, 1, &e);
    assert_true(twin >= 0);
    close(twin);
    close(fd);
}

static void test_listen_bad_specs(void **state)
{
    (void)state;
    struct err e = {0};
    assert_true(listen_open("127.0.0.1", 0, &e) < 0);
    assert_true(listen_open("127.0.0.1:", 0, &e) < 0);
    assert_true(listen_open("no-such-host.invalid:80", 0, &e) < 0);
    assert_true(listen_is_unix("unix:/tmp/x.sock"));
    assert_true(listen_is_unix("./x.sock"));
    assert_false(listen_is_unix("[::1]:8000"));
}

static void test_listen_unix_replaces_stale_socket_only(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_listen_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char spec[160], path[128];
    snprintf(path, sizeof(path), "%s/api.sock", dir);
    snprintf(spec, sizeof(spec), "unix:%s", path);
    struct err e = {0};
    int fd = listen_open(spec, 0, &e);
    assert_true(fd >= 0);
    close(fd); /* leaves a stale socket file behind */
    fd = listen_open(spec, 0, &e);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    FILE *f = fopen(path, "w"); /* a regular file is never replaced */
    fclose(f);
    assert_true(listen_open(spec, 0, &e) < 0);
    assert_non_null(strstr(e.msg, "not a socket"));
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid_v4_shape_and_uniqueness),
        cmocka_unit_test(test_rfc3339_now),
        cmocka_unit_test(test_err_set),
        cmocka_unit_test(test_problem_table),
        cmocka_unit_test(test_listen_tcp_and_describe),
        cmocka_unit_test(test_listen_bad_specs),
        cmocka_unit_test(test_listen_unix_replaces_stale_socket_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
