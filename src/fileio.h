/* fileio.h - the one way glimpse reads a whole file, walks its lines and
 * writes an output file.
 *
 *     char *text; size_t len;
 *     if (fileio_read(&text, &len, path, FILEIO_TEXT_MAX, &err)) return err.code;
 *     fileio_lines(text, len, on_line, ctx, &err);      // text is cut in place
 *     ... in on_line: n = fileio_fields(line, '\t', f, 4);   // a line's tab-separated fields
 *     free(text);
 *     ...
 *     fileio_write(out_path, bytes, n, &err);          // all or nothing
 *
 * Reading refuses what is not a regular file (a directory, a FIFO that would
 * block forever, a device that never ends) and files over the caller's cap,
 * before reading a byte, so a wrong path costs nothing.
 *
 * Writing is atomic where that means something: to a regular file (or a
 * path that does not exist yet) the bytes go to a temporary file in the
 * same directory, which is fsync'd, renamed over the target, and the
 * directory is fsync'd, so a crash or a full disk leaves the old file or
 * the new one, never half of it, and no temporary behind. A symbolic link
 * is followed: the link stays, its target is replaced the same way. A
 * device, FIFO or socket is never replaced: the bytes are written straight
 * through and a short write (ENOSPC on /dev/full) is an error. The path
 * "-" is standard output.
 *
 * Errors: GLM_EINPUT for a path that is wrong (missing, a directory, not a
 * regular file, too large, permission), GLM_EIO when the system fails
 * (read or write errors, a full disk), GLM_ENOMEM; the message names the
 * file and the reason.
 */
#ifndef GLIMPSE_FILEIO_H
#define GLIMPSE_FILEIO_H

#include <stddef.h>

#include "common.h"

/* Caps for the files glimpse reads whole: caption, reference, label and
 * split files (a COCO captions file is about 90 MB). */
#define FILEIO_TEXT_MAX ((size_t)1 << 30)

/* Reads the regular file path whole into a malloc'd buffer with a NUL after
 * the last byte (*len excludes it); the caller frees *out. Refuses files
 * over max bytes. */
int fileio_read(char **out, size_t *len, const char *path, size_t max, GlmError *err);

/* GLM_OK when path names a regular file, else the reason (missing, a
 * directory, a FIFO ...). For inputs another library opens (images through
 * stb, which would block on a FIFO). */
int fileio_check_regular(const char *path, GlmError *err);

/* Calls fn on each line of buf[0..len): the line is NUL-terminated in place
 * (buf is modified) without its '\n' and a trailing '\r'; n its length;
 * has_nul set when it holds a NUL byte; lineno counts from 1. Stops at, and
 * returns, the first status that is not GLM_OK. */
typedef int (*FileioLineFn)(void *ctx, char *line, size_t n, int has_nul, int lineno, GlmError *err);
int fileio_lines(char *buf, size_t len, FileioLineFn fn, void *ctx, GlmError *err);

/* Cuts line in place at each sep into at most max fields (fields[i] point
 * into line). Returns the number of fields, max + 1 when there are more
 * (fields then holds the first max, the last one cut too). */
int fileio_fields(char *line, char sep, char **fields, int max);

/* Writes data[0..len) to path as described above. */
int fileio_write(const char *path, const void *data, size_t len, GlmError *err);

#endif
