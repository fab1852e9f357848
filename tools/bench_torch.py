#!/usr/bin/python3
"""bench_torch.py - glimpse's hard-attention training step written in PyTorch,
checked against glimpse, then timed beside it (project issue 13).

    bench_torch.py --check --model M.glm --data DATA.glm --dump DUMP.glm
    bench_torch.py --bench --model M.glm --data DATA.glm [--steps N] [--threads 1,2]

The model is Xu et al. 2015 as src/model.h, src/step.h and src/decoder.h
write it, in the modules a PyTorch user reaches for (nn.Linear, nn.Embedding,
nn.LSTMCell, autograd, torch.optim.Adam):

    a_i    = tanh(proj x_i)                     h_0, c_0 = tanh(init_{h,c} mean_i a_i)
    e_ti   = att_w . tanh(att_Wa a_i + att_Ua h_{t-1})   alpha_t = softmax(e_t)
    z_t    = a_{s_t}                            (hard: one region per word)
    h_t, c_t = LSTMCell([E y_{t-1}; z_t], (h_{t-1}, c_{t-1}))
    p(y_t) = softmax(out_Lo(E y_{t-1} + out_Lh h_t + out_Lz z_t))

glimpse's LSTM rows are gates i, f, o, g; nn.LSTMCell's are i, f, g, o, so the
loader permutes the blocks; nn.LSTMCell's second bias (bias_hh) is held at 0
and frozen, glimpse has one bias. One training step (src/train.c, hard
attention after the soft warm-up):
  1. cross-entropy of the reference with s_t ~ alpha_t, per token, minus
     entropy * H(alpha_t) per token;
  2. REINFORCE: a greedy decode (argmax regions and words) gives the baseline
     b, a rollout (sampled regions, argmax words) the reward r, both CIDEr-D
     against all of the image's references with the training set's document
     frequencies; loss -sum_b rl_weight (r_b - b_b) / B sum_t log alpha_t(s_t).
     glimpse decodes the rollout without gradients and replays it teacher-forced
     on its own words and regions; here the rollout keeps its graph, which is
     the same function of the parameters (and what a PyTorch user writes);
  3. global gradient-norm clipping at 5, Adam (lr warm-up and decay as
     train_lr_at).

--check loads parameters and data exported by glimpse (glimpse-grad_dump),
replays glimpse's step on the same batch with the same given regions and the
same rollout, and compares losses, rewards, every gradient tensor and the
parameters after the Adam step; exit 1 if any is over the tolerance.
--bench times training steps/s at each --threads count (median, min, max).

The CIDEr-D reward reuses tools/metrics_reference.py (the project's
independent reference): its n-gram counter, and, under --check, its cider_d
to confirm the cached scorer used per step gives the same values.
"""

import argparse
import ctypes
import math
import os
import statistics
import struct
import sys
import time
import types
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as Fn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
try:
    import nltk.translate.bleu_score  # noqa: F401 (metrics_reference imports it at the top)
except ImportError:
    # metrics_reference.py imports NLTK for its BLEU values; CIDEr-D, the only
    # part used here, does not need it. Without python3-nltk the import is
    # satisfied by a stand-in whose functions refuse to run.
    def _no_nltk(*a, **k):
        raise RuntimeError("NLTK (python3-nltk) is not installed")
    for name in ("nltk", "nltk.translate"):
        sys.modules.setdefault(name, types.ModuleType(name))
    stub = types.ModuleType("nltk.translate.bleu_score")
    stub.SmoothingFunction = stub.corpus_bleu = stub.sentence_bleu = _no_nltk
    sys.modules["nltk.translate.bleu_score"] = stub
import metrics_reference  # noqa: E402

PAD, START, END = 0, 1, 2

# ---- the model-file container (docs/model-format.md) ----------------------


def read_glm(path):
    """Returns (settings dict, words list, tensors dict of float32 arrays)."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 32 or raw[:8] != b"GLMPSE\r\n":
        sys.exit("bench_torch: %s: not a glimpse model file" % path)
    version, _flags, crc, size, zsize = struct.unpack_from("<IIIIQ", raw, 8)
    if version != 1 or len(raw) != 32 + zsize or zlib.crc32(raw[32:]) != crc:
        sys.exit("bench_torch: %s: bad version, size or CRC" % path)
    p = zlib.decompress(raw[32:])
    if len(p) != size:
        sys.exit("bench_torch: %s: payload size" % path)
    off = 0

    def u32():
        nonlocal off
        v = struct.unpack_from("<I", p, off)[0]
        off += 4
        return v

    def string():
        nonlocal off
        n = struct.unpack_from("<H", p, off)[0]
        s = p[off + 2:off + 2 + n].decode()
        off += 2 + n
        return s

    settings, words, tensors = {}, [], {}
    for _ in range(u32()):
        k = string()
        settings[k] = struct.unpack_from("<q", p, off)[0]
        off += 8
    for _ in range(u32()):
        words.append(string())
    for _ in range(u32()):
        name = string()
        dims = [u32() for _ in range(u32())]
        n = int(np.prod(dims))
        tensors[name] = np.frombuffer(p, dtype="<f4", count=n, offset=off).reshape(dims).copy()
        off += 4 * n
    return settings, words, tensors


# ---- the model ------------------------------------------------------------


class Captioner(nn.Module):
    def __init__(self, F, D, H, E, A, V, init_mean=True):
        super().__init__()
        self.sizes = dict(F=F, D=D, H=H, E=E, A=A, V=V)
        self.init_mean = init_mean
        self.proj = nn.Linear(F, D)
        self.init_h = nn.Linear(D, H)
        self.init_c = nn.Linear(D, H)
        self.embed = nn.Embedding(V, E)
        self.att_Wa = nn.Linear(D, A)              # its bias is glimpse's att_b
        self.att_Ua = nn.Linear(H, A, bias=False)
        self.att_w = nn.Linear(A, 1, bias=False)
        self.lstm = nn.LSTMCell(E + D, H)
        self.out_Lh = nn.Linear(H, E, bias=False)
        self.out_Lz = nn.Linear(D, E, bias=False)
        self.out_Lo = nn.Linear(E, V)              # its bias is glimpse's out_b
        with torch.no_grad():
            self.lstm.bias_hh.zero_()
        self.lstm.bias_hh.requires_grad_(False)

    def start(self, x):
        """a (B, L, D), wa (B, L, A), h0, c0 (B, H) from x (B, L, F)."""
        a = torch.tanh(self.proj(x))
        mean = a.mean(1) if self.init_mean else a.new_zeros(a.shape[0], a.shape[2])
        return a, self.att_Wa(a), torch.tanh(self.init_h(mean)), torch.tanh(self.init_c(mean))

    def attend(self, wa, h):
        """log alpha_t (B, L) from h_{t-1}."""
        e = self.att_w(torch.tanh(wa + self.att_Ua(h).unsqueeze(1))).squeeze(-1)
        return Fn.log_softmax(e, dim=-1)

    def logits(self, emb, h, z):
        return self.out_Lo(emb + self.out_Lh(h) + self.out_Lz(z))


# glimpse tensor name -> (torch parameter, how to map). LSTM rows: glimpse
# i, f, o, g -> torch i, f, g, o.
def lstm_perm(H):
    return np.concatenate([np.arange(0, H), np.arange(H, 2 * H), np.arange(3 * H, 4 * H), np.arange(2 * H, 3 * H)])


def param_map(m):
    H = m.sizes["H"]
    perm = lstm_perm(H)
    ident = lambda v: v  # noqa: E731
    rows = lambda v: v[perm]  # noqa: E731
    return {
        "proj_W": (m.proj.weight, ident), "proj_b": (m.proj.bias, ident),
        "init_h_W": (m.init_h.weight, ident), "init_h_b": (m.init_h.bias, ident),
        "init_c_W": (m.init_c.weight, ident), "init_c_b": (m.init_c.bias, ident),
        "embed": (m.embed.weight, ident),
        "att_Wa": (m.att_Wa.weight, ident), "att_b": (m.att_Wa.bias, ident),
        "att_Ua": (m.att_Ua.weight, ident), "att_w": (m.att_w.weight, lambda v: v.reshape(1, -1)),
        "lstm_Wx": (m.lstm.weight_ih, rows), "lstm_Wh": (m.lstm.weight_hh, rows), "lstm_b": (m.lstm.bias_ih, rows),
        "out_Lh": (m.out_Lh.weight, ident), "out_Lz": (m.out_Lz.weight, ident),
        "out_Lo": (m.out_Lo.weight, ident), "out_b": (m.out_Lo.bias, ident),
    }


# glimpse tensors with no counterpart in a hard-attention model: the soft gate.
UNUSED_IN_HARD = ("gate_W", "gate_b")


def load_model(path):
    s, words, t = read_glm(path)
    if s["model.attention"] != 0:
        sys.exit("bench_torch: %s: not a hard-attention model" % path)
    m = Captioner(t["proj_W"].shape[1], s["model.proj"], s["model.hidden"], s["model.embed"], s["model.att"],
                  s["model.vocab"], bool(s["model.init_mean"]))
    with torch.no_grad():
        for name, (p, f) in param_map(m).items():
            v = torch.from_numpy(f(t[name]).copy())
            if v.shape != p.shape:
                sys.exit("bench_torch: %s: %s has shape %s, expected %s" % (path, name, tuple(v.shape), tuple(p.shape)))
            p.copy_(v)
    return m, s["model.max_len"], t


# ---- the data set as glimpse trains on it (glimpse-grad_dump export) ------


class Data:
    def __init__(self, path, L, F):
        _, _, t = read_glm(path)
        if int(t["regions"][0]) != L or int(t["dim"][0]) != F:
            sys.exit("bench_torch: %s: %d regions of %d, the model has %d of %d" %
                     (path, int(t["regions"][0]), int(t["dim"][0]), L, F))
        self.x = torch.from_numpy(t["x"].reshape(-1, L, F))
        self.ids = t["ids"].astype(np.int64)
        self.lengths = t["lengths"].astype(np.int64)
        self.first = t["image_first"].astype(np.int64)
        self.count = t["image_count"].astype(np.int64)
        self.caption_image = t["caption_image"].astype(np.int64)
        # every image's references, ids without <start>/<end> (the reward's)
        self.refs = [[tuple(self.ids[c, 1:self.lengths[c] - 1]) for c in range(f, f + n)]
                     for f, n in zip(self.first, self.count)]

    def batch(self, captions, T):
        """tokens (B, T): the words then <end>; lengths (B); images (B)."""
        B = len(captions)
        tok = np.zeros((B, T), dtype=np.int64)
        lens = np.zeros(B, dtype=np.int64)
        for j, c in enumerate(captions):
            n = min(self.lengths[c] - 1, T)
            tok[j, :n] = self.ids[c, 1:1 + n]
            lens[j] = n
        return torch.from_numpy(tok), torch.from_numpy(lens), self.caption_image[np.asarray(captions)]


class CiderD:
    """CIDEr-D of one caption against its image's references with the document
    frequencies of all the training images' references: metrics_reference.cider_d's
    definition, its tables built once instead of per call."""

    def __init__(self, refs, sigma=6.0):
        self.sigma = sigma
        N = len(refs)
        df = {}
        for rs in refs:
            seen = set()
            for r in rs:
                for n in range(1, 5):
                    seen.update(metrics_reference.ngrams(list(r), n))
            for g in seen:
                df[g] = df.get(g, 0) + 1
        self.logN, self.df = math.log(N), df
        self.refs = [[(len(r), self.vec(r)) for r in rs] for rs in refs]

    def vec(self, toks):
        out = []
        for n in range(1, 5):
            v = {g: tf * (self.logN - math.log(max(1.0, self.df.get(g, 0))))
                 for g, tf in metrics_reference.ngrams(list(toks), n).items()}
            out.append((v, math.sqrt(sum(x * x for x in v.values()))))
        return out

    def score(self, image, cand):
        vc = self.vec(cand)
        total = 0.0
        for lr, vr in self.refs[image]:
            pen = math.exp(-((len(cand) - lr) ** 2) / (2 * self.sigma ** 2))
            for (dc, nc), (dr, nr) in zip(vc, vr):
                if nc == 0 or nr == 0:
                    continue
                dot = sum(min(x, dr.get(g, 0.0)) * dr.get(g, 0.0) for g, x in dc.items())
                total += dot / (nc * nr) * pen
        return 10.0 * total / 4 / len(self.refs[image])


# ---- the training step ----------------------------------------------------


def xe_loss(m, x, tokens, lengths, entropy_w, regions=None):
    """Teacher-forced cross-entropy per token with s_t ~ alpha_t (or the given
    regions (B, T)) minus entropy_w * H(alpha_t) per token. Returns (loss,
    sum of -log p, sum of H, the regions used)."""
    B = x.shape[0]
    Tr = int(lengths.max())
    a, wa, h, c = m.start(x)
    rows = torch.arange(B)
    y = torch.full((B,), START, dtype=torch.long)
    hs, zs, ys, las, picks = [], [], [], [], []
    for t in range(Tr):
        la = m.attend(wa, h)
        s = regions[:, t] if regions is not None else torch.multinomial(la.detach().exp(), 1).squeeze(1)
        z = a[rows, s]
        emb = m.embed(y)
        h, c = m.lstm(torch.cat([emb, z], 1), (h, c))
        hs.append(h), zs.append(z), ys.append(emb), las.append(la), picks.append(s)
        y = tokens[:, t]
    # the output layer does not feed back: one product over all the steps
    logits = m.logits(torch.stack(ys), torch.stack(hs), torch.stack(zs))          # (Tr, B, V)
    logp = Fn.log_softmax(logits, -1)
    mask = (torch.arange(Tr).unsqueeze(1) < lengths.unsqueeze(0)).float()         # (Tr, B)
    nll = -(logp.gather(2, tokens[:, :Tr].t().unsqueeze(2)).squeeze(2) * mask).sum()
    la = torch.stack(las)                                                          # (Tr, B, L)
    ent = -((la.exp() * la).sum(2) * mask).sum()
    ntok = float(lengths.sum())
    return nll / ntok - entropy_w / ntok * ent, nll, ent, torch.stack(picks, 1)


def decode(m, x, T, sample, words=None, regions=None):
    """Beam 1 decoding as search.c: s_t the argmax of alpha_t, or a draw from it
    (sample), the word the argmax of p over <end> and the real words. Given
    words and regions (B, T), replays them instead (teacher-forced on its own
    words: glimpse's REINFORCE replay). Returns (sum over t < len of
    log alpha_t(s_t) (B), words (B, T), lengths counting <end> (B), word
    counts without <end> (B))."""
    B = x.shape[0]
    a, wa, h, c = m.start(x)
    rows = torch.arange(B)
    y = torch.full((B,), START, dtype=torch.long)
    out_w = torch.zeros(B, T, dtype=torch.long)
    done = torch.zeros(B, dtype=torch.bool)
    nwords = torch.full((B,), T, dtype=torch.long)
    chosen = []
    for t in range(T):
        la = m.attend(wa, h)
        if regions is not None:
            s = regions[:, t]
        elif sample:
            s = torch.multinomial(la.detach().exp(), 1).squeeze(1)
        else:
            s = la.detach().argmax(1)
        chosen.append(la.gather(1, s.unsqueeze(1)).squeeze(1))
        z = a[rows, s]
        emb = m.embed(y)
        h, c = m.lstm(torch.cat([emb, z], 1), (h, c))
        if words is not None:
            w = words[:, t]
        else:
            with torch.no_grad():
                lg = m.logits(emb, h, z)
                lg[:, :END] = -math.inf     # never <pad> or <start>
                w = lg.argmax(1)
        out_w[:, t] = w
        ended_now = (w == END) & ~done
        nwords[ended_now] = t
        done |= ended_now
        if words is None and bool(done.all()):
            break
        y = w
    Tr = len(chosen)
    length = torch.clamp(torch.where(done, nwords + 1, nwords), 1, T)
    mask = (torch.arange(Tr).unsqueeze(1) < length.unsqueeze(0)).float()           # (Tr, B)
    logsum = (torch.stack(chosen) * mask).sum(0)
    return logsum, out_w, length, nwords


def rewards(cider, images, words, nwords):
    return torch.tensor([cider.score(int(i), tuple(words[b, :int(nwords[b])].tolist()))
                         for b, i in enumerate(images)], dtype=torch.float32)


def lr_at(step, lr=3e-3, warmup=100, decay=0.5, every=9000):
    """src/train.c train_lr_at with the shapes preset's schedule."""
    return lr * min(1.0, (step + 1) / warmup) * decay ** (step / every)


def train_step(m, opt, data, cider, captions, T, step, entropy_w=0.01, rl_weight=0.5, clip=5.0):
    tokens, lengths, images = data.batch(captions, T)
    x = data.x[torch.from_numpy(images)]
    B = len(captions)
    opt.zero_grad(set_to_none=True)
    loss_xe, _, _, _ = xe_loss(m, x, tokens, lengths, entropy_w)
    with torch.no_grad():
        _, gw, _, gn = decode(m, x, T, sample=False)
    base = rewards(cider, images, gw, gn)
    logsum, rw, _, rn = decode(m, x, T, sample=True)
    r = rewards(cider, images, rw, rn)
    weight = rl_weight * (r - base) / B
    loss = loss_xe - (weight * logsum).sum()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(m.parameters(), clip)
    for g in opt.param_groups:
        g["lr"] = lr_at(step)
    opt.step()
    return float(loss), float(r.mean())


# ---- captioning: beam search (search.c's rules) ----------------------------


@torch.inference_mode()
def beam_search(m, x1, T, K):
    """The caption of one image x1 (1, L, F) with beam width K as search.c
    writes it: hard attention looks at argmax alpha_t; the K best extensions
    (summed log p, over <end> and the real words) of the live beams are kept;
    one that says <end>, or reaches the last step, is finished and spends one
    of the K; the answer is the finished caption with the best logp / steps.
    Returns the words (without <end>)."""
    a, wa, h, c = m.start(x1)
    rows = torch.zeros(1, dtype=torch.long)
    hist = [[]]
    logp = torch.zeros(1)
    y = torch.full((1,), START, dtype=torch.long)
    budget, best, best_score = K, None, -math.inf
    for t in range(T):
        la = m.attend(wa[rows], h)
        s = la.argmax(1)
        z = a[rows, s]
        emb = m.embed(y)
        h, c = m.lstm(torch.cat([emb, z], 1), (h, c))
        lp = Fn.log_softmax(m.logits(emb, h, z), -1)[:, END:]          # never <pad> or <start>
        cand = (logp.unsqueeze(1) + lp).flatten()
        top = torch.topk(cand, min(budget, cand.numel()))
        keep, words, scores = [], [], []
        for sc, idx in zip(top.values.tolist(), top.indices.tolist()):
            beam, word = divmod(idx, lp.shape[1])
            word += END
            if word == END or t == T - 1:
                if sc / (t + 1) > best_score:
                    best_score = sc / (t + 1)
                    best = hist[beam] + ([] if word == END else [word])
                budget -= 1
            else:
                keep.append(beam), words.append(word), scores.append(sc)
        if not keep:
            break
        sel = torch.tensor(keep)
        hist = [hist[b] + [w] for b, w in zip(keep, words)]
        h, c, rows = h[sel], c[sel], rows[sel]
        logp = torch.tensor(scores)
        y = torch.tensor(words)
    return best


def caption(args):
    """Times beam search per image on the first images of the data set and
    compares the captions with glimpse's (glimpse-grad_dump decode)."""
    m, T, _ = load_model(args.model)
    _, _, dt = read_glm(args.data)
    data = Data(args.data, int(dt["regions"][0]), m.sizes["F"])
    _, _, caps = read_glm(args.dump)
    K = int(caps["beam.width"][0])
    gw, gl = caps["beam.words"].astype(np.int64), caps["beam.lengths"].astype(np.int64)
    N = len(gl)
    for threads in [int(t) for t in args.threads.split(",")]:
        set_threads(threads)
        for i in range(min(N, 5)):
            beam_search(m, data.x[i:i + 1], T, K)      # warm-up
        t0 = time.perf_counter()
        got = [beam_search(m, data.x[i:i + 1], T, K) for i in range(N)]
        el = time.perf_counter() - t0
        same = sum(1 for i in range(N) if got[i] == list(gw[i, :gl[i]]))
        print("torch decode threads %d: %d images, beam %d, one at a time: %.1f images/s (%.3f ms per image); "
              "%d of %d captions the same as glimpse's" % (threads, N, K, N / el, 1e3 * el / N, same, N), flush=True)
        if args.tsv:
            with open(args.tsv, "a") as f:
                f.write("torch-decode\t%d\t%.4f\n" % (threads, N / el))
        if same < N * 0.98:
            print("bench_torch: the captions differ from glimpse's in more than 2%% of the images")
            return 1
    return 0


# ---- --check --------------------------------------------------------------


def compare(name, got, want, rtol, atol, rows):
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    diff = np.abs(got - want)
    scale = float(np.abs(want).max()) if want.size else 0.0
    mx = float(diff.max()) if diff.size else 0.0
    bound = atol + rtol * scale
    ok = mx <= bound
    rows.append((name, mx, mx / scale if scale > 0 else 0.0, scale, ok))
    return ok


def check(args):
    set_threads(1)
    m, T, _ = load_model(args.model)
    L = int(args.regions) if args.regions else None
    _, _, dump = read_glm(args.dump)
    F = m.sizes["F"]
    if L is None:
        # L from the data file (the model's grid squared)
        _, _, dt = read_glm(args.data)
        L = int(dt["regions"][0])
    data = Data(args.data, L, F)
    images = dump["batch.images"].astype(np.int64)
    tokens = torch.from_numpy(dump["batch.tokens"].astype(np.int64))
    lengths = torch.from_numpy(dump["batch.lengths"].astype(np.int64))
    regions = torch.from_numpy(dump["xe.regions"].astype(np.int64))
    B = len(images)
    x = data.x[torch.from_numpy(images)]
    ent_w, rl_w = float(dump["opt.entropy"][0]), float(dump["opt.rl_weight"][0])
    lr, clip = float(dump["opt.lr"][0]), float(dump["opt.clip"][0])
    rows, ok = [], True
    R, A = args.rtol, args.atol

    # 1. the cross-entropy pass on glimpse's regions
    loss_xe, nll, ent, _ = xe_loss(m, x, tokens, lengths, ent_w, regions=regions)
    ok &= compare("xe.loss", float(loss_xe), dump["xe.loss"][0], R, A, rows)
    ok &= compare("xe.nll (sum)", float(nll), dump["xe.nll"][0], R, A, rows)
    ok &= compare("xe.entropy (sum)", float(ent), dump["xe.entropy"][0], R, A, rows)
    loss_xe.backward()
    pm = param_map(m)
    for name, (p, f) in pm.items():
        g = p.grad.numpy() if p.grad is not None else np.zeros(p.shape, np.float32)
        ok &= compare("grad_xe." + name, g, f(dump["grad_xe." + name]), R, A, rows)

    # 2. REINFORCE. Rewards: the cached scorer against metrics_reference.cider_d
    # itself (all images in the corpus, so the document frequencies are the
    # training set's), and both against glimpse's.
    cider = CiderD(data.refs)
    rtok = torch.from_numpy(dump["rl.tokens"].astype(np.int64))
    rlen = dump["rl.lengths"].astype(np.int64)
    rreg = torch.from_numpy(dump["rl.regions"].astype(np.int64))
    nw = [int(np.argmax(rtok[b].numpy() == END)) if (rtok[b].numpy() == END).any() else T for b in range(B)]
    r_cached = rewards(cider, images, rtok, nw)
    ref_scores = []
    for b, i in enumerate(images):   # one call per caption: an image can be in the batch twice
        corpus = [(k, [], refs) for k, refs in enumerate(data.refs)]
        corpus[i] = (i, list(rtok[b, :nw[b]].tolist()), data.refs[i])
        ref_scores.append(metrics_reference.cider_d(corpus)[i])
    ok &= compare("reward: cached vs metrics_reference", r_cached.numpy(), ref_scores, 1e-6, 1e-9, rows)
    ok &= compare("rl.reward (rollout CIDEr-D)", r_cached.numpy(), dump["rl.reward"], R, A, rows)
    with torch.no_grad():
        _, gw, _, gn = decode(m, x, T, sample=False)
    base = rewards(cider, images, gw, gn)
    ok &= compare("rl.baseline (greedy CIDEr-D)", base.numpy(), dump["rl.baseline"], R, A, rows)
    weight = rl_w * (r_cached - base) / B
    ok &= compare("rl.weight", weight.numpy(), dump["rl.weight"], R, A, rows)
    # the rollout's words are the argmax words when fed its own regions
    with torch.no_grad():
        _, ow, olen, _ = decode(m, x, T, sample=False, regions=rreg)
    same_words = all(bool((ow[b, :rlen[b]] == rtok[b, :rlen[b]]).all()) for b in range(B))
    rows.append(("rollout words re-decoded on its regions", 0.0 if same_words else 1.0, 0.0, 1.0, same_words))
    ok &= same_words
    ok &= compare("rl.lengths", olen.numpy(), rlen, 0, 0, rows)
    # the replay on the rollout's words and regions, with glimpse's weights
    logsum, _, _, _ = decode(m, x, T, sample=False, words=rtok, regions=rreg)
    w = torch.from_numpy(dump["rl.weight"].copy())
    loss_rl = -(w * logsum).sum()
    ok &= compare("rl.loss", float(loss_rl), dump["rl.loss"][0], R, A, rows)
    loss_rl.backward()
    for name, (p, f) in pm.items():
        g = p.grad.numpy() if p.grad is not None else np.zeros(p.shape, np.float32)
        ok &= compare("grad." + name, g, f(dump["grad." + name]), R, A, rows)
    for name in UNUSED_IN_HARD:
        ok &= compare("grad.%s (no use in hard)" % name, np.zeros_like(dump["grad." + name]), dump["grad." + name],
                      0, 0, rows)

    # 3. clipping and one Adam step, from glimpse's own gradient (the
    # gradients were compared above; fed ours, one Adam step would move each
    # weight by about lr * g / |g|, so where g is tiny the float noise of the
    # gradient would show, not a difference of the update)
    params = [p for p, _ in pm.values()]
    with torch.no_grad():
        for name, (p, f) in pm.items():
            p.grad.copy_(torch.from_numpy(f(dump["grad." + name]).copy()))
    norm = torch.nn.utils.clip_grad_norm_(params, clip)
    ok &= compare("grad_norm", float(norm), dump["grad_norm"][0], R, A, rows)
    opt = torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999), eps=1e-8)
    opt.step()
    for name, (p, f) in pm.items():
        ok &= compare("after." + name, p.detach().numpy(), f(dump["after." + name]), 0, args.adam_tol * lr, rows)
    active = int((dump["rl.weight"] != 0).sum())
    rows.append(("captions with a REINFORCE weight != 0", float(active), 0.0, float(B), active > 0))
    ok &= active > 0
    print("parity: %d captions, %d regions of %d, T %d; tolerance max|diff| <= %g + %g * max|glimpse| "
          "(after Adam on glimpse's gradient: %g * lr)" % (B, L, F, T, A, R, args.adam_tol))
    print("%-44s %12s %12s %12s  %s" % ("quantity", "max|diff|", "rel", "max|glimpse|", "ok"))
    for name, mx, rel, scale, good in rows:
        print("%-44s %12.3e %12.3e %12.3e  %s" % (name, mx, rel, scale, "ok" if good else "FAIL"))
    if not ok:
        print("parity: FAIL: PyTorch and glimpse disagree beyond the tolerance")
        return 1
    print("parity: ok: every loss, reward and gradient matches")
    return 0


# ---- --bench --------------------------------------------------------------


def set_threads(n):
    """torch's intra-op threads and, as glimpse's --threads does, OpenBLAS's:
    Debian's torch does its matrix products in the system's libblas.so.3
    (OpenBLAS here), whose own thread pool torch.set_num_threads does not
    reach. Returns what OpenBLAS reports, or None without OpenBLAS."""
    torch.set_num_threads(n)
    try:
        ob = ctypes.CDLL("libopenblas.so.0")
        ob.openblas_set_num_threads(n)
        return ob.openblas_get_num_threads()
    except (OSError, AttributeError):
        return None


def bench(args):
    m0, T, _ = load_model(args.model)
    _, _, dt = read_glm(args.data)
    L = int(dt["regions"][0])
    data = Data(args.data, L, m0.sizes["F"])
    cider = CiderD(data.refs)
    pairs = data.first.copy()          # refs 1: each image's first reference
    B = args.batch
    results = []
    for threads in [int(t) for t in args.threads.split(",")]:
        blas = set_threads(threads)
        rates = []
        for rep in range(args.repeats):
            torch.manual_seed(rep)
            m, _, _ = load_model(args.model)
            opt = torch.optim.Adam([p for p in m.parameters() if p.requires_grad], lr=3e-3)
            rng = np.random.default_rng(rep)
            perm = rng.permutation(pairs)
            pos = 0

            def next_batch():
                nonlocal perm, pos
                if pos + B > len(perm):
                    perm, pos = rng.permutation(pairs), 0
                pos += B
                return perm[pos - B:pos]

            for s in range(args.warmup):
                train_step(m, opt, data, cider, next_batch(), T, s)
            t0 = time.perf_counter()
            done = 0
            while done < args.steps and (done < 3 or time.perf_counter() - t0 < args.seconds):
                loss, reward = train_step(m, opt, data, cider, next_batch(), T, args.warmup + done)
                done += 1
            el = time.perf_counter() - t0
            rates.append(done / el)
            if not math.isfinite(loss):
                sys.exit("bench_torch: the loss is not finite")
        results.append((threads, statistics.median(rates), min(rates), max(rates)))
        print("torch threads %d (OpenBLAS %s): %.2f steps/s (median of %d; min %.2f max %.2f), batch %d" %
              (threads, blas, statistics.median(rates), len(rates), min(rates), max(rates), B), flush=True)
    if args.tsv:
        with open(args.tsv, "w") as f:
            for t, med, lo, hi in results:
                f.write("torch\t%d\t%.4f\t%.4f\t%.4f\n" % (t, med, lo, hi))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="compare with a glimpse-grad_dump step file (--dump)")
    ap.add_argument("--bench", action="store_true", help="time training steps/s")
    ap.add_argument("--caption", action="store_true",
                    help="time beam search per image and compare the captions with a glimpse-grad_dump decode file (--dump)")
    ap.add_argument("--model", required=True, help="a hard-attention glimpse model (.glm)")
    ap.add_argument("--data", required=True, help="the data set from glimpse-grad_dump export")
    ap.add_argument("--dump", help="--check: the glimpse-grad_dump step output; --caption: its decode output")
    ap.add_argument("--regions", help=argparse.SUPPRESS)
    ap.add_argument("--rtol", type=float, default=1e-4, help="--check: relative tolerance (default 1e-4)")
    ap.add_argument("--atol", type=float, default=1e-6, help="--check: absolute tolerance (default 1e-6)")
    ap.add_argument("--adam-tol", type=float, default=1e-3,
                    help="--check: parameters after Adam, in units of lr (default 1e-3)")
    ap.add_argument("--threads", default="1,2", help="--bench: thread counts (default 1,2)")
    ap.add_argument("--steps", type=int, default=100, help="--bench: timed steps per run (default 100)")
    ap.add_argument("--seconds", type=float, default=60,
                    help="--bench: stop a run after this long (at least 3 steps; default 60)")
    ap.add_argument("--warmup", type=int, default=5, help="--bench: untimed steps first (default 5)")
    ap.add_argument("--repeats", type=int, default=3, help="--bench: runs per thread count (default 3)")
    ap.add_argument("--batch", type=int, default=32, help="--bench: batch size (default 32)")
    ap.add_argument("--tsv", help="--bench: also write 'torch THREADS MEDIAN MIN MAX' rows here")
    args = ap.parse_args()
    if args.check + args.bench + args.caption != 1:
        ap.error("give one of --check, --bench, --caption")
    if (args.check or args.caption) and not args.dump:
        ap.error("--check and --caption need --dump")
    return check(args) if args.check else bench(args) if args.bench else caption(args)


if __name__ == "__main__":
    sys.exit(main())
