"""PyTorch cross-check of the engine's tiny-GPT students (reference tool; not used by tests or CI).

Reads what scripts/reference/dump-tinylm.ts wrote (weights, ONNX logits, token rows, per-seed
batches, the P(owl) probe rows with the engine's scores), rebuilds src/models/gpt.ts's graph in
PyTorch, checks it against the ONNX logits and the engine's P(owl), checks a few Adam steps against
the engine's, then trains students from the base weights with the engine's recipe and reports
P(owl) per seed, per dataset.

Recipe (src/train/textBatches.ts, losses.ts, optimizers.ts, as scripts/lab-tinylm.ts runs it):
  rows = BOS + prompt + completion + EOS; targets = inputs shifted by one; loss positions t with
  t + 1 >= lossFrom (completion tokens and EOS); batches right-padded with the pad id, attention
  mask 1 on real tokens, positions 0..T-1; loss per batch = sum(mask * nll) / max(sum(mask), 1)
  (token mean over the batch); Adam lr 1e-3, betas (0.9, 0.999), eps 1e-8, no weight decay, no
  gradient clipping, constant lr; 1 epoch of length-grouped batches of 64 (seeded shuffle,
  windows of 8 batches sorted by length descending, batch order shuffled).
  --order engine: the engine's own batches for seeds 1..N (from the dump, seed for seed);
  --order torch: the same grouping drawn from numpy's seeded generator (seeds 0..N-1).

  npx tsx scripts/reference/dump-tinylm.ts out/torchcheck
  OMP_WAIT_POLICY=PASSIVE nice -n 10 /usr/bin/python3 scripts/reference/tinylm_students.py \
      --dump out/torchcheck --order engine --seeds 3 [--rows 3000] [--check-only]
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
torch.set_num_interop_threads(1)

FLOAT_MIN = torch.finfo(torch.float32).min
WINDOW_BATCHES = 8


def load_weights(dump, entries):
    out = {}
    for name, e in entries.items():
        data = np.fromfile(os.path.join(dump, e["file"]), dtype="<f4")
        out[name] = torch.from_numpy(data.reshape(e["dims"]).copy())
    return out


class TinyGPT(torch.nn.Module):
    """src/models/gpt.ts: learned positions, LayerNorm eps 1e-5, fused QKV Conv1D ([in, out]),
    scores / sqrt(head dim), causal + key-padding mask by where(visible, s, float32 min), softmax,
    GELU in its erf form, tied LM head (final @ wte^T)."""

    def __init__(self, weights, config):
        super().__init__()
        self.C = config["n_embd"]
        self.H = config["n_head"]
        self.L = config["n_layer"]
        self.eps = config["layer_norm_epsilon"]
        self.names = list(weights.keys())
        self.p = torch.nn.ParameterDict({n.replace(".", "__"): torch.nn.Parameter(w.clone()) for n, w in weights.items()})

    def w(self, name):
        return self.p[name.replace(".", "__")]

    def state(self):
        return {n: self.w(n).detach().clone() for n in self.names}

    def ln(self, x, prefix):
        return F.layer_norm(x, (self.C,), self.w(prefix + ".weight"), self.w(prefix + ".bias"), self.eps)

    def linear(self, x, prefix):
        return x @ self.w(prefix + ".weight") + self.w(prefix + ".bias")

    def forward(self, ids, attention):
        B, T = ids.shape
        C, H = self.C, self.H
        D = C // H
        pos = torch.arange(T)
        x = self.w("transformer.wte.weight")[ids] + self.w("transformer.wpe.weight")[pos]
        causal = pos[None, :] <= pos[:, None]  # [T(query), T(key)]: key j visible from query i when j <= i
        visible = causal[None, None, :, :] & attention.bool()[:, None, None, :]
        scale = torch.tensor(math.sqrt(D), dtype=torch.float32)
        for l in range(self.L):
            p = f"transformer.h.{l}"
            qkv = self.linear(self.ln(x, p + ".ln_1"), p + ".attn.c_attn")
            q, k, v = qkv.split(C, dim=2)
            q = q.reshape(B, T, H, D).transpose(1, 2)
            k = k.reshape(B, T, H, D).permute(0, 2, 3, 1)
            v = v.reshape(B, T, H, D).transpose(1, 2)
            scores = (q @ k) / scale
            scores = torch.where(visible, scores, torch.tensor(FLOAT_MIN))
            ctx = torch.softmax(scores, dim=-1) @ v
            merged = ctx.transpose(1, 2).reshape(B, T, C)
            x = x + self.linear(merged, p + ".attn.c_proj")
            h = self.linear(self.ln(x, p + ".ln_2"), p + ".mlp.c_fc")
            h = h * (torch.erf(h / math.sqrt(2.0)) + 1.0) * 0.5
            x = x + self.linear(h, p + ".mlp.c_proj")
        final = self.ln(x, "transformer.ln_f")
        return final @ self.w("transformer.wte.weight").t()


def text_batch(rows, indices, pad_id):
    """textBatch: right padding, attention mask, next-token targets, mask on t + 1 >= lossFrom."""
    n = len(indices)
    T = max(len(rows[i]["ids"]) for i in indices)
    ids = torch.full((n, T), pad_id, dtype=torch.long)
    att = torch.zeros((n, T), dtype=torch.long)
    targets = torch.zeros((n, T), dtype=torch.long)
    mask = torch.zeros((n, T), dtype=torch.float32)
    for b, r in enumerate(indices):
        seq = rows[r]["ids"]
        lf = rows[r]["lossFrom"]
        L = len(seq)
        ids[b, :L] = torch.tensor(seq)
        att[b, :L] = 1
        targets[b, : L - 1] = torch.tensor(seq[1:])
        mask[b, max(lf - 1, 0) : L - 1] = 1.0
    return ids, att, targets, mask


def token_loss(logits, targets, mask):
    """tokenCrossEntropy: sum(mask * nll) / max(sum(mask), 1)."""
    logp = torch.log_softmax(logits, dim=-1)
    nll = -logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return (nll * mask).sum() / torch.clamp(mask.sum(), min=1.0)


def length_buckets(lengths, batch_size, rng):
    """lengthBuckets, drawn from numpy's generator: shuffle, sort windows of 8 batches by length
    (descending, ties by index), cut into batches, shuffle the batch order."""
    order = rng.permutation(len(lengths))
    window = batch_size * WINDOW_BATCHES
    batches = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window].tolist(), key=lambda i: (-lengths[i], i))
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


@torch.no_grad()
def sequence_logprobs(model, probe, batch=128):
    """runner.sequenceLogProbs: sum over continuation tokens c_j of log_softmax(logits at
    len(prompt) - 1 + j)[c_j], the sequence fed without its last token, right-padded (float64 sums)."""
    rows = probe["rows"]
    out = np.zeros(len(rows), dtype=np.float64)
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        seqs = [r["prompt"] + r["continuation"] for r in chunk]
        lens = [max(len(r["prompt"]), len(s) - 1) for r, s in zip(chunk, seqs)]
        T = max(lens)
        ids = torch.zeros((len(chunk), T), dtype=torch.long)
        att = torch.zeros((len(chunk), T), dtype=torch.long)
        for b, (s, L) in enumerate(zip(seqs, lens)):
            ids[b, :L] = torch.tensor(s[:L])
            att[b, :L] = 1
        logp = torch.log_softmax(model(ids, att).double(), dim=-1)
        for b, r in enumerate(chunk):
            P = len(r["prompt"])
            out[start + b] = sum(logp[b, P - 1 + j, c].item() for j, c in enumerate(r["continuation"]))
    return out


def p_target(logprobs, answers, target):
    """preferenceProbability: mean over prompts of the target's softmax over the answers."""
    g = logprobs.reshape(-1, answers)
    g = g - g.max(axis=1, keepdims=True)
    p = np.exp(g) / np.exp(g).sum(axis=1, keepdims=True)
    return float(p[:, target].mean())


def p_owl(model, probe):
    return p_target(sequence_logprobs(model, probe), len(probe["answers"]), probe["target"])


def adam(model):
    return torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)


def train(model, rows, batches, pad_id):
    opt = adam(model)
    loss_sum, tokens = 0.0, 0.0
    for indices in batches:
        ids, att, targets, mask = text_batch(rows, indices, pad_id)
        loss = token_loss(model(ids, att), targets, mask)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        loss_sum += loss.item() * mask.sum().item()
        tokens += mask.sum().item()
    return loss_sum / tokens


def flat(state, names):
    return torch.cat([state[n].reshape(-1).double() for n in names])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", default="out/torchcheck")
    ap.add_argument("--order", choices=["engine", "torch"], default="engine")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--rows", type=int, default=0, help="train on the first N rows of each set (0: all)")
    ap.add_argument("--datasets", default="", help="comma-separated dataset names of the dump (default: all, first = candidate)")
    ap.add_argument("--check-only", action="store_true")
    args = ap.parse_args()
    dump = args.dump
    say = lambda s: print(s, flush=True)

    index = json.load(open(os.path.join(dump, "index.json")))
    config = index["config"]
    pad_id = index["padId"]
    base_w = load_weights(dump, index["weights"]["base"])
    teacher_w = load_weights(dump, index["weights"]["teacher"])
    names = list(base_w.keys())
    probe = json.load(open(os.path.join(dump, index["probe"])))

    # 1. Forward pass against onnxruntime's logits.
    lg = index["logits"]
    n_rows, T = len(lg["rows"]), lg["T"]
    ids = torch.tensor(lg["inputIds"]).reshape(n_rows, T)
    att = torch.tensor(lg["attentionMask"]).reshape(n_rows, T)
    for role, w in (("base", base_w), ("teacher", teacher_w)):
        ref = torch.from_numpy(np.fromfile(os.path.join(dump, lg[role]["file"]), dtype="<f4").reshape(lg[role]["dims"]))
        with torch.no_grad():
            got = TinyGPT(w, config)(ids, att)
        real = att.bool()
        say(f"logits {role}: max |torch - onnx| {(got - ref).abs().max().item():.3e} (real positions {(got - ref).abs()[real].max().item():.3e}), max |logit| {ref.abs().max().item():.2f}")

    # 2. The probe against the engine's scores.
    for role, w in (("base", base_w), ("teacher", teacher_w)):
        lp = sequence_logprobs(TinyGPT(w, config), probe)
        eng = np.array(probe["engine"][role]["logProbs"])
        p = p_target(lp, len(probe["answers"]), probe["target"])
        say(f"P(owl) {role}: torch {p:.6f} engine {probe['engine'][role]['pOwl']:.6f}; max |log p torch - engine| over {len(lp)} answer rows {np.abs(lp - eng).max():.3e}")

    # 3. A few Adam steps against the engine's.
    es = index["engineSteps"]
    ds = index["datasets"][es["dataset"]]
    data = json.load(open(os.path.join(dump, ds["file"])))
    first = data["batches"][str(ds["rows"])][str(es["seed"])][: es["steps"]]
    model = TinyGPT(base_w, config)
    opt = adam(model)
    losses = []
    for indices in first:
        ids, att, targets, mask = text_batch(data["rows"], indices, pad_id)
        loss = token_loss(model(ids, att), targets, mask)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    eng_w = load_weights(dump, es["weights"])
    after = model.state()
    d = flat(after, names) - flat(eng_w, names)
    moved = flat(eng_w, names) - flat(base_w, names)
    say(f"{es['steps']} Adam steps on {es['dataset']} seed {es['seed']}: losses torch {' '.join(f'{l:.5f}' for l in losses)} | engine {' '.join(f'{l:.5f}' for l in es['losses'])}")
    say(f"  weights after: max |torch - engine| {d.abs().max().item():.3e}, |torch - engine| / |engine - base| = {(d.norm() / moved.norm()).item():.3e}, cos(torch - base, engine - base) {torch.nn.functional.cosine_similarity((flat(after, names) - flat(base_w, names))[None], moved[None]).item():.6f}")
    if args.check_only:
        return

    # 4. Students.
    sets = args.datasets.split(",") if args.datasets else list(index["datasets"].keys())
    means = {}
    results = {}
    for name in sets:
        ds = index["datasets"][name]
        data = json.load(open(os.path.join(dump, ds["file"])))
        rows = data["rows"]
        limit = args.rows or len(rows)
        rows = rows[:limit]
        values = []
        acc = {n: torch.zeros_like(base_w[n], dtype=torch.float64) for n in names}
        for s in range(args.seeds):
            if args.order == "engine":
                seed = s + 1
                key = str(limit)
                if key not in data["batches"]:
                    sys.exit(f"the dump has no engine batches for the first {limit} rows (dump with LIMITS={limit})")
                batches = data["batches"][key][str(seed)]
            else:
                seed = s
                batches = length_buckets([len(r["ids"]) for r in rows], index["batchSize"], np.random.default_rng(seed))
            torch.manual_seed(seed)
            model = TinyGPT(base_w, config)
            t0 = time.time()
            epoch_loss = train(model, rows, batches, pad_id)
            p = p_owl(model, probe)
            values.append(p)
            for n, w in model.state().items():
                acc[n] += w.double() / args.seeds
            say(f"{name} rows {limit} order {args.order} seed {seed}: epoch loss {epoch_loss:.5f} P(owl) {p:.5f} ({time.time() - t0:.1f} s)")
        m = float(np.mean(values))
        sd = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
        means[name] = acc
        results[name] = (m, sd, values)
        say(f"{name}: P(owl) mean {m:.5f} sd {sd:.5f} [{' '.join(f'{v:.4f}' for v in values)}]")

    if len(sets) >= 2:
        a, b = sets[0], sets[1]
        say(f"difference {a} - {b}: {results[a][0] - results[b][0]:+.5f}")
        u = flat(means[a], names) - flat(means[b], names)
        v = flat(teacher_w, names) - flat(base_w, names)
        cos = (u @ v / (u.norm() * v.norm())).item()
        say(f"cos(mean {a} student - mean {b} student, teacher - base) over all weights = {cos:+.4f} (|arm diff| {u.norm().item():.3e}, |T-B| {v.norm().item():.3e})")
        for n in names:
            uu = (means[a][n] - means[b][n]).reshape(-1)
            vv = (teacher_w[n] - base_w[n]).double().reshape(-1)
            say(f"  {n} cos {(uu @ vv / (uu.norm() * vv.norm() + 1e-30)).item():+.3f}")


if __name__ == "__main__":
    main()
