/* seed.c: the cloud-init NoCloud seed of an instance: a small FAT image labelled CIDATA
 * holding meta-data (instance id and host name) and user-data (the tenant's, or a
 * cloud-config with its SSH keys). Built with dosfstools and mtools (no mount, no root
 * tricks), then uploaded to the host's pool like any volume. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compute_int.h"
#include "sov/buf.h"

extern char **environ;

static int
run(const char *const argv[], sov_error *err)
{
    pid_t pid;
    int status;
    posix_spawn_file_actions_t fa;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *) argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return sov_error_set(err, SOV_E_INTERNAL, "could not run %s: %s", argv[0],
                             strerror(rc));
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return sov_error_set(err, SOV_E_INTERNAL, "could not wait for %s", argv[0]);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return sov_error_set(err, SOV_E_INTERNAL, "%s failed (status %d)", argv[0], status);
    return 0;
}

static int
write_file(const char *path, const char *data, size_t len, sov_error *err)
{
    FILE *f = fopen(path, "w");

    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        if (f)
            fclose(f);
        return sov_error_set(err, SOV_E_INTERNAL, "could not write '%s'", path);
    }
    return 0;
}

/* "  - "key"\n": a YAML double-quoted scalar, where '"' and '\\' are backslash-escaped (a
 * key's comment may hold them; control characters were refused earlier). */
static void
yaml_quoted_item(sov_buf *u, const char *s)
{
    sov_buf_puts(u, "  - \"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            sov_buf_append(u, "\\", 1);
        sov_buf_append(u, s, 1);
    }
    sov_buf_puts(u, "\"\n");
}

/* SSH keys are the tenant's text: one per line, no line breaks inside (checked earlier). */
int
sov_seed_build(const char *dir, const sov_instance *inst, const char *user_data,
               const char *const *keys, size_t nkeys, char *ret_path, size_t size,
               sov_error *err)
{
    char meta[PATH_MAX], user[PATH_MAX], img[PATH_MAX];
    sov_buf m = SOV_BUF_INIT, u = SOV_BUF_INIT;
    int rc = -1;

    snprintf(meta, sizeof(meta), "%s/meta-data", dir);
    snprintf(user, sizeof(user), "%s/user-data", dir);
    snprintf(img, sizeof(img), "%s/seed.img", dir);
    sov_buf_printf(&m, "instance-id: %s\nlocal-hostname: %s\n", inst->id, inst->name);
    if (user_data && *user_data) {
        sov_buf_puts(&u, user_data);
    } else {
        sov_buf_puts(&u, "#cloud-config\n");
        if (nkeys > 0) {
            sov_buf_puts(&u, "ssh_authorized_keys:\n");
            for (size_t i = 0; i < nkeys; i++)
                yaml_quoted_item(&u, keys[i]);
        }
    }
    if (m.oom || u.oom) {
        sov_error_set(err, SOV_E_INTERNAL, "out of memory");
        goto out;
    }
    unlink(img);
    const char *mkfs[] = { "/usr/sbin/mkfs.vfat", "-C", "-n", "CIDATA", img, "1024", NULL };
    const char *copy[] = { "/usr/bin/mcopy", "-o", "-i", img, meta, user, "::", NULL };
    if (write_file(meta, m.data, m.len, err) < 0 || write_file(user, u.data, u.len, err) < 0 ||
        run(mkfs, err) < 0 || run(copy, err) < 0)
        goto out;
    snprintf(ret_path, size, "%s", img);
    rc = 0;
out:
    sov_buf_release(&m);
    sov_buf_release(&u);
    return rc;
}
