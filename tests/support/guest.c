/* guest.c: the end-to-end tests' guest image (scripts/guest-image) and console waits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"
#include "testlib.h"

#define POLL_NS 100000000L          /* 100 ms between console reads */
#define QUOTED_TAIL 1500            /* bytes of a log or console quoted in a failure */

/* The end of s, at most max bytes of it, for a failure message. */
static const char *
tail_of(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;

    if (!s)
        return "";
    return n > max ? s + n - max : s;
}

char *
tl_guest_image(void)
{
    const char *root = tl_env("SOV_SOURCE_ROOT");
    char *dir = tl_tmpdir();
    char *image = NULL, *log = NULL;
    struct stat st;
    int rc;

    /* Paths go into a shell command between single quotes. */
    ck_assert_msg(!strchr(root, '\'') && !strchr(dir, '\''), "unexpected quote in %s or %s",
                  root, dir);
    ck_assert(asprintf(&image, "%s/guest.qcow2", dir) > 0);
    ck_assert(asprintf(&log, "%s/guest-image.log", dir) > 0);
    rc = tl_sh("'%s/scripts/guest-image' '%s' >'%s' 2>&1", root, image, log);
    if (rc != 0 || stat(image, &st) != 0 || st.st_size == 0) {
        char *text = tl_read_file(log);

        ck_abort_msg("scripts/guest-image could not build the guest image (exit %d): %s", rc,
                     tail_of(text, QUOTED_TAIL));
    }
    unlink(log);
    free(log);
    free(dir);
    return image;
}

void
tl_guest_image_remove(const char *path)
{
    char *dir;
    char *slash;

    if (!path)
        return;
    dir = strdup(path);
    ck_assert(dir);
    slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        tl_tmpdir_remove(dir);
    }
    free(dir);
}

char *
tl_console_file_read(void *path)
{
    return tl_read_file(path);
}

char *
tl_console_after(const char *text, const char *marker)
{
    const char *at, *end;
    size_t n;
    char *rest;

    if (!text || !marker || !*marker)
        return NULL;
    at = strstr(text, marker);
    if (!at)
        return NULL;
    at += strlen(marker);
    end = at + strcspn(at, "\r\n");
    if (*end == '\0')
        return NULL;        /* the line is still being written */
    n = (size_t) (end - at);
    rest = malloc(n + 1);
    ck_assert(rest);
    memcpy(rest, at, n);
    rest[n] = '\0';
    return rest;
}

static double
now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

char *
tl_console_wait(tl_console_reader reader, void *arg, const char *marker, unsigned timeout_s,
                double *ret_seconds)
{
    double start = now_seconds();
    char *found = NULL;

    for (;;) {
        char *text = reader(arg);
        double elapsed;

        found = tl_console_after(text, marker);
        free(text);
        elapsed = now_seconds() - start;
        if (found || elapsed >= (double) timeout_s) {
            if (ret_seconds)
                *ret_seconds = elapsed;
            return found;
        }
        nanosleep(&(struct timespec){ .tv_nsec = POLL_NS }, NULL);
    }
}

char *
tl_console_expect(tl_console_reader reader, void *arg, const char *marker, unsigned timeout_s)
{
    char *found = tl_console_wait(reader, arg, marker, timeout_s, NULL);

    if (!found) {
        char *text = reader(arg);

        ck_abort_msg("no '%s' on the guest's console within %u s; its console ends with:\n%s",
                     marker, timeout_s, text ? tail_of(text, QUOTED_TAIL) : "(nothing yet)");
    }
    return found;
}

void
tl_free_subnet(const char *uri, char cidr[32], char prefix[16])
{
    int rc;
    char *used = tl_sh_out(&rc, "{ ip -4 -o addr show; ip -4 route show;"
                           " for n in $(virsh -q -c '%s' net-list --all --name); do"
                           " virsh -q -c '%s' net-dumpxml \"$n\"; done; }", uri, uri);
    unsigned seed = (unsigned) getpid() ^ (unsigned) time(NULL);

    ck_assert_msg(rc == 0, "could not list the machine's networks: %s", used);
    for (int tries = 0; tries < 1000; tries++) {
        unsigned a = 16 + (unsigned) rand_r(&seed) % 224, b = (unsigned) rand_r(&seed) % 256;
        char needle[24];

        snprintf(needle, sizeof(needle), "10.%u.", a);
        if (!strstr(used, needle)) {
            snprintf(cidr, 32, "10.%u.%u.0/24", a, b);
            if (prefix)
                snprintf(prefix, 16, "10.%u.%u.", a, b);
            free(used);
            return;
        }
    }
    ck_abort_msg("no free 10.x.y.0/24 for the test's NAT network");
}

void
tl_assert_traversable(const char *dir)
{
    char path[600];
    struct stat st = { 0 };

    snprintf(path, sizeof(path), "%s", dir);
    for (char *slash; (slash = strrchr(path, '/')) && slash != path; *slash = '\0') {
        ck_assert_msg(stat(path, &st) == 0 && (st.st_mode & S_IXOTH),
                      "libvirt-qemu cannot pass through %s (mode %o): make SOV_TEST_TMPDIR's "
                      "folders world-traversable", path, (unsigned) st.st_mode & 07777);
    }
}
