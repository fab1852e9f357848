/* test_vocab.c - vocabulary ids, minimum count, <unk>, encode/decode,
 * truncation, the word-list round trip, and the hash map under growth. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "vocab.h"

TEST(vocab_ids_sorted_by_count_then_alphabet)
{
    /* Counts: a 3, b 2, c 2, d 1 ("B," and "b" are the same token). */
    const char *caps[] = {"b a a", "B, c a.", "d c"};
    Vocab v;
    GlmError err = {0};
    REQUIRE(vocab_build(&v, caps, 3, 1, &err) == GLM_OK);
    REQUIRE(vocab_size(&v) == 8);
    const char *want[] = {"<pad>", "<start>", "<end>", "<unk>", "a", "b", "c", "d"};
    for (int i = 0; i < 8; i++) CHECK(strcmp(vocab_word(&v, i), want[i]) == 0);
    CHECK_EQ_INT(v.counts[4], 3);
    CHECK_EQ_INT(v.counts[6], 2);
    CHECK_EQ_INT(vocab_id(&v, "c"), 6);
    vocab_free(&v);

    /* The same captions in another order give the same ids. */
    const char *shuffled[] = {"d c", "b a a", "B, c a."};
    REQUIRE(vocab_build(&v, shuffled, 3, 1, &err) == GLM_OK);
    REQUIRE(vocab_size(&v) == 8);
    for (int i = 0; i < 8; i++) CHECK(strcmp(vocab_word(&v, i), want[i]) == 0);
    vocab_free(&v);
}

TEST(vocab_min_count_and_unknown_words)
{
    const char *caps[] = {"red circle", "red square", "a red circle"};
    Vocab v;
    GlmError err = {0};
    REQUIRE(vocab_build(&v, caps, 3, 2, &err) == GLM_OK);
    CHECK_EQ_INT(vocab_size(&v), VOCAB_N_SPECIAL + 2); /* red 3, circle 2 */
    CHECK_EQ_INT(vocab_id(&v, "red"), 4);
    CHECK_EQ_INT(vocab_id(&v, "circle"), 5);
    CHECK_EQ_INT(vocab_id(&v, "square"), VOCAB_UNK);
    CHECK_EQ_INT(vocab_id(&v, "a"), VOCAB_UNK);
    CHECK_EQ_INT(vocab_id(&v, "never"), VOCAB_UNK);
    CHECK_EQ_INT(vocab_id(&v, "<end>"), VOCAB_END);
    vocab_free(&v);

    REQUIRE(vocab_build(&v, caps, 3, 4, &err) == GLM_OK);
    CHECK_EQ_INT(vocab_size(&v), VOCAB_N_SPECIAL);
    vocab_free(&v);
    CHECK_EQ_INT(vocab_build(&v, caps, 3, 0, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "minimum word count");
    REQUIRE(vocab_build(&v, caps, 0, 1, &err) == GLM_OK); /* no captions: specials only */
    CHECK_EQ_INT(vocab_size(&v), VOCAB_N_SPECIAL);
    vocab_free(&v);
}

TEST(vocab_encode_decode_round_trip_and_truncation)
{
    const char *caps[] = {"A small red circle, left of a blue square."};
    Vocab v;
    GlmError err = {0};
    REQUIRE(vocab_build(&v, caps, 1, 1, &err) == GLM_OK);
    int ids[16 + 2], n, cut;
    REQUIRE(vocab_encode(ids, &n, &cut, &v, caps[0], 16, &err) == GLM_OK);
    CHECK_EQ_INT(n, 9 + 2);
    CHECK_EQ_INT(cut, 0);
    CHECK_EQ_INT(ids[0], VOCAB_START);
    CHECK_EQ_INT(ids[n - 1], VOCAB_END);
    for (int i = n; i < 18; i++) CHECK_EQ_INT(ids[i], VOCAB_PAD);
    char text[128];
    size_t len = vocab_decode(text, sizeof text, &v, ids, 18);
    CHECK(strcmp(text, "a small red circle left of a blue square") == 0);
    CHECK_EQ_INT(len, strlen("a small red circle left of a blue square"));

    /* Truncation at max_words, then <end>. */
    REQUIRE(vocab_encode(ids, &n, &cut, &v, caps[0], 3, &err) == GLM_OK);
    CHECK_EQ_INT(n, 5);
    CHECK_EQ_INT(cut, 1);
    CHECK_EQ_INT(ids[4], VOCAB_END);
    vocab_decode(text, sizeof text, &v, ids, 5);
    CHECK(strcmp(text, "a small red") == 0);

    /* Unknown words come back as <unk>; decoding stops at <end>. */
    REQUIRE(vocab_encode(ids, &n, NULL, &v, "a GREEN circle", 16, &err) == GLM_OK);
    CHECK_EQ_INT(ids[2], VOCAB_UNK);
    vocab_decode(text, sizeof text, &v, ids, 18);
    CHECK(strcmp(text, "a <unk> circle") == 0);
    int tail[] = {VOCAB_START, vocab_id(&v, "red"), VOCAB_END, vocab_id(&v, "blue")};
    vocab_decode(text, sizeof text, &v, tail, 4);
    CHECK(strcmp(text, "red") == 0);

    /* A small output buffer: cut, NUL-terminated, full length returned. */
    char small[6];
    REQUIRE(vocab_encode(ids, &n, NULL, &v, "small red circle", 16, &err) == GLM_OK);
    len = vocab_decode(small, sizeof small, &v, ids, n);
    CHECK_EQ_INT(len, strlen("small red circle"));
    CHECK(strcmp(small, "small") == 0);

    /* An empty caption is just <start> <end>. */
    REQUIRE(vocab_encode(ids, &n, &cut, &v, " ... ", 4, &err) == GLM_OK);
    CHECK_EQ_INT(n, 2);
    vocab_decode(text, sizeof text, &v, ids, n);
    CHECK(strcmp(text, "") == 0);
    CHECK_EQ_INT(vocab_encode(ids, &n, &cut, &v, "a", 0, &err), GLM_EINPUT);
    vocab_free(&v);
}

TEST(vocab_encode_long_caption_and_limit)
{
    /* Longer than the stack buffers in vocab_encode (1024 bytes, 64 tokens). */
    size_t cap = 3000;
    char *s = malloc(cap);
    REQUIRE(s != NULL);
    size_t n = 0;
    for (int i = 0; i < 400 && n + 8 < cap; i++) n += (size_t)snprintf(s + n, cap - n, "w%d ", i % 7);
    Vocab v;
    GlmError err = {0};
    const char *caps[] = {s};
    REQUIRE(vocab_build(&v, caps, 1, 1, &err) == GLM_OK);
    CHECK_EQ_INT(vocab_size(&v), VOCAB_N_SPECIAL + 7);
    int *ids = malloc(sizeof(int) * 302);
    REQUIRE(ids != NULL);
    int k, cut;
    REQUIRE(vocab_encode(ids, &k, &cut, &v, s, 300, &err) == GLM_OK);
    CHECK_EQ_INT(k, 302);
    CHECK_EQ_INT(cut, 1);
    CHECK_EQ_INT(ids[1], vocab_id(&v, "w0"));
    CHECK_EQ_INT(ids[300], vocab_id(&v, "w5")); /* word 299: 299 % 7 == 5 */
    free(ids);
    free(s);
    vocab_free(&v);
}

TEST(vocab_from_words_round_trip_and_checks)
{
    const char *caps[] = {"red circle red", "blue circle red"};
    Vocab v, w;
    GlmError err = {0};
    REQUIRE(vocab_build(&v, caps, 2, 1, &err) == GLM_OK);
    REQUIRE(vocab_from_words(&w, vocab_words(&v), vocab_size(&v), &err) == GLM_OK);
    REQUIRE(vocab_size(&w) == vocab_size(&v));
    for (int i = 0; i < vocab_size(&v); i++) {
        CHECK(strcmp(vocab_word(&w, i), vocab_word(&v, i)) == 0);
        CHECK_EQ_INT(vocab_id(&w, vocab_word(&v, i)), i);
    }
    vocab_free(&w);
    vocab_free(&v);

    const char *swapped[] = {"<pad>", "<end>", "<start>", "<unk>", "red"};
    CHECK_EQ_INT(vocab_from_words(&w, swapped, 5, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "word 1 is \"<end>\", expected \"<start>\"");
    CHECK_EQ_INT(vocab_from_words(&w, swapped, 2, &err), GLM_EINPUT);
    const char *dup[] = {"<pad>", "<start>", "<end>", "<unk>", "red", "blue", "red"};
    CHECK_EQ_INT(vocab_from_words(&w, dup, 7, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "word 6 \"red\" repeats word 4");
    const char *bad[] = {"<pad>", "<start>", "<end>", "<unk>", "Red"};
    CHECK_EQ_INT(vocab_from_words(&w, bad, 5, &err), GLM_EINPUT);
    CHECK_STR_CONTAINS(err.msg, "word 4 \"Red\" is not a lowercase token");
    const char *empty[] = {"<pad>", "<start>", "<end>", "<unk>", ""};
    CHECK_EQ_INT(vocab_from_words(&w, empty, 5, &err), GLM_EINPUT);
    const char *specials[] = {"<pad>", "<start>", "<end>", "<unk>"};
    REQUIRE(vocab_from_words(&w, specials, 4, &err) == GLM_OK);
    CHECK_EQ_INT(vocab_id(&w, "red"), VOCAB_UNK);
    vocab_free(&w);
}

TEST(vocab_strmap_survives_growth)
{
    /* 5000 keys force many rehashes; every key must still find its value. */
    StrMap m;
    strmap_init(&m);
    char key[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "k%d", i * 7919);
        REQUIRE(strmap_put(&m, key, i, NULL) == GLM_OK);
    }
    CHECK_EQ_INT(m.n, 5000);
    int bad = 0;
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "k%d", i * 7919);
        bad += strmap_get(&m, key) != i;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(strmap_get(&m, "k1"), -1);
    const char *stored;
    REQUIRE(strmap_put(&m, "k0", 42, &stored) == GLM_OK); /* replaces */
    CHECK_EQ_INT(strmap_get(&m, "k0"), 42);
    CHECK_EQ_INT(m.n, 5000);
    CHECK(strcmp(stored, "k0") == 0);
    strmap_free(&m);
    CHECK_EQ_INT(strmap_get(&m, "k0"), -1);
}
