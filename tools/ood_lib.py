"""ood_lib.py - what tools/ood_shapes.py and tools/ood_fashion.py share: the
scene language's rules for where objects may go, the labels file they write
(docs/labels-format.md), and writing a set into its directory all or nothing.

Layout rules (the generators' rules of src/scene_draw.c, made stricter
because these pictures are not square and a model may stretch them):
boxes keep a gap between them and from the border, and no two box centres
sit near a diagonal of each other, neither in the picture's pixels nor once
the picture is stretched to a square, so every relation the references
state ("left of", "above") is clearly true however the picture is read.
The relation itself is glimpse's (src/scenes.c: scene_relation), on the
same integer boxes, so the references glimpse writes from the labels say
exactly what a person sees.

Python 3 standard library only. Not a program: imported by the two tools.
"""

import argparse
import os
import shutil
import sys
import tempfile

# Fraction of the shorter side (in pixels) and of the unit square (stretched)
# by which | |dx| - |dy| | must clear the diagonal: 0.10 is about 6 degrees
# either side of it at typical distances, a little more than the
# generators' 0.08 of a square canvas.
DIAG_MARGIN = 0.10


def relation(a, b):
    """glimpse's scene_relation on boxes (x0, y0, x1, y1): 'left', 'right',
    'above', 'below' or None, from doubled centres (integers)."""
    dx = (b[0] + b[2]) - (a[0] + a[2])
    dy = (b[1] + b[3]) - (a[1] + a[3])
    if abs(dx) > abs(dy):
        return "left" if dx > 0 else "right"
    if abs(dy) > abs(dx):
        return "above" if dy > 0 else "below"
    return None


def clear_of_diagonal(a, b, w, h):
    """True when boxes a and b are clear of each other's diagonals, both in
    pixels (margin DIAG_MARGIN of the shorter side) and stretched to a
    square (DIAG_MARGIN of its side)."""
    dx = abs((b[0] + b[2]) - (a[0] + a[2])) / 2.0
    dy = abs((b[1] + b[3]) - (a[1] + a[3])) / 2.0
    if abs(dx - dy) < DIAG_MARGIN * min(w, h):
        return False
    return abs(dx / w - dy / h) >= DIAG_MARGIN


def apart(a, b, gap):
    """True when boxes a and b are at least gap pixels apart on some axis."""
    return a[2] + gap <= b[0] or b[2] + gap <= a[0] or a[3] + gap <= b[1] or b[3] + gap <= a[1]


def place(rng, w, h, sides, box_of, pad, gap, tries=400):
    """Positions for objects of the given sides ((sw, sh) each) on a w x h
    canvas, or None when no layout was found in `tries` attempts.

    box_of(x, y, sw, sh) gives an object's integer pixel box when its
    top-left corner is at (x, y) (floats). Objects keep `pad` pixels from
    the border and `gap` from each other, and pairs are clear of diagonals.
    Returns [(x, y, box), ...] in the order of sides."""
    for _ in range(tries):
        out = []
        for sw, sh in sides:
            if w - 2 * pad - sw <= 0 or h - 2 * pad - sh <= 0:
                return None
            x = pad + rng.random() * (w - 2 * pad - sw)
            y = pad + rng.random() * (h - 2 * pad - sh)
            box = box_of(x, y, sw, sh)
            if not all(apart(box, o[2], gap) and clear_of_diagonal(box, o[2], w, h) for o in out):
                break
            out.append((x, y, box))
        if len(out) == len(sides):
            assert all(relation(p[2], q[2]) for p in out for q in out if p is not q)
            return out
    return None


def arg_parser(description, epilog, count, seed):
    """The options both tools take: --out, --count, --seed, --quiet."""
    ap = argparse.ArgumentParser(description=description, epilog=epilog)
    ap.add_argument("--out", required=True, help="output directory (must not exist, or be empty)")
    ap.add_argument("--count", type=int, default=count, help="pictures (default %d)" % count)
    ap.add_argument("--seed", type=int, default=seed, help="random seed (default %d)" % seed)
    ap.add_argument("--quiet", action="store_true", help="no summary line")
    return ap


def parse_args(ap):
    a = ap.parse_args()
    if not 1 <= a.count <= 1000000:
        ap.error("--count: %d is not in [1, 1000000]" % a.count)
    return a


def write_labels(directory, header, kind, groups):
    """DIR/labels.tsv with every picture and DIR/labels-NAME.tsv per group.
    groups: {NAME: [(picture name, [(words, box), ...]), ...]}, in order;
    kind names what the groups are ("polarity") in each file's header."""
    every = sorted(p for g in groups.values() for p in g)
    write_text(os.path.join(directory, "labels.tsv"), labels_text(header + ["every %s" % kind], every))
    for name, pictures in groups.items():
        write_text(os.path.join(directory, "labels-%s.tsv" % name),
                   labels_text(header + ["%s: %s" % (kind, name)], pictures))


def summary(what, a, groups):
    """The line a tool prints when done (unless --quiet)."""
    if not a.quiet:
        print("wrote %d %s to %s (%s; seed %d)" % (
            a.count, what, a.out, ", ".join("%s %d" % (g, len(p)) for g, p in groups.items()), a.seed))


def labels_text(header, pictures):
    """A labels file: comment lines from header (a list of strings), then
    one line per object. pictures: [(name, [(words, box), ...]), ...]."""
    lines = ["# " + h for h in header]
    lines.append("# IMAGE\tWORDS\tx0 y0 x1 y1   (box in the picture's pixels, x1 and y1 exclusive)")
    for name, objs in pictures:
        for words, box in objs:
            lines.append("%s\t%s\t%d %d %d %d" % ((name, words) + tuple(box)))
    return "\n".join(lines) + "\n"


class OutputDir:
    """A set written into DIR.tmp-XXXXXX, renamed to DIR only once complete
    (as glimpse writes its data sets): DIR is absent or whole, never half
    written. DIR must not exist, or be an empty directory.

        with OutputDir(path) as tmp:   # tmp: the directory to write into
            ...
    """

    def __init__(self, path):
        self.path = path.rstrip("/") or "/"
        if os.path.exists(self.path) and not (os.path.isdir(self.path) and not os.listdir(self.path)):
            sys.stderr.write("%s: %s exists and is not an empty directory\n" % (os.path.basename(sys.argv[0]), self.path))
            sys.exit(2)
        parent = os.path.dirname(os.path.abspath(self.path))
        self.tmp = tempfile.mkdtemp(prefix=os.path.basename(self.path) + ".tmp-", dir=parent)

    def __enter__(self):
        return self.tmp

    def __exit__(self, kind, value, tb):
        if kind is None:
            if os.path.isdir(self.path):
                os.rmdir(self.path)
            os.rename(self.tmp, self.path)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return False


def write_text(path, text):
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write(text)
