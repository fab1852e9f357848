#!/usr/bin/env bash
# mutate.sh - shows that the tests bite: applies each mutation below to a
# copy of the tree, builds it, runs the whole suite, and reports whether the
# suite failed (CAUGHT) or passed (MISSED). Exit 1 if any mutation is missed.
# The working tree is never touched. Run by `make mutate` (a few minutes).
#
#   tests/mutate.sh            every mutation
#   tests/mutate.sh NAME...    only these
#
# Each mutation is: name | file | text | replacement | the test meant to catch it.
# The text must occur in the file (else the script says the mutation is stale).
set -euo pipefail
cd "$(dirname "$0")/.."

MUTATIONS=(
  # The three the suite once let through (issue 11), then one sign of each
  # other learning part.
  "entropy-sign|src/train.c|.entropy = o->entropy / (float)ntok|.entropy = -o->entropy / (float)ntok|reinforce_entropy_bonus_keeps_the_policy_spread"
  "loglik-sign|src/reinforce.c|r->reward[b] = w->caption_logp[b];|r->reward[b] = -w->caption_logp[b];|reinforce_paper_loglik_reward_learns_where_the_answer_is"
  "baseline-avg|src/reinforce.c|BASELINE_KEEP * r->avg + BASELINE_TAKE * (float)mean|BASELINE_TAKE * r->avg + BASELINE_KEEP * (float)mean|reinforce_moving_average_baseline_follows_eq_12"
  "advantage-sign|src/reinforce.c|o->weight * (r->reward[b] - r->base[b])|o->weight * (r->base[b] - r->reward[b])|reinforce_learns_where_the_answer_is"
  "score-sign|src/reinforce.c|de[s] -= w;|de[s] += w;|reinforce_score_gradient_is_grad_log_pi"
  "lstm-forget|src/lstm.c|dcr[j] = d_c * gf[j];|dcr[j] = d_c * gi[j];|lstm_step_matches_eq_1_3_and_its_finite_differences"
  "attention-tanh|src/attention.c|float g = d * w[k] * (1.0f - t[k] * t[k]);|float g = d * w[k] * (1.0f + t[k] * t[k]);|attention_matches_eq_4_5_and_its_finite_differences"
  "prior-dv-sign|src/prior.c|BL, K, 1.0f, u, K, dpi0, 1, 1.0f, dv, 1);|BL, K, -1.0f, u, K, dpi0, 1, 1.0f, dv, 1);|decoder_gradients_hard_prior"
  "prior-sup-sign|src/prior.c|weight * (float)(mass * exp((double)p[i] - lse) - (double)qr[i])|weight * (float)((double)qr[i] - mass * exp((double)p[i] - lse))|prior_supervision_matches_finite_differences"
  # Data-parallel training (issue 13): a shard's gradient left out of the sum,
  # and per-shard instead of per-example sample streams.
  "shard-sum|src/train.c|t->grad[i] += sh->own[i];|t->grad[i] += k > 1 ? sh->own[i] : 0.0f;|train_threads_differ_only_by_rounding_and_repeat_exactly"
  "shard-streams|src/train.c|pick.rows = t->xe_rows + lo;|pick.rows = t->xe_rows;|train_threads_differ_only_by_rounding_and_repeat_exactly"
  "eval-order|src/evaluate.c|const Search *sr = &dec[b % workers];|const Search *sr = &dec[0];|parallel_eval_same_output_for_any_thread_count"
  "caption-order|src/cmd_caption.c|&job.dec[k / CAPTION_BATCH]|&job.dec[0]|parallel_caption_same_output_for_any_thread_count"
  "adam-bias|src/optim.c|const double c1 = 1.0 - pow((double)c->beta1, (double)s->step);|const double c1 = 1.0;|optim_adam_follows_algorithm_1_in_double"
  # glimpse explain's step and its printed gradient (issue 15)
  "explain-sign|src/explain.c|const float w = (float)weight;|const float w = -(float)weight;|explain_step_moves_log_pi_with_the_advantage_sign"
  "explain-dlogit|src/explain.c|-(float)out->advantage, L);|(float)out->advantage, L);|explain_printed_gradient_matches_finite_differences"
  # The learned patch dictionary (issue 12, src/kmeans.c): k-means moving
  # its centroids away from their patches.
  "kmeans-update|src/kmeans.c|sum[(size_t)best * n + i] += patches[r * n + i];|sum[(size_t)best * n + i] -= patches[r * n + i];|kmeans_learns_planted_prototypes_deterministically"
  # Reptile's outer update (variant 3, src/meta.c): its sign, and no step at all.
  "reptile-sign|src/meta.c|phi[i] += eps * (m->params[i] - phi[i]);|phi[i] -= eps * (m->params[i] - phi[i]);|meta_reptile_init_adapts_to_a_heldout_dialect_faster_than_random_init"
  "reptile-still|src/meta.c|phi[i] += eps * (m->params[i] - phi[i]);|phi[i] += 0.0f * eps * (m->params[i] - phi[i]);|meta_reptile_init_adapts_to_a_heldout_dialect_faster_than_random_init"
)

want=("$@")
work=$(mktemp -d "${TMPDIR:-/tmp}/glimpse-mutate-XXXXXX")
trap 'rm -rf "$work"' EXIT
missed=0
printf '%-16s %-8s %s\n' mutation result "suite (the test meant to catch it)"
for m in "${MUTATIONS[@]}"; do
  IFS='|' read -r name file text repl guard <<<"$m"
  if [ ${#want[@]} -gt 0 ] && [[ ! " ${want[*]} " == *" $name "* ]]; then continue; fi
  tree="$work/$name"
  mkdir -p "$tree"
  # the working tree as it is (tracked and untracked files), without build outputs
  git ls-files -co --exclude-standard -z | tar --null -cf - -T - | tar -xf - -C "$tree"
  mkdir -p "$tree/build" && cp build/.deps-ok "$tree/build/" 2>/dev/null || true
  if ! grep -qF -- "$text" "$tree/$file"; then
    echo "mutate.sh: $name: '$text' is not in $file any more: update the mutation" >&2
    exit 2
  fi
  MUT_TEXT="$text" MUT_REPL="$repl" perl -0pi -e 's/\Q$ENV{MUT_TEXT}\E/$ENV{MUT_REPL}/' "$tree/$file"
  if ! make -C "$tree" -j2 all >"$tree/build.log" 2>&1; then
    echo "mutate.sh: $name: the mutated tree does not build (see $tree/build.log)" >&2
    trap - EXIT
    exit 2
  fi
  set +e
  (cd "$tree" && build/cc/test_runner --bin bin/glimpse >"$tree/test.log" 2>&1)
  rc=$?
  set -e
  summary=$(tail -n 1 "$tree/test.log")
  if grep -q "FAIL .*: $guard:" "$tree/test.log"; then by="$guard failed"; else by="$guard did not fail"; fi
  if [ $rc -ne 0 ]; then
    printf '%-16s %-8s %s (%s)\n' "$name" CAUGHT "$summary" "$by"
  else
    printf '%-16s %-8s %s\n' "$name" MISSED "$summary"
    missed=$((missed + 1))
  fi
  rm -rf "$tree"
done
[ $missed -eq 0 ] || { echo "mutate.sh: $missed mutation(s) missed"; exit 1; }
echo "mutate.sh: every mutation was caught"
