/* fileio.c - whole-file reads, line walking and atomic writes (fileio.h). */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A missing or unreadable input is the user's mistake (exit 2); anything
 * else the system's. */
static int open_error_code(int e)
{
    return e == ENOENT || e == ENOTDIR || e == EACCES || e == EISDIR || e == ELOOP || e == ENAMETOOLONG
               ? GLM_EINPUT
               : GLM_EIO;
}

static const char *kind_of(mode_t m)
{
    if (S_ISDIR(m)) return "a directory";
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISSOCK(m)) return "a socket";
    return "not a regular file";
}

int fileio_check_regular(const char *path, GlmError *err)
{
    struct stat st;
    if (stat(path, &st) != 0) return glm_fail(err, open_error_code(errno), "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return glm_fail(err, GLM_EINPUT, "%s: is %s, not a regular file", path, kind_of(st.st_mode));
    return GLM_OK;
}

int fileio_read(char **out, size_t *len, const char *path, size_t max, GlmError *err)
{
    *out = NULL;
    *len = 0;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then
     * refuses it. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return glm_fail(err, open_error_code(errno), "%s: %s", path, strerror(errno));
    struct stat st;
    int rc = GLM_OK;
    char *buf = NULL;
    if (fstat(fd, &st) != 0) {
        rc = glm_fail(err, GLM_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = glm_fail(err, GLM_EINPUT, "%s: is %s, not a regular file", path, kind_of(st.st_mode));
        goto out;
    }
    if ((unsigned long long)st.st_size > max) {
        rc = glm_fail(err, GLM_EINPUT, "%s: %lld bytes, over the limit of %zu for this kind of file", path,
                      (long long)st.st_size, max);
        goto out;
    }
    (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    /* The size can change while we read; read to the end, within max. */
    size_t cap = (size_t)st.st_size + 1, n = 0;
    if (!(buf = malloc(cap + 1))) {
        rc = glm_fail(err, GLM_ENOMEM, "%s: out of memory reading %zu bytes", path, cap);
        goto out;
    }
    for (;;) {
        if (n == cap) {
            if (cap > max) {
                rc = glm_fail(err, GLM_EINPUT, "%s: over the limit of %zu bytes for this kind of file", path, max);
                goto out;
            }
            char *grown = realloc(buf, cap * 2 + 1);
            if (!grown) {
                rc = glm_fail(err, GLM_ENOMEM, "%s: out of memory reading the file", path);
                goto out;
            }
            buf = grown;
            cap *= 2;
        }
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            rc = glm_fail(err, GLM_EIO, "%s: read failed: %s", path, strerror(errno));
            goto out;
        }
        if (got == 0) break;
        n += (size_t)got;
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return rc;
}

int fileio_lines(char *buf, size_t len, FileioLineFn fn, void *ctx, GlmError *err)
{
    char *p = buf, *end = buf + len;
    int lineno = 0;
    while (p < end) {
        char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) eol = end;
        if (lineno == INT_MAX) return glm_fail(err, GLM_EINPUT, "more than %d lines", INT_MAX - 1);
        lineno++;
        size_t n = (size_t)(eol - p);
        if (n && p[n - 1] == '\r') n--;
        int has_nul = memchr(p, 0, n) != NULL;
        p[n] = 0;
        int rc = fn(ctx, p, n, has_nul, lineno, err);
        if (rc != GLM_OK) return rc;
        p = eol + 1;
    }
    return GLM_OK;
}

int fileio_fields(char *line, char sep, char **fields, int max)
{
    int n = 0;
    for (char *p = line;;) {
        if (n == max) return max + 1;
        fields[n++] = p;
        char *cut = strchr(p, sep);
        if (!cut) return n;
        *cut = 0;
        p = cut + 1;
    }
}

/* ---- writing ---------------------------------------------------------- */

static int write_fd(int fd, const void *data, size_t len)
{
    const unsigned char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) {
            errno = ENOSPC;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* For a non-regular target: straight through, the error reported. */
static int write_through(const char *path, int fd, const void *data, size_t len, GlmError *err)
{
    if (write_fd(fd, data, len) != 0) return glm_fail(err, GLM_EIO, "%s: write failed: %s", path, strerror(errno));
    return GLM_OK;
}

/* The file a path finally names once symbolic links are followed (the
 * path itself when it is none); the link's target may not exist yet. */
static int resolve_links(char *out, size_t cap, const char *path, GlmError *err)
{
    if (snprintf(out, cap, "%s", path) >= (int)cap) return glm_fail(err, GLM_EINPUT, "%s: path too long", path);
    for (int hops = 0; hops < 40; hops++) {
        struct stat st;
        if (lstat(out, &st) != 0 || !S_ISLNK(st.st_mode)) return GLM_OK;
        char target[PATH_MAX];
        ssize_t n = readlink(out, target, sizeof target - 1);
        if (n < 0) return glm_fail(err, GLM_EIO, "%s: %s", path, strerror(errno));
        target[n] = 0;
        if (target[0] == '/') {
            snprintf(out, cap, "%s", target);
        } else {
            /* relative to the directory holding the link */
            char *slash = strrchr(out, '/');
            size_t keep = slash ? (size_t)(slash - out) + 1 : 0;
            if (keep + (size_t)n + 1 > cap) return glm_fail(err, GLM_EINPUT, "%s: path too long", path);
            memcpy(out + keep, target, (size_t)n + 1);
        }
    }
    return glm_fail(err, GLM_EINPUT, "%s: too many levels of symbolic links", path);
}

/* fsync of the directory holding path, so the rename itself is durable.
 * Some file systems cannot fsync a directory (EINVAL); that is not an
 * error of ours. */
static int sync_dir(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == path) snprintf(dir, sizeof dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return 0;
    int rc = fsync(fd) != 0 && errno != EINVAL && errno != EROFS ? -1 : 0;
    close(fd);
    return rc;
}

int fileio_write(const char *path, const void *data, size_t len, GlmError *err)
{
    if (!strcmp(path, "-")) return write_through("standard output", STDOUT_FILENO, data, len, err);
    char real[PATH_MAX];
    int rc = resolve_links(real, sizeof real, path, err);
    if (rc) return rc;
    struct stat st;
    int exists = stat(real, &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) return glm_fail(err, GLM_EINPUT, "%s: is a directory", path);
    if (exists && !S_ISREG(st.st_mode)) {
        /* A device, FIFO or socket: never replaced. */
        int fd = open(real, O_WRONLY | O_CLOEXEC);
        if (fd < 0) return glm_fail(err, open_error_code(errno), "%s: %s", path, strerror(errno));
        rc = write_through(path, fd, data, len, err);
        if (close(fd) != 0 && rc == GLM_OK) rc = glm_fail(err, GLM_EIO, "%s: write failed: %s", path, strerror(errno));
        return rc;
    }

    /* The temporary sits next to the target so rename() stays on one file
     * system and is atomic. */
    char tmp[PATH_MAX + 16];
    if (snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", real) >= (int)sizeof tmp)
        return glm_fail(err, GLM_EINPUT, "%s: path too long", path);
    int fd = mkstemp(tmp);
    if (fd < 0) return glm_fail(err, open_error_code(errno), "%s: cannot create: %s", path, strerror(errno));
    /* mkstemp makes the file 0600: keep the old file's mode, or what a new
     * file gets under the umask. */
    mode_t mode;
    if (exists) {
        mode = st.st_mode & 07777;
    } else {
        mode_t mask = umask(0);
        umask(mask);
        mode = 0666 & ~mask;
    }
    const char *what = NULL;
    if (fchmod(fd, mode) != 0) what = "cannot set the mode";
    else if (write_fd(fd, data, len) != 0) what = "write failed";
    else if (fsync(fd) != 0) what = "write failed";
    int e = errno;
    if (close(fd) != 0 && !what) what = "write failed", e = errno;
    if (!what && rename(tmp, real) != 0) what = "cannot rename into place", e = errno;
    if (what) {
        unlink(tmp);
        return glm_fail(err, GLM_EIO, "%s: %s: %s", path, what, strerror(e));
    }
    if (sync_dir(real) != 0) return glm_fail(err, GLM_EIO, "%s: cannot sync its directory: %s", path, strerror(errno));
    return GLM_OK;
}
