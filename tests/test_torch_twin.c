/* test_torch_twin.c - the PyTorch twin of the training step (tools/bench_torch.py)
 * computes what glimpse computes: on a small generated shapes set and a model
 * trained a few steps (so rollouts differ from the greedy decode and REINFORCE
 * has weight), glimpse-grad_dump writes one step's losses, rewards, gradients
 * and Adam update, and bench_torch.py --check must match every one within its
 * stated tolerance. Needs python3-torch (tools/install-deps.sh --bench);
 * without it the test says SKIP. A few seconds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

/* glimpse-NAME beside the glimpse binary the runner was given. */
static void tool(char *buf, size_t size, const char *name)
{
    const char *bin = test_glimpse_bin();
    const char *slash = strrchr(bin, '/');
    if (slash) snprintf(buf, size, "%.*s/glimpse-%s", (int)(slash - bin), bin, name);
    else snprintf(buf, size, "glimpse-%s", name);
}

TEST(torch_twin_matches_glimpse_step)
{
    if (test_run("/usr/bin/python3 -c 'import torch'") != 0) {
        printf("SKIP torch_twin_matches_glimpse_step: python3-torch is not installed "
               "(tools/install-deps.sh --bench installs it)\n");
        return;
    }
    const char *d = test_tmpdir(), *g = test_glimpse_bin();
    char dump[512];
    tool(dump, sizeof dump, "grad_dump");
    REQUIRE(test_run("'%s' data shapes --out '%s/twin-data' --count 60 --seed 5 --quiet", g, d) == 0);
    REQUIRE(test_run("'%s' train --data '%s/twin-data' --out '%s/twin.glm' --steps 20 --batch 8 --soft-warmup 0 "
                     "--val-every 0 --quiet", g, d, d) == 0);
    REQUIRE(test_run("'%s' export --model '%s/twin.glm' --data '%s/twin-data' --out '%s/twin-x.glm'", dump, d, d, d) == 0);
    REQUIRE(test_run("'%s' step --model '%s/twin.glm' --data '%s/twin-data' --out '%s/twin-step.glm' --batch 8 "
                     "--offset 5 --seed 2", dump, d, d, d) == 0);
    const int rc = test_run("/usr/bin/python3 tools/bench_torch.py --check --model '%s/twin.glm' --data '%s/twin-x.glm' "
                            "--dump '%s/twin-step.glm'", d, d, d);
    char path[600];
    snprintf(path, sizeof path, "%s/last.out", d);
    char *out = test_slurp(path, NULL);
    REQUIRE(out);
    if (rc != 0 || !strstr(out, "parity: ok")) {
        test_failed(__FILE__, __LINE__, "bench_torch.py --check failed (exit %d):\n%s", rc, out);
    }
    /* the REINFORCE part was exercised: some rollout earned another reward than the greedy decode */
    CHECK(strstr(out, "captions with a REINFORCE weight != 0") != NULL);
    free(out);
}
