#!/usr/bin/env python3
"""ood_fashion.py - Fashion-MNIST test photos on plain canvases, at both
polarities, with a labels file, to measure a fashion model on pictures
glimpse did not compose.

    tools/ood_fashion.py --out DIR [--count 400] [--seed 9302]
                         [--fashion-dir /usr/share/datasets/fashion-mnist]

Writes DIR/images/ood_fashion_NNNNNN.{png,pgm}, DIR/labels.tsv (every
picture), DIR/labels-stored.tsv and DIR/labels-inverted.tsv
(docs/labels-format.md), for `glimpse eval --labels FILE --images DIR/images`.
The same seed gives the same bytes.

Photos: only the *test* split (t10k-images-idx3-ubyte.gz and its labels, from
Debian's dataset-fashion-mnist, where glimpse's FASHION_DEFAULT_DIR looks),
never the training photos any model learned from. The IDX files are checked
(magic, counts, 28x28, labels 0..9).

Each picture:
  - canvas: 96x96, 112x112, 128x128, 128x96, 96x128, 120x90 or 90x120;
  - polarity (picture i: stored when i is even, inverted when odd):
      stored    as the IDX file holds it: a light item on black (the photo's
                own values on a 0 canvas);
      inverted  a dark item on white or light grey L (200..240): the photo
                value v as ink coverage, L - v * L / 255 (so 255 - v on white);
  - 1-3 photos (equally likely) of distinct classes, at their own 28x28 size,
    at random integer positions; their boxes 3 px apart and 3 px inside the
    border, no two centres near a diagonal (tools/ood_lib.py);
  - words: the class as glimpse's lexicon names it (top, trouser, pullover,
    dress, coat, sandal, shirt, sneaker, bag, boot);
  - box: tight around the item (photo pixels >= 32, as the generator's
    boxes), x1 and y1 exclusive;
  - file: 8-bit grey PNG (written here with zlib), or binary PGM for a third
    of the pictures.

Python 3 standard library only. Exit status: 0 ok, 1 the photos cannot be
read, 2 bad usage.
"""

import gzip
import os
import random
import struct
import sys
import zlib

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ood_lib  # noqa: E402

SIDE = 28
CLASSES = ("top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot")
CANVASES = ((96, 96), (112, 112), (128, 128), (128, 96), (96, 128), (120, 90), (90, 120))
INK_MIN = 32      # a photo pixel belongs to the item from this value on (src/scene_draw.c: FASHION_INK_MIN)
PAD = GAP = 3     # pixels: between boxes, and from the border
PGM_FRACTION = 1.0 / 3.0


def fail(msg):
    sys.stderr.write("ood_fashion.py: %s\n" % msg)
    sys.exit(1)


def read_idx(path, magic, dims):
    """The payload of a gzip'd IDX file, checked: (count, bytes)."""
    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        fail("%s: %s (Debian package dataset-fashion-mnist)" % (path, e.strerror or e))
    head = 4 + 4 * (1 + len(dims))
    if len(data) < head or struct.unpack(">I", data[:4])[0] != magic:
        fail("%s: not an IDX file with magic 0x%08x" % (path, magic))
    shape = struct.unpack(">%dI" % (1 + len(dims)), data[4:head])
    if tuple(shape[1:]) != dims:
        fail("%s: items are %s, want %s" % (path, shape[1:], dims))
    size = 1
    for d in dims:
        size *= d
    if len(data) != head + shape[0] * size:
        fail("%s: %d bytes, want %d for %d items" % (path, len(data), head + shape[0] * size, shape[0]))
    return shape[0], data[head:]


def load_test_split(directory):
    """The t10k photos (count, 28*28 bytes each) and labels."""
    n, pixels = read_idx(os.path.join(directory, "t10k-images-idx3-ubyte.gz"), 0x803, (SIDE, SIDE))
    m, labels = read_idx(os.path.join(directory, "t10k-labels-idx1-ubyte.gz"), 0x801, ())
    if n != m:
        fail("%s: %d test photos but %d labels" % (directory, n, m))
    if any(c >= len(CLASSES) for c in labels):
        fail("%s: a test label is not 0..9" % directory)
    return n, pixels, labels


def tight_box(photo):
    """The item's pixels (>= INK_MIN) in the photo, or the whole square."""
    rows = [y for y in range(SIDE) if max(photo[y * SIDE:(y + 1) * SIDE]) >= INK_MIN]
    cols = [x for x in range(SIDE) if max(photo[x::SIDE]) >= INK_MIN]
    if not rows:
        return (0, 0, SIDE, SIDE)
    return (cols[0], rows[0], cols[-1] + 1, rows[-1] + 1)


def png_grey(w, h, pixels):
    """An 8-bit grey PNG of pixels (h rows of w bytes), unfiltered rows."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    raw = b"".join(b"\x00" + bytes(pixels[y * w:(y + 1) * w]) for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def pgm(w, h, pixels):
    return b"P5\n%d %d\n255\n" % (w, h) + bytes(pixels)


def make_picture(rng, i, n_photos, pixels, labels):
    """(polarity, width, height, grey pixels, objects)."""
    polarity = "stored" if i % 2 == 0 else "inverted"
    w, h = rng.choice(CANVASES)
    n = rng.randint(1, 3)
    while True:
        photos, seen = [], set()
        while len(photos) < n:
            k = rng.randrange(n_photos)
            if labels[k] not in seen:
                seen.add(labels[k])
                photos.append(k)
        tight = [tight_box(pixels[k * SIDE * SIDE:(k + 1) * SIDE * SIDE]) for k in photos]
        # The layout is of the tight boxes; each photo's square goes where its box lands.
        sides = [(t[2] - t[0], t[3] - t[1]) for t in tight]
        spots = ood_lib.place(rng, w, h, sides, lambda x, y, sw, sh: (int(x), int(y), int(x) + sw, int(y) + sh),
                              PAD, GAP)
        if spots:
            break
    bg = 0 if polarity == "stored" else (255 if rng.random() < 0.5 else rng.randint(200, 240))
    canvas = bytearray([bg]) * (w * h)
    objs = []
    for k, t, (_, _, box) in zip(photos, tight, spots):
        photo = pixels[k * SIDE * SIDE:(k + 1) * SIDE * SIDE]
        ox, oy = box[0] - t[0], box[1] - t[1]   # where the photo's square starts
        for y in range(SIDE):
            for x in range(SIDE):
                cx, cy = ox + x, oy + y
                if 0 <= cx < w and 0 <= cy < h:
                    v = photo[y * SIDE + x]
                    if polarity == "stored":
                        canvas[cy * w + cx] = max(canvas[cy * w + cx], v)
                    elif v:
                        canvas[cy * w + cx] = min(canvas[cy * w + cx], bg - (v * bg + 127) // 255)
        objs.append((CLASSES[labels[k]], box))
    return polarity, w, h, canvas, objs


def main():
    ap = ood_lib.arg_parser("Fashion-MNIST test photos on plain canvases at both polarities, with labels files "
                            "for glimpse eval --labels.",
                            "Exit status: 0 ok, 1 the photos cannot be read, 2 bad usage.", 400, 9302)
    ap.add_argument("--fashion-dir", default="/usr/share/datasets/fashion-mnist",
                    help="where t10k-*-idx*-ubyte.gz are (default /usr/share/datasets/fashion-mnist)")
    a = ood_lib.parse_args(ap)
    n_photos, pixels, labels = load_test_split(a.fashion_dir)
    rng = random.Random(a.seed)
    pictures = {"stored": [], "inverted": []}
    with ood_lib.OutputDir(a.out) as tmp:
        os.mkdir(os.path.join(tmp, "images"))
        for i in range(a.count):
            polarity, w, h, canvas, objs = make_picture(rng, i, n_photos, pixels, labels)
            if rng.random() < PGM_FRACTION:
                name, data = "ood_fashion_%06d.pgm" % i, pgm(w, h, canvas)
            else:
                name, data = "ood_fashion_%06d.png" % i, png_grey(w, h, canvas)
            with open(os.path.join(tmp, "images", name), "wb") as f:
                f.write(data)
            pictures[polarity].append((name, objs))
        head = ["tools/ood_fashion.py --seed %d --count %d (Fashion-MNIST t10k photos)" % (a.seed, a.count)]
        ood_lib.write_labels(tmp, head, "polarity", pictures)
    ood_lib.summary("fashion pictures", a, pictures)


if __name__ == "__main__":
    main()
