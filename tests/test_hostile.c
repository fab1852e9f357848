/* test_hostile.c - hostile and careless input through the commands (issue
 * 16): one matrix of input, command, exit code and a fragment of the
 * message, one row per failure found by the probe, plus the checks that
 * need more than one command (a device left a device, a link left a link,
 * a signal that leaves no temporary directory, memory that stays bounded).
 *
 * Every file is made here, in the run's temporary directory. The full
 * device is a private copy there (mknod c 1 7, as /dev/full; root only):
 * a regression that renames over its output then destroys that copy, never
 * the machine's /dev/full. Rows that need it say "full" and are skipped,
 * visibly, where it cannot be made. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stb_image_write.h>

#include "model.h"
#include "modelfile.h"
#include "test.h"

/* ASan keeps freed memory in quarantine: peak RSS says nothing there. */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_MEANINGFUL 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RSS_MEANINGFUL 0
#endif
#endif
#ifndef RSS_MEANINGFUL
#define RSS_MEANINGFUL 1
#endif

static char H[600];   /* the matrix's directory */
static int have_full; /* H/full is a full device */

static const char *hp(const char *name)
{
    static char buf[8][700];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 700, "%s/%s", H, name);
    return p;
}

static unsigned char *slurp(const char *path, size_t *n) { return (unsigned char *)test_slurp(path, n); }

/* A copy of path's first n bytes (n < 0: all but -n) as name. */
static int cut_copy(const char *path, const char *name, long n)
{
    size_t len;
    unsigned char *b = slurp(path, &len);
    if (!b) return 0;
    size_t keep = n < 0 ? len - (size_t)-n : (size_t)n;
    int ok = keep <= len && test_write(hp(name), b, keep);
    free(b);
    return ok;
}

/* A 40x30 RGB picture, written by stb_image_write in several formats. */
static int write_pictures(void)
{
    enum { W = 40, Hh = 30 };
    static unsigned char px[W * Hh * 3];
    for (int i = 0; i < W * Hh * 3; i++) px[i] = (unsigned char)(i * 7 % 251);
    return stbi_write_bmp(hp("p.bmp"), W, Hh, 3, px) && stbi_write_tga(hp("p.tga"), W, Hh, 3, px) &&
           stbi_write_jpg(hp("p.jpg"), W, Hh, 3, px, 90) && stbi_write_png(hp("p.png"), W, Hh, 3, px, W * 3);
}

static void put_le(unsigned char *p, unsigned v, int bytes)
{
    for (int i = 0; i < bytes; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Headers that declare 8000x8000 in about 150 bytes of file. */
static int write_liars(void)
{
    unsigned char bmp[154] = {'B', 'M'};
    put_le(bmp + 2, sizeof bmp, 4), put_le(bmp + 10, 54, 4), put_le(bmp + 14, 40, 4);
    put_le(bmp + 18, 8000, 4), put_le(bmp + 22, 8000, 4), put_le(bmp + 26, 1, 2), put_le(bmp + 28, 24, 2);
    unsigned char tga[154] = {0, 0, 2};
    put_le(tga + 12, 8000, 2), put_le(tga + 14, 8000, 2), tga[16] = 24;
    /* a PNG whose IHDR says 65535 x 65535 */
    static const unsigned char png[] = "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\xff\xff\0\0\xff\xff\x08\x02\0\0\0"
                                       "\0\0\0\0\0\0\0\0IEND\xae\x42\x60\x82";
    static const unsigned char gif[] = "GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00,\x00\x00\x00\x00"
                                       "\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00;";
    /* top-down (negative height): stb's info said 8000 x -57536, its loader decodes 57536 rows */
    unsigned char down[189];
    memcpy(down, bmp, sizeof bmp);
    memset(down + sizeof bmp, 0, sizeof down - sizeof bmp);
    put_le(down + 2, sizeof down, 4), put_le(down + 22, 0xffff1f40u, 4);
    return test_write(hp("liar.bmp"), bmp, sizeof bmp) && test_write(hp("liar.tga"), tga, sizeof tga) &&
           test_write(hp("down.bmp"), down, sizeof down) &&
           test_write(hp("huge.png"), png, sizeof png - 1) && test_write(hp("p.gif"), gif, sizeof gif - 1);
}

/* shapes.glm with one NaN weight, written as a model file (the loader must refuse it). */
static int write_nan_model(void)
{
    MfFile f;
    GlmError err;
    if (mf_read(&f, "models/shapes.glm", &err)) return 0;
    for (int i = 0; i < f.n_tensors; i++)
        if (!strcmp(f.tensors[i].name, "out_b")) f.tensors[i].data[0] = NAN;
    int ok = mf_write(hp("nan.glm"), &f, &err) == GLM_OK;
    mf_free(&f);
    return ok;
}

static int setup(void)
{
    if (H[0]) return 1;
    snprintf(H, sizeof H, "%s/hostile", test_tmpdir());
    const char *bin = test_glimpse_bin();
    if (test_run("mkdir -p %s/dir %s/imgs && mkfifo %s/fifo && printf x > %s/file && "
                 "cp assets/samples/shapes-1.png %s/good.png && ln -s good.png %s/link.png && "
                 "%s data shapes --out %s/set --count 8 --seed 2 --split 0,0,1 --quiet",
                 H, H, H, H, H, H, bin, H) != 0)
        return 0;
    have_full = test_run("mknod -m 666 %s/full c 1 7", H) == 0;
    if (!have_full) printf("  (cannot make a full device here: the rows that write to one are skipped)\n");
    if (!write_pictures() || !write_liars() || !write_nan_model()) return 0;
    if (!cut_copy(hp("p.bmp"), "trunc.bmp", -200) || !cut_copy(hp("p.tga"), "trunc.tga", -200) ||
        !cut_copy(hp("p.jpg"), "trunc.jpg", 300) || !cut_copy(hp("p.png"), "trunc.png", 200) ||
        !cut_copy(hp("p.gif"), "trunc.gif", 30))
        return 0;
    /* a data set whose first test image is cut short */
    char first[256] = "";
    FILE *f = fopen(hp("set/test.txt"), "r");
    if (!f || !fgets(first, sizeof first, f)) return 0;
    fclose(f);
    first[strcspn(first, "\n")] = 0;
    char img[400];
    snprintf(img, sizeof img, "set/images/%s", first);
    if (!cut_copy(hp(img), "cut.png", 300) || test_run("cp %s %s", hp("cut.png"), hp(img)) != 0) return 0;
    /* the COCO fixture behind a UTF-8 byte-order mark, with its pictures */
    if (test_run("printf '\\357\\273\\277' > %s/bom.json && cat tests/data/coco/captions.json >> %s/bom.json && "
                 "cp %s/good.png %s/imgs/a.png && cp %s/good.png %s/imgs/b.png && cp %s/good.png %s/imgs/c.png",
                 H, H, H, H, H, H, H, H) != 0)
        return 0;
    return 1;
}

typedef struct {
    const char *point;   /* the item */
    const char *cmd;     /* after the binary's name; %H is the matrix directory */
    int code;            /* expected exit status */
    const char *says;    /* a fragment of stderr ("" for none) */
} Row;

static const Row rows[] = {
    /* 1. outputs that are not regular files */
    {"1", "train --data %H/set --out %H/fifo --steps 1", 2, "not a regular file"},
    {"1", "train --data %H/set --out %H/full --steps 1", 2, "not a regular file"},
    {"1", "eval --model models/shapes.glm --data %H/set --out %H/full", 1, "No space left"},
    {"1", "@heatmap --model models/shapes.glm %H/good.png --out %H/full", 1, "No space left"},
    {"1", "@heatmap --model models/shapes.glm %H/good.png --html %H/full", 1, "No space left"},
    /* 2. FIFOs where a file is read: refused at once, never a hang */
    {"2", "caption --model models/shapes.glm %H/fifo", 2, "is a FIFO"},
    {"2", "regions %H/fifo", 2, "is a FIFO"},
    {"2", "@heatmap --model models/shapes.glm %H/fifo --out %H/x.png", 2, "is a FIFO"},
    {"2", "caption --model %H/fifo %H/good.png", 2, "is a FIFO"},
    {"2", "score --refs %H/fifo --cands %H/fifo", 2, "is a FIFO"},
    {"2", "info %H/fifo", 2, "is a FIFO"},
    /* 3. a directory as the model to write: refused before training */
    {"3", "train --data %H/set --out %H/dir --steps 1", 2, "is a directory"},
    /* 7. a device as the model: refused before reading a byte */
    {"7", "caption --model /dev/zero %H/good.png", 2, "character device"},
    /* 8. implausible sizes and truncation, every format */
    {"8", "regions %H/liar.bmp", 2, "implausible for a file of 154 bytes"},
    {"8", "regions %H/liar.tga", 2, "implausible for a file of 154 bytes"},
    {"8", "regions %H/down.bmp", 2, "8000x57536, more than 16384 pixels on a side"},
    {"8", "regions %H/trunc.bmp", 2, "truncated or corrupt BMP"},
    {"8", "regions %H/trunc.tga", 2, "truncated or corrupt image"},
    {"8", "regions %H/trunc.gif", 2, "truncated or corrupt GIF"},
    {"8", "regions %H/trunc.png", 2, "truncated or corrupt PNG"},
    {"8", "caption --model models/shapes.glm %H/trunc.bmp", 2, "truncated"},
    /* 10. standard output that cannot be written */
    {"10", "regions %H/good.png > %H/full", 1, "standard output: No space left"},
    {"10", "eval --model models/shapes.glm --data %H/set > %H/full", 1, "standard output: No space left"},
    {"10", "info models/shapes.glm > %H/full", 1, "standard output: No space left"},
    /* 11. bad input and usage are exit 2, with the reason */
    {"11", "caption --model %H/dir %H/good.png", 2, "is a directory"},
    {"11", "eval --model models/shapes.glm --data %H/nonexistent", 2, "No such file"},
    {"11", "eval --model models/shapes.glm --captions %H/bom.json --images %H/imgs --list %H/nonexistent", 2,
     "No such file"},
    {"11", "data shapes --out %H/file/x --count 2", 2, "Not a directory"},
    {"11", "eval --model models/shapes.glm --data %H/set --out %H/nodir/c.tsv", 2, "cannot write there"},
    /* 12. messages that name the real cause */
    {"12", "regions %H/dir", 2, "is a directory"},
    {"12", "regions %H/huge.png", 2, "PNG declares 65535x65535"},
    {"12", "regions %H/trunc.jpg", 2, "truncated or corrupt JPEG"},
    {"12", "caption --model %H/nan.glm %H/good.png", 2, "tensor out_b holds NaN"},
    {"12", "eval --model models/shapes.glm --captions %H/bom.json --images %H/imgs", 0, ""},
    /* 13. one rule for unreadable images: skipped with a warning, --strict fails */
    {"13", "eval --model models/shapes.glm --data %H/set", 0, "unreadable image skipped"},
    {"13", "eval --model models/shapes.glm --data %H/set --strict", 2, "(strict)"},
};

/* The row's command with %H replaced and the binary in front. */
static void command_of(char *out, size_t cap, const Row *r)
{
    const char *bin = test_glimpse_bin(), *cmd = r->cmd;
    char prog[600];
    snprintf(prog, sizeof prog, "%s", bin);
    if (cmd[0] == '@') {   /* the heatmap tool beside the binary */
        char *slash = strrchr(prog, '/');
        snprintf(slash ? slash + 1 : prog, sizeof prog - (size_t)(slash ? slash + 1 - prog : 0), "glimpse-%.*s",
                 (int)strcspn(cmd + 1, " "), cmd + 1);
        cmd += 1 + strcspn(cmd + 1, " ");
    }
    size_t at = (size_t)snprintf(out, cap, "timeout 30 %s ", prog);
    for (const char *p = cmd; *p && at + 1 < cap; p++) {
        if (p[0] == '%' && p[1] == 'H') {
            at += (size_t)snprintf(out + at, cap - at, "%s", H);
            p++;
        } else {
            out[at++] = *p;
        }
    }
    out[at < cap ? at : cap - 1] = 0;
}

TEST(hostile_input_matrix)
{
    REQUIRE(setup());
    const int n = (int)(sizeof rows / sizeof rows[0]);
    char cmd[2000], path[700];
    snprintf(path, sizeof path, "%s/last.err", test_tmpdir());
    for (int i = 0; i < n; i++) {
        const Row *r = &rows[i];
        if (!have_full && strstr(r->cmd, "%H/full")) continue;
        command_of(cmd, sizeof cmd, r);
        const int got = test_run("%s", cmd);
        char *err = test_slurp(path, NULL);
        if (got != r->code)
            test_failed(__FILE__, __LINE__, "issue 16 #%s: `%s` exited %d, want %d (stderr: %s)", r->point, cmd, got,
                        r->code, err ? err : "");
        else if (r->says[0] && (!err || !strstr(err, r->says)))
            test_failed(__FILE__, __LINE__, "issue 16 #%s: `%s`: stderr lacks \"%s\" (it is \"%s\")", r->point, cmd,
                        r->says, err ? err : "");
        free(err);
    }
}

/* #1: what the commands above wrote to was left what it was. */
TEST(hostile_outputs_keep_devices_and_links)
{
    REQUIRE(setup());
    struct stat st;
    if (have_full) {
        REQUIRE(stat(hp("full"), &st) == 0);
        CHECK(S_ISCHR(st.st_mode));
        CHECK(access(hp("full.ckpt"), F_OK) != 0);
    }
    REQUIRE(stat(hp("fifo"), &st) == 0);
    CHECK(S_ISFIFO(st.st_mode));
    char tool[600];
    snprintf(tool, sizeof tool, "%s", test_glimpse_bin());
    char *slash = strrchr(tool, '/');
    REQUIRE(slash);
    snprintf(slash + 1, sizeof tool - (size_t)(slash + 1 - tool), "glimpse-heatmap");
    /* a symbolic link as --out: the link stays, its target is the picture */
    REQUIRE(test_run("cp %s %s && ln -sf out-target.png %s", hp("good.png"), hp("out-target.png"), hp("out-link.png")) ==
            0);
    CHECK_EQ_INT(test_run("%s --model models/shapes.glm %s --out %s", tool, hp("good.png"), hp("out-link.png")), 0);
    REQUIRE(lstat(hp("out-link.png"), &st) == 0);
    CHECK(S_ISLNK(st.st_mode));
    size_t n;
    unsigned char *png = slurp(hp("out-target.png"), &n);
    CHECK(png && n > 8 && !memcmp(png, "\x89PNG", 4));
    free(png);
    CHECK(stat(hp("good.png"), &st) == 0 && S_ISREG(st.st_mode));
}

/* #4: `glimpse data` stopped by SIGTERM removes its temporary directory
 * and dies of the signal. */
TEST(hostile_data_interrupted_leaves_nothing)
{
    REQUIRE(setup());
    const char *out = hp("sig");
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        freopen("/dev/null", "w", stderr);
        execl(test_glimpse_bin(), "glimpse", "data", "shapes", "--out", out, "--count", "1000000", "--quiet",
              (char *)NULL);
        _exit(127);
    }
    /* wait until the temporary directory exists, then stop it */
    char glob[800];
    snprintf(glob, sizeof glob, "ls -d %s.tmp-* >/dev/null 2>&1", out);
    for (int i = 0; i < 200 && test_run("%s", glob) != 0; i++) usleep(20000);
    kill(pid, SIGTERM);
    int st;
    REQUIRE(waitpid(pid, &st, 0) == pid);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
    CHECK(test_run("%s", glob) != 0);   /* no OUT.tmp-XXXXXX left */
    CHECK(access(out, F_OK) != 0);
}

/* #9: glimpse-heatmap no longer keeps every full-size picture: four
 * 3000x3000 pictures (108 MB of floats each) stay under 350 MB of peak
 * memory (kept at full size, the four alone were 432 MB; 196 MB measured
 * now). */
TEST(hostile_heatmap_memory_is_bounded)
{
    REQUIRE(setup());
    enum { S = 3000 };
    unsigned char *px = calloc((size_t)S * S, 3);
    REQUIRE(px);
    for (size_t i = 0; i < (size_t)S * S * 3; i += 97) px[i] = 200;
    char name[32];
    for (int k = 0; k < 4; k++) {
        snprintf(name, sizeof name, "big%d.png", k);
        REQUIRE(stbi_write_png(hp(name), S, S, 3, px, S * 3));
    }
    free(px);
    char tool[600];
    snprintf(tool, sizeof tool, "%s", test_glimpse_bin());
    char *slash = strrchr(tool, '/');
    REQUIRE(slash);
    snprintf(slash + 1, sizeof tool - (size_t)(slash + 1 - tool), "glimpse-heatmap");
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        freopen("/dev/null", "w", stdout);
        execl(tool, "glimpse-heatmap", "--model", "models/shapes.glm", hp("big0.png"), hp("big1.png"), hp("big2.png"), hp("big3.png"), "--out",
              hp("big.png"), "--sheet", (char *)NULL);
        _exit(127);
    }
    int st;
    struct rusage ru;
    REQUIRE(wait4(pid, &st, 0, &ru) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    printf("  glimpse-heatmap on four 3000x3000 pictures: peak RSS %ld MB%s\n", ru.ru_maxrss / 1024,
           RSS_MEANINGFUL ? "" : " (under ASan: not checked)");
    if (RSS_MEANINGFUL) CHECK(ru.ru_maxrss / 1024 < 350);
}

/* #15: a tab, newline or backslash in a picture's name is escaped in an
 * IMAGE<TAB>caption line, so each picture stays one line with one tab. */
TEST(hostile_names_with_tabs_stay_one_line)
{
    REQUIRE(setup());
    char name[700];
    snprintf(name, sizeof name, "%s/a\tb\nc\\d.png", H);
    REQUIRE(test_run("cp %s '%s'", hp("good.png"), name) == 0);
    CHECK_EQ_INT(test_run("%s caption --model models/shapes.glm '%s'", test_glimpse_bin(), name), 0);
    char path[700];
    snprintf(path, sizeof path, "%s/last.out", test_tmpdir());
    char *out = test_slurp(path, NULL);
    REQUIRE(out);
    CHECK_STR_CONTAINS(out, "/a\\tb\\nc\\\\d.png\t");
    int lines = 0, tabs = 0;
    for (const char *p = out; *p; p++) lines += *p == '\n', tabs += *p == '\t';
    CHECK_EQ_INT(lines, 1);
    CHECK_EQ_INT(tabs, 1);
    free(out);
}
