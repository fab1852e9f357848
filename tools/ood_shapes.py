#!/usr/bin/env python3
"""ood_shapes.py - shape scenes drawn by another program (ImageMagick), with
a labels file, to measure a shapes model on pictures glimpse did not draw.

    tools/ood_shapes.py --out DIR [--count 500] [--seed 9301] [--convert /usr/bin/convert]

Writes DIR/images/ood_shapes_NNNNNN.{png,jpg}, DIR/labels.tsv (every
picture) and one labels file per background family, DIR/labels-FAMILY.tsv
(docs/labels-format.md), for `glimpse eval --labels FILE --images DIR/images`.
The same seed gives the same labels and, with the same ImageMagick, the same
pictures.

Each picture (the scene language of src/scenes.h, drawn as src/scene_draw.c
draws it, but by ImageMagick and on other canvases):
  - canvas: the shorter side 96..225 px, aspect 1, 5:4 or 4:3, either
    orientation (96x128 .. 300x225);
  - background, by family (picture i gets family i mod 5):
      light     white, or light grey 205..240
      pale      a pale colour (saturation 0.12..0.30, value 0.88..1)
      gradient  a linear gradient at a random angle between a light colour
                and a mid grey, a dark colour or a pale one
      noise     a light grey or pale base with Gaussian noise (colour or grey)
      dark      near black (0..25), dark grey (35..80) or a dark colour
  - 1-3 objects (equally likely), no two with the same words, each a size
    (small, large), a colour (red, green, blue, yellow, purple, orange: the
    RGB values of scene_draw.c, jittered by up to 6 per channel) and a shape:
    circle, square, triangle (apex up, base and height the side), cross (a
    plus sign, arms a third of the side thick);
  - sides: small 12/64 and large 20/64 of sqrt(width x height) (the side of
    the square canvas of the same area; the generator's 12 and 20 px at 64),
    each jittered by up to 5 %, so the two sizes never meet;
  - layout: boxes 4 % of that side apart and 4 % of the shorter side inside
    the border, no two centres near a diagonal (tools/ood_lib.py); an
    object's colour is at least RGB distance 90 from the background under it;
  - file: JPEG at quality 50..95 for 40 % of the pictures, else PNG
    (whatever PNG type ImageMagick picks: palette, grey or RGB).

Boxes are the pixels the shape covers at all (ImageMagick anti-aliases),
x1 and y1 exclusive, as in objects.tsv.

Runs ImageMagick's convert by its full path (--convert, default
/usr/bin/convert, Debian package imagemagick) and checks that it is the real
program, not a wrapper found earlier on PATH. Python 3 standard library only.
Exit status: 0 ok, 1 convert failed or is missing, 2 bad usage.
"""

import colorsys
import math
import os
import random
import subprocess
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ood_lib  # noqa: E402

# src/scene_draw.c: colour_rgb, in scene_colour_word order.
COLOURS = {
    "red": (220, 36, 36),
    "green": (40, 160, 60),
    "blue": (40, 96, 220),
    "yellow": (236, 212, 40),
    "purple": (156, 48, 170),
    "orange": (240, 150, 32),
}
SHAPES = ("circle", "square", "triangle", "cross")
SIZES = {"small": 12.0 / 64.0, "large": 20.0 / 64.0}   # of sqrt(w * h)
FAMILIES = ("light", "pale", "gradient", "noise", "dark")
MIN_CONTRAST = 90.0    # RGB distance between an object's colour and the background under it
JPEG_FRACTION = 0.4


def find_convert(path):
    """path, checked to be ImageMagick's own convert; exits 1 if not."""
    real = os.path.realpath(path)
    try:
        with open(real, "rb") as f:
            elf = f.read(4) == b"\x7fELF"
        out = subprocess.run([path, "-version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as e:
        sys.exit("ood_shapes.py: %s: %s (install ImageMagick: apt-get install imagemagick, "
                 "or tools/install-deps.sh --test)" % (path, e.strerror if isinstance(e, OSError) else e))
    if not elf or "ImageMagick" not in out:
        sys.exit("ood_shapes.py: %s (%s) is not ImageMagick's convert program" % (path, real))
    return path, out.splitlines()[0].replace("Version: ", "")


def rgb_text(c):
    return "rgb(%d,%d,%d)" % tuple(int(round(v)) for v in c)


def hsv(h, s, v):
    return tuple(255.0 * x for x in colorsys.hsv_to_rgb(h, s, v))


def grey(g):
    return (g, g, g)


def background(rng, family, seed):
    """(convert arguments that make the canvas, colours the background takes)."""
    if family == "light":
        c = (255, 255, 255) if rng.random() < 0.5 else grey(rng.randint(205, 240))
        return ["xc:" + rgb_text(c)], [c]
    if family == "pale":
        c = hsv(rng.random(), rng.uniform(0.12, 0.30), rng.uniform(0.88, 1.0))
        return ["xc:" + rgb_text(c)], [c]
    if family == "dark":
        kind = rng.randrange(3)
        c = (grey(rng.randint(0, 25)) if kind == 0 else grey(rng.randint(35, 80)) if kind == 1
             else hsv(rng.random(), rng.uniform(0.4, 0.9), rng.uniform(0.15, 0.35)))
        return ["xc:" + rgb_text(c)], [c]
    if family == "gradient":
        a = hsv(rng.random(), rng.uniform(0.0, 0.25), rng.uniform(0.85, 1.0))
        kind = rng.randrange(3)
        b = (grey(rng.randint(100, 160)) if kind == 0
             else hsv(rng.random(), rng.uniform(0.3, 0.8), rng.uniform(0.2, 0.4)) if kind == 1
             else hsv(rng.random(), rng.uniform(0.1, 0.3), rng.uniform(0.85, 1.0)))
        if rng.random() < 0.5:
            a, b = b, a
        angle = rng.randrange(360)
        along = [tuple(a[k] + t * (b[k] - a[k]) for k in range(3)) for t in (0, 0.25, 0.5, 0.75, 1)]
        return ["-define", "gradient:angle=%d" % angle, "gradient:%s-%s" % (rgb_text(a), rgb_text(b))], along
    assert family == "noise"
    c = grey(rng.randint(160, 230)) if rng.random() < 0.5 else hsv(rng.random(), rng.uniform(0.1, 0.3),
                                                                    rng.uniform(0.7, 0.9))
    args = ["xc:" + rgb_text(c), "-seed", str(seed), "-attenuate", "%.2f" % rng.uniform(0.6, 1.6),
            "+noise", "Gaussian"]
    if rng.random() < 0.5:   # grey noise: the same on every channel (saturation 0)
        args += ["-modulate", "100,0"]
    return args, [c]


def box_of(x, y, sw, sh):
    """The pixels a shape with top-left corner (x, y) and side sw covers."""
    return (int(math.floor(x)), int(math.floor(y)), int(math.ceil(x + sw)), int(math.ceil(y + sh)))


def draw_primitive(shape, x, y, s):
    """An ImageMagick -draw primitive for the shape covering [x, x+s] x [y, y+s].

    ImageMagick puts pixel centres at integer coordinates and fills half a
    pixel beyond a polygon's outline, so the outline is drawn 0.5 px inside
    (side s - 1) and shifted by -0.5."""
    cx, cy, h = x + s / 2.0 - 0.5, y + s / 2.0 - 0.5, (s - 1.0) / 2.0
    pts = []
    if shape == "circle":
        return "circle %.2f,%.2f %.2f,%.2f" % (cx, cy, cx + h, cy)
    if shape == "square":
        pts = [(-h, -h), (h, -h), (h, h), (-h, h)]
    elif shape == "triangle":   # apex up
        pts = [(0, -h), (h, h), (-h, h)]
    else:                       # a plus sign, arms a third of the side thick
        t = h / 3.0
        pts = [(-t, -h), (t, -h), (t, -t), (h, -t), (h, t), (t, t), (t, h), (-t, h), (-t, t), (-h, t),
               (-h, -t), (-t, -t)]
    return "polygon " + " ".join("%.2f,%.2f" % (cx + u, cy + v) for u, v in pts)


def canvas(rng):
    short = rng.randint(96, 225)
    aspect = rng.choice((1.0, 1.25, 4.0 / 3.0))
    long_ = min(300, int(round(short * aspect)))
    return (long_, short) if rng.random() < 0.5 else (short, long_)


def contrast(c, colours):
    return min(math.dist(c, b) for b in colours)


def make_picture(rng, i, seed):
    """(family, width, height, convert arguments before the file, objects)."""
    family = FAMILIES[i % len(FAMILIES)]
    w, h = canvas(rng)
    bg_args, bg_colours = background(rng, family, seed * 100003 + i)
    ref = math.sqrt(w * h)
    n = rng.randint(1, 3)
    while True:
        specs = []
        while len(specs) < n:
            size, colour, shape = rng.choice(list(SIZES)), rng.choice(list(COLOURS)), rng.choice(SHAPES)
            words = "%s %s %s" % (size, colour, shape)
            if any(s[0] == words for s in specs) or contrast(COLOURS[colour], bg_colours) < MIN_CONTRAST:
                continue
            specs.append((words, colour, shape, SIZES[size] * ref * rng.uniform(0.95, 1.05)))
        spots = ood_lib.place(rng, w, h, [(s[3], s[3]) for s in specs], box_of, 0.04 * min(w, h), 0.04 * ref)
        if spots:
            break
    args = ["-size", "%dx%d" % (w, h)] + bg_args + ["-stroke", "none"]
    objs = []
    for (words, colour, shape, side), (x, y, box) in zip(specs, spots):
        col = tuple(min(255, max(0, v + rng.randint(-6, 6))) for v in COLOURS[colour])
        args += ["-fill", rgb_text(col), "-draw", draw_primitive(shape, x, y, side)]
        objs.append((words, box))
    return family, w, h, args, objs


def main():
    ap = ood_lib.arg_parser("Shape scenes drawn by ImageMagick, with labels files for glimpse eval --labels.",
                            "Exit status: 0 ok, 1 convert failed or is missing, 2 bad usage.", 500, 9301)
    ap.add_argument("--convert", default="/usr/bin/convert",
                    help="ImageMagick's convert, by full path (default /usr/bin/convert)")
    a = ood_lib.parse_args(ap)
    convert, version = find_convert(a.convert)
    rng = random.Random(a.seed)
    pictures = {f: [] for f in FAMILIES}
    with ood_lib.OutputDir(a.out) as tmp:
        os.mkdir(os.path.join(tmp, "images"))
        for i in range(a.count):
            family, w, h, args, objs = make_picture(rng, i, a.seed)
            if rng.random() < JPEG_FRACTION:
                # TrueColor: a picture that starts grey would be saved as a grey JPEG
                name, fmt = "ood_shapes_%06d.jpg" % i, ["-type", "TrueColor", "-quality", str(rng.randint(50, 95))]
            else:
                name, fmt = "ood_shapes_%06d.png" % i, []
            cmd = [convert] + args + ["-alpha", "off", "-strip"] + fmt + [os.path.join(tmp, "images", name)]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit("ood_shapes.py: convert failed on %s: %s" % (name, r.stderr.strip()))
            pictures[family].append((name, objs))
        head = ["tools/ood_shapes.py --seed %d --count %d (%s)" % (a.seed, a.count, version)]
        ood_lib.write_labels(tmp, head, "background family", pictures)
    ood_lib.summary("shape pictures", a, pictures)


if __name__ == "__main__":
    main()
