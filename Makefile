# glimpse - Show, Attend and Tell with hard attention, in C.
#
#   make            build bin/glimpse and the tools (installs missing Debian packages first)
#   make test       build and run the whole test suite
#   make demo       build, then run glimpse on the bundled samples
#   make SAN=1 ...  the same with AddressSanitizer + UndefinedBehaviorSanitizer (in build/CC-san)
#   make CC=clang   any C11 compiler (programs in build/clang/bin); warnings are errors under gcc and clang
#   make install PREFIX=/usr/local   binaries to PREFIX/bin, models to PREFIX/share/glimpse/models
#   make bench      speed measurements (not part of the tests)
#   make bench-compare  training steps/s of glimpse against the same step in PyTorch
#   make eval-ood   the shipped models on pictures glimpse did not draw (needs ImageMagick)
#   make course     the README course's glimpse explain outputs and docs/explain.png
#   make mutate     apply each mutation of tests/mutate.sh and check the suite catches it
#   make fuzz       build the libFuzzer targets (tests/fuzz, clang) and run each FUZZ_SECONDS=60

CC ?= cc
PREFIX ?= /usr/local
SAN ?= 0

# Debian paths come from pkg-config once the packages are there. These are
# evaluated lazily (and memoised) so that a fresh machine first runs the deps
# step and only then asks pkg-config.
memo = $(eval $1 := $$(shell $2))$($1)
STB_FLAGS = $(call memo,STB_FLAGS,pkg-config --cflags stb)
STB_LIBS = $(call memo,STB_LIBS,pkg-config --libs stb)
BLAS_FLAGS = $(call memo,BLAS_FLAGS,pkg-config --cflags openblas 2>/dev/null)
BLAS_LIBS = $(call memo,BLAS_LIBS,pkg-config --libs openblas 2>/dev/null || echo -lopenblas)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
OPT := -O2 -g
# The decoder's numeric files get -O3, which vectorises their element-wise
# loops (exp, tanh and sigmoid of lstm.h over every gate and every region's
# attention feature at every word); -fno-trapping-math lets it turn their
# clamps into min/max (nothing here traps on floating-point exceptions).
# Neither changes a result: no reassociation, and no contraction into FMA
# (-std=c11 keeps -ffp-contract=off). Measured in BENCHMARKS.md.
HOT_OPT := -O3 -fno-trapping-math
HOT_SRC := attention lstm step prior decoder
# Objects go to a directory per compiler (and per sanitizer setting), so
# `make CC=clang` or `make SAN=1` never links objects of another build.
COMPILER := $(notdir $(firstword $(CC)))
ifeq ($(SAN),1)
BUILD := build/$(COMPILER)-san
BIN := $(BUILD)/bin
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
else
BUILD := build/$(COMPILER)
# bin/ holds the default compiler's programs; another CC keeps its own.
BIN := $(if $(filter cc,$(COMPILER)),bin,$(BUILD)/bin)
endif

CFLAGS_ALL = -std=c11 -D_GNU_SOURCE $(OPT) $(FILE_OPT) $(WARN) -iquote src $(STB_FLAGS) $(BLAS_FLAGS) $(CFLAGS)
ifneq ($(SAN),1)
$(HOT_SRC:%=$(BUILD)/src/%.o): FILE_OPT := $(HOT_OPT)
endif
LDLIBS_ALL = $(STB_LIBS) $(BLAS_LIBS) -lcjson -lz -lm -lpthread $(LDFLAGS) $(LDLIBS)

# The library is every src/*.c except the command line (main.c, cmd_*.c).
CLI_SRC := src/main.c $(wildcard src/cmd_*.c)
LIB_SRC := $(filter-out $(CLI_SRC),$(wildcard src/*.c))
TOOL_SRC := $(wildcard tools/*.c)
TEST_SRC := $(wildcard tests/*.c)

LIB := $(BUILD)/libglimpse.a
LIB_OBJ := $(LIB_SRC:src/%.c=$(BUILD)/src/%.o)
CLI_OBJ := $(CLI_SRC:src/%.c=$(BUILD)/src/%.o)
TOOLS := $(TOOL_SRC:tools/%.c=$(BIN)/glimpse-%)
TEST_OBJ := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%.o)
DEPS_OK := build/.deps-ok

# Build everything.
all: $(BIN)/glimpse $(TOOLS) $(BUILD)/test_runner

# Install missing Debian packages (once per checkout; rerun with `make deps`).
$(DEPS_OK): tools/install-deps.sh
	@mkdir -p $(dir $@)
	tools/install-deps.sh
	@touch $@
deps:
	tools/install-deps.sh

$(BUILD)/src/%.o: src/%.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/tests/%.o: tests/%.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -iquote tests -MMD -MP -c $< -o $@

$(BUILD)/tools/%.o: tools/%.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# The command: bin/glimpse.
$(BIN)/glimpse: $(CLI_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -o $@ $(CLI_OBJ) $(LIB) $(LDLIBS_ALL)

# Standalone tools: tools/NAME.c becomes bin/glimpse-NAME.
$(BIN)/glimpse-%: $(BUILD)/tools/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -o $@ $< $(LIB) $(LDLIBS_ALL)

# The test runner links every tests/*.c (each registers its TEST()s) with the library.
$(BUILD)/test_runner: $(TEST_OBJ) $(LIB)
	$(CC) $(OPT) -o $@ $(TEST_OBJ) $(LIB) $(LDLIBS_ALL)

# Run the whole suite (after installing the test-only packages, e.g. the
# browser for the heatmap page test); the last line is "N passed, N failed".
test: all
	@tools/install-deps.sh --test
	$(BUILD)/test_runner --bin $(BIN)/glimpse

# Show that the tests bite: each mutation in tests/mutate.sh (a flipped sign
# in REINFORCE, the baseline, the LSTM, attention, Adam) applied to a copy of
# the tree must make the suite fail. A few minutes; not part of `make test`.
mutate: all
	tests/mutate.sh

# Caption the bundled samples with the shipped models and render where each
# word looked: out/demo/index.html (shapes), out/demo/fashion.html, and PNGs.
demo: all
	@mkdir -p out/demo
	$(BIN)/glimpse caption --model models/shapes.glm assets/samples/shapes-*.png
	$(BIN)/glimpse caption --model models/fashion.glm assets/samples/fashion-*.png
	$(BIN)/glimpse-heatmap --model models/shapes.glm assets/samples/shapes-*.png \
		--out out/demo/heatmap.png --html out/demo/index.html
	$(BIN)/glimpse-heatmap --model models/fashion.glm assets/samples/fashion-*.png \
		--out out/demo/heatmap.png --html out/demo/fashion.html
	@echo "demo: pages out/demo/index.html (shapes) and out/demo/fashion.html (fashion); PNGs out/demo/heatmap-*.png"

# Train the shipped models from fixed seeds (data made by `glimpse data`), the
# two at once, one core each (about 30 minutes on 2 cores), then measure each
# on a test split generated with a seed no training run used. The models are
# committed; this reproduces them (same seed and thread count, same bytes).
# The training recipes live in the program (`glimpse train --preset NAME`,
# src/train.c), so a user reproduces a model without reading this file.
MODEL_DATA := build/model-data
SHAPES_COUNT := 40000
SHAPES_TRAIN := --preset shapes
FASHION_COUNT := 60000
FASHION_TRAIN := --preset fashion
models: all
	$(MAKE) -j2 model-shapes model-fashion
	$(MAKE) eval-models

# One shipped model (`make models` runs both).
model-shapes: all
	rm -rf $(MODEL_DATA)/shapes && mkdir -p $(MODEL_DATA)
	$(BIN)/glimpse data shapes --out $(MODEL_DATA)/shapes --count $(SHAPES_COUNT) --seed 101 --quiet
	$(BIN)/glimpse train --data $(MODEL_DATA)/shapes --out models/shapes.glm $(SHAPES_TRAIN) --threads 1
	rm -f models/shapes.glm.ckpt
model-fashion: all
	rm -rf $(MODEL_DATA)/fashion && mkdir -p $(MODEL_DATA)
	$(BIN)/glimpse data fashion --out $(MODEL_DATA)/fashion --count $(FASHION_COUNT) --seed 102 --quiet
	$(BIN)/glimpse train --data $(MODEL_DATA)/fashion --out models/fashion.glm $(FASHION_TRAIN) --threads 1
	rm -f models/fashion.glm.ckpt

# Score the shipped models on held-out data (seeds 9001, 9002: never trained on).
eval-models: all
	rm -rf $(MODEL_DATA)/shapes-heldout $(MODEL_DATA)/fashion-heldout && mkdir -p $(MODEL_DATA)
	$(BIN)/glimpse data shapes --out $(MODEL_DATA)/shapes-heldout --count 2000 --seed 9001 --split 0,0,1 --quiet
	$(BIN)/glimpse data fashion --out $(MODEL_DATA)/fashion-heldout --count 2000 --seed 9002 --split 0,0,1 --quiet
	$(BIN)/glimpse eval --model models/shapes.glm --data $(MODEL_DATA)/shapes-heldout --json
	$(BIN)/glimpse eval --model models/fashion.glm --data $(MODEL_DATA)/fashion-heldout --json
	$(MAKE) eval-ood

# Score the shipped models on pictures glimpse did not draw (issue 12): shape
# scenes drawn by ImageMagick (tools/ood_shapes.py, 1000 pictures, seed 9301)
# and Fashion-MNIST test photos at both polarities (tools/ood_fashion.py,
# 1000 pictures, seed 9302), made into build/ood/ and scored with
# `glimpse eval --labels`, one table row per labels file (tools/eval_ood.sh).
# Installs the test packages first; without ImageMagick it says so and fails.
eval-ood: all
	@tools/install-deps.sh --test
	GLIMPSE=$(BIN)/glimpse tools/eval_ood.sh

# The README's attention ablation: hard + REINFORCE (each baseline), the
# paper's loglik reward, soft, random regions and no attention, trained with
# the same budget and scored on a held-out shapes split (Markdown table).
# ABLATION_STEPS=N sets the budget (default 3000); see tools/ablation.sh.
ablation: all
	tools/ablation.sh

# The attention-prior ablation (docs/prior.md): hard attention without a
# prior, with a learned prior and with a supervised one, same budget, on a
# held-out shapes split; steps to the quality bar from validation.
ablation-prior: all
	tools/ablation_prior.sh

# The README's short course (issue 15), from fixed seeds: a young shapes
# model (2000 scenes, 600 steps, about a minute on one core) whose rollouts
# beat, tie and lose to its greedy decode in turn, the walk-through `glimpse explain`
# prints for it (build/course/young.txt, .html) and docs/explain.png, and the
# same for the shipped fashion model (build/course/fashion.txt).
COURSE := build/course
course: all
	rm -rf $(COURSE) && mkdir -p $(COURSE)
	$(BIN)/glimpse data shapes --out $(COURSE)/shapes --count 2000 --seed 7 --canvas 0 --quiet
	$(BIN)/glimpse train --data $(COURSE)/shapes --out $(COURSE)/young.glm --preset shapes --steps 600 \
		--soft-warmup 300 --val-every 0 --ckpt-every 0 --threads 1 -q
	$(BIN)/glimpse explain --model $(COURSE)/young.glm --seed 1 --png docs/explain.png \
		--html $(COURSE)/young.html $(COURSE)/shapes/images/shapes_001903.png > $(COURSE)/young.txt
	$(BIN)/glimpse data fashion --out $(COURSE)/fashion --count 30 --seed 4243 --canvas 0 --quiet
	$(BIN)/glimpse explain --model models/fashion.glm --seed 2 \
		$(COURSE)/fashion/images/fashion_000026.png > $(COURSE)/fashion.txt
	@echo "course: $(COURSE)/young.txt, $(COURSE)/young.html, $(COURSE)/fashion.txt, docs/explain.png"

# Benchmarks: bench/NAME.c becomes $(BUILD)/bench/NAME (not installed).
# Speed measurements (medians over repeated runs); not part of `make test`.
BENCH_SRC := $(wildcard bench/*.c)
BENCHES := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
.PRECIOUS: $(BUILD)/bench/%.o

$(BUILD)/bench/%.o: bench/%.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIB)
	$(CC) $(OPT) -o $@ $< $(LIB) $(LDLIBS_ALL)

# bench_metrics prints its own lines; bench/bench.sh (which runs bench_speed
# DATA MODEL) prints the table and writes bench/results.json.
bench: all $(BENCHES)
	$(BUILD)/bench/bench_metrics
	BIN=$(BIN)/glimpse bench/bench.sh $(BUILD)

# ---- bench-compare: glimpse's training step against its PyTorch twin ------
# (issue 13) tools/bench_compare.sh: a shapes data set and a starting model,
# the parity check (tools/bench_torch.py --check against glimpse-grad_dump:
# same loss, rewards and gradients), then training steps/s of glimpse and of
# PyTorch at 1 and 2 threads, median of 3 rounds, and the ratios. A few
# minutes. Installs python3-torch (tools/install-deps.sh --bench) or says SKIP.
bench-compare: all
	GLIMPSE_BIN=$(BIN) tools/bench_compare.sh
.PHONY: bench-compare

# ---- fuzzing: libFuzzer targets tests/fuzz/fuzz_NAME.c ---------------------
# Every target is built with clang (FUZZ_CC; Debian's clang 14 with the
# libFuzzer runtime of libclang-rt-14-dev) and -fsanitize=fuzzer,address,undefined
# into build/fuzz/, the library sources compiled again with those flags
# (libFuzzer steers by the coverage instrumentation; the gcc objects have
# none). tests/fuzz/stb_image_impl.c puts stb_image's decoders into the
# image target from Debian's header, built without -Werror (stb's warnings
# are not ours). Seeds: tests/fuzz/corpus/NAME/.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD := build/fuzz
FUZZ_SAN := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) -iquote src -iquote tests/fuzz \
	$(STB_FLAGS) $(BLAS_FLAGS)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_TARGETS := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_LIB := $(FUZZ_BUILD)/libglimpse.a
FUZZ_LIB_OBJ := $(LIB_SRC:src/%.c=$(FUZZ_BUILD)/src/%.o)
.PRECIOUS: $(FUZZ_BUILD)/tests/fuzz/%.o

$(FUZZ_BUILD)/src/%.o: src/%.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(WARN) -MMD -MP -c $< -o $@

$(FUZZ_BUILD)/tests/fuzz/%.o: tests/fuzz/%.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(WARN) -MMD -MP -c $< -o $@

# stb's own harmless slips are reported, not fixed here (Debian's code):
# its PSD un-matting converts an out-of-range float to a byte (a wrong pixel
# value), and a PNG whose first IDAT is empty adds 0 to a NULL pointer and
# memcpy's 0 bytes to it; neither touches memory (tests/fuzz/corpus/image/
# known-*). Those checks are off for stb so the target looks for worse.
$(FUZZ_BUILD)/tests/fuzz/stb_image_impl.o: tests/fuzz/stb_image_impl.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fno-sanitize=float-cast-overflow,pointer-overflow,nonnull-attribute -w -MMD -MP -c $< -o $@

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# A target: its file, the shared harness (tests/fuzz/fuzz.c) and the library.
$(FUZZ_BUILD)/fuzz_image: $(FUZZ_BUILD)/tests/fuzz/stb_image_impl.o
$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/tests/fuzz/fuzz_%.o $(FUZZ_BUILD)/tests/fuzz/fuzz.o $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_SAN) -g -o $@ $(filter %.o,$^) $(FUZZ_LIB) $(LDLIBS_ALL)

# Build every fuzz target and run each for FUZZ_SECONDS (default 60), one
# after another, on a copy of its seed corpus; prints per target the inputs
# run, the seconds, and what it found (the crashing input is kept under
# build/fuzz/run/NAME/). Fails if any target found a crash, leak, UBSan
# report or timeout. Not part of `make test`: clang is a test-only tool.
fuzz: $(FUZZ_TARGETS)
	tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Regenerate the binary seeds (images, model files, IDX files: gen-* under
# tests/fuzz/corpus/) with tests/fuzz/make_corpus.c; the text seeds are
# written by hand. Needed only when a format changes.
fuzz-corpus: $(BUILD)/make_corpus
	$(BUILD)/make_corpus tests/fuzz/corpus

$(BUILD)/make_corpus: $(BUILD)/tests/fuzz/make_corpus.o $(LIB)
	$(CC) $(OPT) -o $@ $< $(LIB) $(LDLIBS_ALL)

# Install the binaries and the shipped models under PREFIX.
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/glimpse/models
	install -m 755 $(BIN)/glimpse $(TOOLS) $(DESTDIR)$(PREFIX)/bin/
	for m in models/*.glm; do \
		if [ -e "$$m" ]; then install -m 644 "$$m" $(DESTDIR)$(PREFIX)/share/glimpse/models/ || exit 1; fi; \
	done

# ---- variant 3: meta-learned attention (docs/meta.md) ----------------------
# The experiment: adaptation steps to the quality bar on held-out caption
# dialects from a random init, joint multi-task training and Reptile, over 5
# seeds (tools/meta_experiment.sh; its knobs are environment variables).
# Writes build/meta/table.md and build/meta/curves.png.
meta: all
	rm -rf build/meta
	BIN=$(BIN) tools/meta_experiment.sh build/meta
.PHONY: meta
# ---- end of variant 3 --------------------------------------------------------

# Remove build outputs (not the deps stamp's packages, of course).
clean:
	rm -rf build bin

.PHONY: all deps test mutate fuzz fuzz-corpus demo models model-shapes model-fashion eval-models eval-ood ablation ablation-prior course bench install clean
.DELETE_ON_ERROR:

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(TOOL_SRC:tools/%.c=$(BUILD)/tools/%.d) $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%.d) \
	$(FUZZ_LIB_OBJ:.o=.d) $(wildcard $(FUZZ_BUILD)/tests/fuzz/*.d) $(BUILD)/tests/fuzz/make_corpus.d
