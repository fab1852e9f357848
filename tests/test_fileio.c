/* test_fileio.c - whole-file reads, lines and the atomic write of fileio.h:
 * what is refused before reading, what is replaced and what never is. */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "test.h"

/* Paths live in a small pool of buffers, each written once per test. */
static char pool[16][512];
static int pool_next;

static const char *path_in(const char *dir, const char *name)
{
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s/%s", dir, name);
    char *p = pool[pool_next++ % 16];
    memcpy(p, tmp, sizeof tmp);
    return p;
}

/* A fresh directory under the run's tmpdir. */
static const char *fresh_dir(const char *name)
{
    const char *d = path_in(test_tmpdir(), name);
    mkdir(d, 0755);
    return d;
}

/* Entries of dir whose names contain ".tmp-": leftovers of a write. */
static int temporaries_in(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d) return -1;
    for (struct dirent *e; (e = readdir(d));) n += strstr(e->d_name, ".tmp-") != NULL;
    closedir(d);
    return n;
}

TEST(fileio_read_whole_file_and_limits)
{
    const char *dir = fresh_dir("fileio-read");
    const char *p = path_in(dir, "a.txt");
    REQUIRE(test_write(p, "one\ntwo\r\n", 9));
    char *buf;
    size_t len;
    GlmError err = {0};
    REQUIRE(fileio_read(&buf, &len, p, 100, &err) == GLM_OK);
    CHECK_EQ_INT(len, 9);
    CHECK(buf[9] == 0 && !memcmp(buf, "one\ntwo\r\n", 9));
    free(buf);
    /* over the cap: refused from the size, naming the limit */
    CHECK_EQ_INT(fileio_read(&buf, &len, p, 8, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "over the limit of 8");
    CHECK(buf == NULL);
    /* missing: bad input, the reason named */
    CHECK_EQ_INT(fileio_read(&buf, &len, path_in(dir, "nope"), 100, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "No such file");
    CHECK_EQ_INT(fileio_read(&buf, &len, dir, 100, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "is a directory");
}

TEST(fileio_read_refuses_fifo_and_devices_without_blocking)
{
    const char *dir = fresh_dir("fileio-fifo");
    const char *fifo = path_in(dir, "pipe");
    REQUIRE(mkfifo(fifo, 0600) == 0);
    char *buf;
    size_t len;
    GlmError err = {0};
    /* with no writer, a blocking open would hang the suite here */
    CHECK_EQ_INT(fileio_read(&buf, &len, fifo, 100, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "is a FIFO");
    CHECK_EQ_INT(fileio_check_regular(fifo, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "FIFO");
    if (access("/dev/zero", R_OK) == 0) {
        CHECK_EQ_INT(fileio_read(&buf, &len, "/dev/zero", 100, &err), GLM_EINPUT);
        CHECK_STR_CONTAINS(err.msg, "character device");
    }
}

static int count_lines(void *ctx, char *line, size_t n, int has_nul, int lineno, GlmError *err)
{
    char *seen = ctx;
    if (lineno == 3) return glm_fail(err, GLM_EINPUT, "stop at 3");
    strcat(seen, line);
    strcat(seen, has_nul ? "|nul|" : "|");
    (void)n;
    return GLM_OK;
}

TEST(fileio_lines_cut_cr_and_stop_on_error)
{
    char text[] = "a\r\nb\0c\nstop\nnever\n";
    char seen[64] = "";
    GlmError err = {0};
    CHECK_EQ_INT(fileio_lines(text, sizeof text - 1, count_lines, seen, &err), GLM_EINPUT);
    CHECK(strcmp(seen, "a|b|nul|") == 0);
    CHECK_STR_CONTAINS(err.msg, "stop at 3");
}

TEST(fileio_write_replaces_regular_files_atomically)
{
    const char *dir = fresh_dir("fileio-write");
    const char *p = path_in(dir, "out.txt");
    GlmError err = {0};
    REQUIRE(fileio_write(p, "first", 5, &err) == GLM_OK);
    chmod(p, 0640);
    REQUIRE(fileio_write(p, "second", 6, &err) == GLM_OK);
    size_t len;
    char *got = test_slurp(p, &len);
    CHECK(got && len == 6 && !memcmp(got, "second", 6));
    free(got);
    struct stat st;
    REQUIRE(stat(p, &st) == 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0640);   /* the old file's mode is kept */
    CHECK_EQ_INT(temporaries_in(dir), 0);
    /* a directory as the target: refused, nothing left */
    CHECK_EQ_INT(fileio_write(dir, "x", 1, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "is a directory");
    CHECK_EQ_INT(fileio_write(path_in(dir, "no/such/dir"), "x", 1, &err), GLM_EINPUT);
    CHECK_EQ_INT(temporaries_in(dir), 0);
}

TEST(fileio_write_follows_symlinks_and_keeps_them)
{
    const char *dir = fresh_dir("fileio-link");
    const char *target = path_in(dir, "target.txt"), *link = path_in(dir, "link.txt");
    REQUIRE(test_write(target, "old", 3));
    REQUIRE(symlink("target.txt", link) == 0);   /* relative, as users make them */
    GlmError err = {0};
    REQUIRE(fileio_write(link, "new", 3, &err) == GLM_OK);
    struct stat st;
    REQUIRE(lstat(link, &st) == 0);
    CHECK(S_ISLNK(st.st_mode));                  /* the link is still a link */
    size_t len;
    char *got = test_slurp(target, &len);
    CHECK(got && len == 3 && !memcmp(got, "new", 3));
    free(got);
    /* a dangling link: its target is created */
    const char *dangling = path_in(dir, "dangling.txt");
    REQUIRE(symlink("made.txt", dangling) == 0);
    REQUIRE(fileio_write(dangling, "made", 4, &err) == GLM_OK);
    REQUIRE(lstat(dangling, &st) == 0);
    CHECK(S_ISLNK(st.st_mode));
    got = test_slurp(path_in(dir, "made.txt"), &len);
    CHECK(got && len == 4);
    free(got);
    CHECK_EQ_INT(temporaries_in(dir), 0);
}

TEST(fileio_write_never_replaces_a_fifo_or_device)
{
    const char *dir = fresh_dir("fileio-dev");
    const char *fifo = path_in(dir, "pipe");
    REQUIRE(mkfifo(fifo, 0600) == 0);
    /* a reader that is there before the write, so the write goes through */
    int rd = open(fifo, O_RDONLY | O_NONBLOCK);
    REQUIRE(rd >= 0);
    GlmError err = {0};
    CHECK_EQ_INT(fileio_write(fifo, "through", 7, &err), GLM_OK);
    char got[16] = {0};
    CHECK_EQ_INT(read(rd, got, sizeof got), 7);
    CHECK(!memcmp(got, "through", 7));
    close(rd);
    struct stat st;
    REQUIRE(stat(fifo, &st) == 0);
    CHECK(S_ISFIFO(st.st_mode));
    CHECK_EQ_INT(temporaries_in(dir), 0);
    /* A full device (a private copy of /dev/full, so that a regression
     * destroys only the copy): the short write is an error, and the device
     * stays a device. Making one needs root. */
    const char *full = path_in(dir, "full");
    if (test_run("mknod -m 666 %s c 1 7", full) == 0) {
        CHECK_EQ_INT(fileio_write(full, "x", 1, &err), GLM_EIO);
        CHECK_STR_CONTAINS(err.msg, "No space left");
        REQUIRE(stat(full, &st) == 0);
        CHECK(S_ISCHR(st.st_mode));
        CHECK_EQ_INT(temporaries_in(dir), 0);
    } else {
        printf("  (not root: the full-device case is skipped)\n");
    }
}
