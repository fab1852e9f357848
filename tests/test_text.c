/* test_text.c - the tokenization rule of text.h. */
#include <string.h>

#include "test.h"
#include "text.h"

TEST(text_tokenize_lowercases_and_drops_punctuation)
{
    char buf[128], *toks[16];
    int n = text_tokenize("A man's  RED-shirt, 2 dogs!", buf, sizeof buf, toks, 16, NULL);
    const char *want[] = {"a", "man", "s", "red", "shirt", "2", "dogs"};
    REQUIRE(n == 7);
    for (int i = 0; i < 7; i++) CHECK(strcmp(toks[i], want[i]) == 0);
}

TEST(text_tokenize_empty_and_truncated)
{
    char buf[64], *toks[2];
    int trunc = -1;
    CHECK_EQ_INT(text_tokenize(" ,.; ", buf, sizeof buf, toks, 2, &trunc), 0);
    CHECK_EQ_INT(trunc, 0);
    CHECK_EQ_INT(text_tokenize("one two three", buf, sizeof buf, toks, 2, &trunc), 2);
    CHECK_EQ_INT(trunc, 1);
    CHECK(strcmp(toks[1], "two") == 0);
}
