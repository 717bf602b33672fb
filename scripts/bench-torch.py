#!/usr/bin/python3
"""
PyTorch side of the text-training bench (scripts/bench-text.ts): one process that

  1. builds a GPT-2-style decoder (the same modules as scripts/reference/export_folders.py: learned
     positions, LayerNorm, GELU, Conv1D QKV, tied LM head) from a fixed seed, exports it with
     torch.onnx.export (no past: the engine trains whole sequences) and writes the batch, so the
     engine trains the SAME model on the SAME batch;
  2. then answers "steps N" lines on stdin by timing N AdamW training steps (forward, token
     cross-entropy, backward, optimizer step) and printing one JSON line per answer.

Threads: torch.set_num_threads(THREADS) (the bench passes 2); run with OMP_WAIT_POLICY=PASSIVE so
idle OpenMP threads do not spin on the core the other side needs.
Usage: bench-torch.py OUT_DIR WIDTH LAYERS HEADS SEQ BATCH VOCAB THREADS
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'reference'))
from export_folders import GPT2LMHeadModel  # noqa: E402


def main():
    out, width, layers, heads, seq, batch, vocab, threads = sys.argv[1], *map(int, sys.argv[2:9])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    c = {'n_embd': width, 'n_layer': layers, 'n_head': heads, 'n_positions': seq, 'vocab_size': vocab, 'layer_norm_epsilon': 1e-5}
    model = GPT2LMHeadModel(c)
    g = torch.Generator().manual_seed(1)
    input_ids = torch.randint(0, vocab, (batch, seq), generator=g)
    attention_mask = torch.ones(batch, seq, dtype=torch.int64)
    position_ids = torch.arange(seq).unsqueeze(0).repeat(batch, 1)
    # The forward takes the cache as trailing arguments: empty pasts (length 0) for whole sequences.
    empty = [torch.zeros(batch, heads, 0, width // heads) for _ in range(2 * layers)]

    class NoPast(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, position_ids):
            b = input_ids.shape[0]
            past = [torch.zeros(b, heads, 0, width // heads) for _ in range(2 * layers)]
            return self.inner(input_ids, attention_mask, position_ids, *past)[0]

    model.eval()
    dyn = {n: {0: 'batch', 1: 'sequence'} for n in ('input_ids', 'attention_mask', 'position_ids', 'logits')}
    with torch.no_grad():
        torch.onnx.export(NoPast(model), (input_ids, attention_mask, position_ids), os.path.join(out, 'model.onnx'),
                          input_names=['input_ids', 'attention_mask', 'position_ids'], output_names=['logits'],
                          dynamic_axes=dyn, opset_version=14, do_constant_folding=True)
    with open(os.path.join(out, 'batch.json'), 'w') as fh:
        json.dump({'input_ids': input_ids.tolist()}, fh)

    model.train()
    targets = torch.full((batch, seq), -100, dtype=torch.int64)
    targets[:, :-1] = input_ids[:, 1:]
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)

    def step():
        logits = model(input_ids, attention_mask, position_ids, *empty)[0]
        loss = F.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    print(json.dumps({'ready': True, 'torch': torch.__version__, 'threads': torch.get_num_threads(),
                      'params': sum(p.numel() for p in model.parameters())}), flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts or parts[0] != 'steps':
            break
        n = int(parts[1])
        t0 = time.perf_counter()
        for _ in range(n):
            loss = step()
        seconds = time.perf_counter() - t0
        print(json.dumps({'steps': n, 'seconds': seconds, 'loss': loss}), flush=True)


if __name__ == '__main__':
    main()
