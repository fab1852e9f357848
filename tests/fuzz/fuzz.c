/* fuzz.c - the per-process scratch directory of the fuzz targets (fuzz.h). */
#include "fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "png.h"
#include "vocab.h"

static char dir[4096];
static struct {
    char name[128];
    char path[4096 + 130];
} paths[FUZZ_MAX_PATHS];
static int n_paths;

__attribute__((noreturn)) static void die(const char *what, const char *path)
{
    fprintf(stderr, "fuzz harness: %s %s: %s\n", what, path, strerror(errno));
    abort();
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    remove(path);
    return 0;
}

static void remove_dir(void)
{
    if (dir[0]) nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_dir(void)
{
    if (dir[0]) return dir;
    struct stat st;
    const char *base = getenv("TMPDIR");
    if (!base || !*base) base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
    if ((size_t)snprintf(dir, sizeof dir, "%s/glimpse-fuzz-XXXXXX", base) >= sizeof dir) die("path too long:", base);
    if (!mkdtemp(dir)) die("cannot make a directory in", base);
    atexit(remove_dir);
    return dir;
}

const char *fuzz_path(const char *name)
{
    for (int i = 0; i < n_paths; i++)
        if (!strcmp(paths[i].name, name)) return paths[i].path;
    if (n_paths == FUZZ_MAX_PATHS || strlen(name) >= sizeof paths[0].name) die("too many or too long names:", name);
    snprintf(paths[n_paths].name, sizeof paths[n_paths].name, "%s", name);
    snprintf(paths[n_paths].path, sizeof paths[n_paths].path, "%s/%s", fuzz_dir(), name);
    return paths[n_paths++].path;
}

const char *fuzz_mkdir(const char *name)
{
    const char *p = fuzz_path(name);
    if (mkdir(p, 0700) != 0 && errno != EEXIST) die("cannot make", p);
    return p;
}

void fuzz_write(const char *path, const void *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) die("cannot open", path);
    const char *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) die("cannot write", path);
        p += w;
        n -= (size_t)w;
    }
    if (close(fd) != 0) die("cannot close", path);
}

void fuzz_write_png(const char *path)
{
    static const uint8_t rgb[2 * 2 * 3] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255};
    uint8_t work[512];
    size_t len;
    GlmError err;
    if (png_work_size(2, 2) > sizeof work || png_encode(work, &len, rgb, 2, 2, PNG_LEVEL_FAST, &err) != GLM_OK) {
        errno = 0;
        die("cannot encode a PNG for", path);
    }
    fuzz_write(path, work, len);
}

void fuzz_split(const uint8_t *data, size_t n, const char *sep, size_t *n1, const uint8_t **rest, size_t *n2)
{
    const size_t k = strlen(sep);
    const uint8_t *at = k && n >= k ? memmem(data, n, sep, k) : NULL;
    if (!at) {
        *n1 = n;
        *rest = NULL;
        *n2 = 0;
        return;
    }
    *n1 = (size_t)(at - data);
    *rest = at + k;
    *n2 = n - *n1 - k;
}

const char *fuzz_images_dir(void)
{
    static const char *names[] = {
        "a.png", "b.png", "c.png", "s0.png", "s1.png", "s2.png", "s3.png",
        "shapes_000000.png", "shapes_000001.png", "shapes_000002.png", "shapes_000003.png",
        "1000268201_693b08cb0e.jpg",
    };
    static char made[4096 + 8];
    if (made[0]) return made;
    snprintf(made, sizeof made, "%s", fuzz_mkdir("images"));
    char p[sizeof made + 64];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", made, names[i]);
        fuzz_write_png(p);
    }
    return made;
}

static int has_word(const char *s)
{
    for (; *s; s++)
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')) return 1;
    return 0;
}

void fuzz_check_dataset(Dataset *d)
{
    if (d->n_images < 1 || d->n_captions < d->n_images || d->n_messages > DATASET_MAX_MESSAGES) abort();
    int next = 0;
    for (int i = 0; i < d->n_images; i++) {
        const DatasetImage *im = &d->images[i];
        if (!im->name || !im->path || im->first != next || im->n_captions < 1) abort();
        if (dataset_find(d, im->name) != i) abort();
        for (int c = im->first; c < im->first + im->n_captions; c++)
            if (d->caption_image[c] != i || !has_word(d->captions[c])) abort();
        next += im->n_captions;
    }
    if (next != d->n_captions) abort();
    char summary[GLM_ERROR_LEN];
    dataset_skip_summary(summary, sizeof summary, d);

    Vocab v;
    GlmError err;
    if (vocab_build(&v, d->captions, d->n_captions, 1, &err) != GLM_OK) return;   /* out of memory */
    enum { MAX_WORDS = 16 };
    if (dataset_encode(d, &v, MAX_WORDS, &err) == GLM_OK) {
        if (d->seq_len != MAX_WORDS + 2) abort();
        for (int c = 0; c < d->n_captions; c++) {
            const int *row = d->ids + (size_t)c * (size_t)d->seq_len, len = d->lengths[c];
            if (len < 3 || len > d->seq_len || row[0] != VOCAB_START || row[len - 1] != VOCAB_END) abort();
            /* min_count 1: every word of these captions has an id, none is <unk>. */
            for (int t = 1; t < len - 1; t++)
                if (row[t] < VOCAB_N_SPECIAL || row[t] >= vocab_size(&v)) abort();
        }
    }
    vocab_free(&v);
}
