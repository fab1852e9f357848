/* stb_image_impl.c - stb_image's decoders compiled into the image fuzz
 * target, from Debian's /usr/include/stb/stb_image.h (libstb-dev; never a
 * copy in this tree), so libFuzzer's coverage and ASan reach inside them.
 * The library and the glimpse binary use libstb.so instead, built by
 * Debian from this same header; these definitions take its place in the
 * fuzz target only. Warnings are stb's business, so the Makefile builds
 * this file without -Werror.
 */
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>
