/* test_cli.c - the command as a whole: dispatch, help, version, exit
 * codes, and where a command without --model finds its model. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"

static char *slurp_last(const char *which)
{
    char path[600];
    snprintf(path, sizeof path, "%s/last.%s", test_tmpdir(), which);
    return test_slurp(path, NULL);
}

TEST(cli_dispatch_help_version_and_exit_codes)
{
    const char *bin = test_glimpse_bin();
    CHECK_EQ_INT(test_run("%s --version", bin), 0);
    char *out = slurp_last("out");
    CHECK_STR_CONTAINS(out, "glimpse ");
    free(out);
    CHECK_EQ_INT(test_run("%s --help", bin), 0);
    out = slurp_last("out");
    const char *cmds[] = {"caption", "train", "eval", "score", "data", "regions"};
    for (int i = 0; i < 6; i++) CHECK_STR_CONTAINS(out, cmds[i]);
    free(out);
    for (int i = 0; i < 6; i++) {
        CHECK_EQ_INT(test_run("%s help %s", bin, cmds[i]), 0);
        CHECK_EQ_INT(test_run("%s %s --help", bin, cmds[i]), 0);
        out = slurp_last("out");
        CHECK_STR_CONTAINS(out, "usage: glimpse");
        free(out);
    }
    CHECK_EQ_INT(test_run("%s", bin), 2);
    CHECK_EQ_INT(test_run("%s frobnicate", bin), 2);
    char *err = slurp_last("err");
    CHECK_STR_CONTAINS(err, "glimpse: no command 'frobnicate'");
    free(err);
    CHECK_EQ_INT(test_run("%s help frobnicate", bin), 2);
    CHECK_EQ_INT(test_run("%s regions --grid 0 x.png", bin), 2);
}

/* An installed glimpse finds PREFIX/share/glimpse/models/shapes.glm next to
 * PREFIX/bin; $GLIMPSE_MODEL overrides; with neither, a clear error. */
TEST(cli_default_model_lookup)
{
    const char *bin = test_glimpse_bin(), *tmp = test_tmpdir();
    REQUIRE(test_run("mkdir -p %s/prefix/bin %s/prefix/share/glimpse/models %s/bare/bin && "
                     "cp %s %s/prefix/bin/glimpse && cp %s %s/bare/bin/glimpse && "
                     "cp models/shapes.glm %s/prefix/share/glimpse/models/",
                     tmp, tmp, tmp, bin, tmp, bin, tmp, tmp) == 0);
    char cwd[512];
    REQUIRE(getcwd(cwd, sizeof cwd));
    CHECK_EQ_INT(test_run("cd / && %s/prefix/bin/glimpse caption %s/assets/samples/shapes-1.png", tmp, cwd), 0);
    char *out = slurp_last("out");
    CHECK_STR_CONTAINS(out, "shapes-1.png\t");
    free(out);
    /* No model next to this copy: an error naming where it looked, exit 2. */
    CHECK_EQ_INT(test_run("%s/bare/bin/glimpse caption assets/samples/shapes-1.png", tmp), 2);
    char *err = slurp_last("err");
    CHECK_STR_CONTAINS(err, "share/glimpse/models");
    free(err);
    /* $GLIMPSE_MODEL wins. */
    CHECK_EQ_INT(test_run("GLIMPSE_MODEL=models/fashion.glm %s/bare/bin/glimpse caption assets/samples/fashion-1.png",
                          tmp), 0);
    CHECK_EQ_INT(test_run("GLIMPSE_MODEL=%s/none.glm %s/bare/bin/glimpse caption assets/samples/fashion-1.png",
                          tmp, tmp), 2);
}
