#!/usr/bin/python3
"""
Reference decoders for the autodiff tests (test/autodiff/reference.test.ts).

Builds small random-weight (fixed seed) GPT-2-style and Llama-style decoders in plain PyTorch,
written the way Hugging Face's modeling code writes them (no transformers package needed), exports
each with torch.onnx.export (the TorchScript exporter, dynamic batch/sequence axes), and saves, for
one fixed right-padded batch, PyTorch's logits, masked token cross-entropy loss and every
parameter's gradient, into fixtures/reference/:

  <name>.onnx       the exported inference graph (inputs input_ids, attention_mask[, position_ids];
                    output logits)
  <name>.json       opset, the batch, the loss, shapes, and where each parameter lives in the ONNX
                    file (the exporter's constant folding renames or transposes some weights)
  <name>.bin        little-endian float32: logits, then each parameter's gradient, in .json order

Run (Debian's python3-torch; CI does not need Python, the outputs are committed):
  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 scripts/reference/export_decoders.py
"""
import json
import math
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'fixtures', 'reference')
VOCAB = 64
HIDDEN = 32
HEADS = 4
LAYERS = 2
SEQ = 8
MAX_POS = 16


# --- GPT-2 style (transformers/models/gpt2/modeling_gpt2.py) -----------------------------------

class Conv1D(nn.Module):
    """GPT-2's transposed Linear: weight [in, out], y = addmm(bias, x2d, weight)."""

    def __init__(self, nf, nx):
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.randn(nx, nf) * 0.2)
        self.bias = nn.Parameter(torch.randn(nf) * 0.05)

    def forward(self, x):
        size_out = x.size()[:-1] + (self.nf,)
        x = torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight)
        return x.view(size_out)


def linear(nx, nf, bias=True):
    layer = nn.Linear(nx, nf, bias=bias)
    with torch.no_grad():
        layer.weight.normal_(0, 0.2)
        if bias:
            layer.bias.normal_(0, 0.05)
    return layer


class NewGELU(nn.Module):
    """GELU in tanh form (transformers' NewGELUActivation / gelu_new)."""

    def forward(self, x):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class GPT2Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.head_dim = HIDDEN // HEADS
        self.register_buffer('bias', torch.tril(torch.ones((MAX_POS, MAX_POS), dtype=torch.bool)).view(1, 1, MAX_POS, MAX_POS), persistent=False)
        if cfg['qkv'] == 'conv1d':
            self.c_attn = Conv1D(3 * HIDDEN, HIDDEN)
            self.c_proj = Conv1D(HIDDEN, HIDDEN)
        else:
            self.c_attn = linear(HIDDEN, 3 * HIDDEN)
            self.c_proj = linear(HIDDEN, HIDDEN)

    def split_heads(self, t):
        return t.view(t.size()[:-1] + (HEADS, self.head_dim)).permute(0, 2, 1, 3)

    def forward(self, h, attention_mask):
        query, key, value = self.c_attn(h).split(HIDDEN, dim=2)
        query, key, value = self.split_heads(query), self.split_heads(key), self.split_heads(value)
        w = torch.matmul(query, key.transpose(-1, -2))
        w = w / torch.full([], value.size(-1) ** 0.5, dtype=w.dtype)
        q_len, k_len = query.size(-2), key.size(-2)
        mask_value = torch.finfo(w.dtype).min
        if self.cfg['causal'] == 'where':
            causal = self.bias[:, :, k_len - q_len:k_len, :k_len]
            w = torch.where(causal, w, torch.full([], mask_value, dtype=w.dtype))
        else:
            # Additive causal mask built at run time (torch.triu -> Trilu).
            w = w + torch.triu(torch.full((q_len, k_len), mask_value, dtype=w.dtype), diagonal=1)
        w = w + attention_mask
        w = F.softmax(w, dim=-1)
        out = torch.matmul(w, value)
        out = out.permute(0, 2, 1, 3).contiguous()
        out = out.view(out.size()[:-2] + (HIDDEN,))
        return self.c_proj(out)


class GPT2MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        inner = 2 * HIDDEN
        if cfg['qkv'] == 'conv1d':
            self.c_fc, self.c_proj = Conv1D(inner, HIDDEN), Conv1D(HIDDEN, inner)
        else:
            self.c_fc, self.c_proj = linear(HIDDEN, inner), linear(inner, HIDDEN)
        self.act = NewGELU() if cfg['gelu'] == 'tanh' else nn.GELU()

    def forward(self, h):
        return self.c_proj(self.act(self.c_fc(h)))


def ln():
    layer = nn.LayerNorm(HIDDEN, eps=1e-5)
    with torch.no_grad():
        layer.weight.normal_(1, 0.1)
        layer.bias.normal_(0, 0.05)
    return layer


class GPT2Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.ln_1, self.attn, self.ln_2, self.mlp = ln(), GPT2Attention(cfg), ln(), GPT2MLP(cfg)

    def residual(self, h, delta):
        if self.cfg.get('fp16_residual'):
            # A mixed-precision residual stream: stored in float16, read back as float32. (Float16
            # arithmetic itself is left out: onnxruntime's CPU provider computes a float16 Add in
            # float32 and drops the roundings, so its forward differs from PyTorch's by ~6e-4.)
            return (h + delta).to(torch.float16).to(torch.float32)
        return h + delta

    def forward(self, h, attention_mask):
        h = self.residual(h, self.attn(self.ln_1(h), attention_mask))
        return self.residual(h, self.mlp(self.ln_2(h)))


class GPT2LMHeadModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(VOCAB, HIDDEN)
        self.wpe = nn.Embedding(MAX_POS, HIDDEN)
        with torch.no_grad():
            self.wte.weight.normal_(0, 0.3)
            self.wpe.weight.normal_(0, 0.1)
        self.h = nn.ModuleList([GPT2Block(cfg) for _ in range(LAYERS)])
        self.ln_f = ln()
        self.lm_head = linear(HIDDEN, VOCAB, bias=False)
        if cfg['tied']:
            self.lm_head.weight = self.wte.weight

    def forward(self, input_ids, attention_mask, position_ids=None):
        batch, seq = input_ids.shape
        if position_ids is None:
            position_ids = torch.arange(0, seq, dtype=torch.long).unsqueeze(0)
        h = self.wte(input_ids) + self.wpe(position_ids)
        if self.cfg.get('fp16_embeddings'):
            # Embeddings handed on in float16, as a half-precision model's are.
            h = h.to(torch.float16).to(torch.float32)
        mask = attention_mask.view(batch, -1)[:, None, None, :].to(h.dtype)
        mask = (1.0 - mask) * torch.finfo(h.dtype).min
        for block in self.h:
            h = block(h, mask)
        return self.lm_head(self.ln_f(h))


# --- Llama style (transformers/models/llama/modeling_llama.py) ---------------------------------

KV_HEADS = 2


class LlamaRMSNorm(nn.Module):
    def __init__(self, form):
        super().__init__()
        self.form = form
        self.weight = nn.Parameter(1 + 0.1 * torch.randn(HIDDEN))
        self.eps = 1e-6

    def forward(self, h):
        dtype = h.dtype
        h = h.to(torch.float32)
        variance = h.pow(2).mean(-1, keepdim=True)
        if self.form == 'rsqrt':
            h = h * torch.rsqrt(variance + self.eps)
        else:
            h = h * torch.reciprocal(torch.sqrt(variance + self.eps))
        return self.weight * h.to(dtype)


class LlamaRotaryEmbedding(nn.Module):
    def __init__(self, dim):
        super().__init__()
        inv_freq = 1.0 / (10000 ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
        self.register_buffer('inv_freq', inv_freq, persistent=False)

    def forward(self, position_ids):
        inv = self.inv_freq[None, :, None].float().expand(position_ids.shape[0], -1, 1)
        pos = position_ids[:, None, :].float()
        freqs = (inv @ pos).transpose(1, 2)
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos(), emb.sin()


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def repeat_kv(h, n_rep):
    batch, kv_heads, slen, head_dim = h.shape
    h = h[:, :, None, :, :].expand(batch, kv_heads, n_rep, slen, head_dim)
    return h.reshape(batch, kv_heads * n_rep, slen, head_dim)


class LlamaAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.head_dim = HIDDEN // HEADS
        self.q_proj = linear(HIDDEN, HEADS * self.head_dim, bias=False)
        self.k_proj = linear(HIDDEN, KV_HEADS * self.head_dim, bias=False)
        self.v_proj = linear(HIDDEN, KV_HEADS * self.head_dim, bias=False)
        self.o_proj = linear(HIDDEN, HIDDEN, bias=False)

    def forward(self, h, cos, sin, mask):
        batch, seq, _ = h.size()
        q = self.q_proj(h).view(batch, seq, -1, self.head_dim).transpose(1, 2)
        k = self.k_proj(h).view(batch, seq, -1, self.head_dim).transpose(1, 2)
        v = self.v_proj(h).view(batch, seq, -1, self.head_dim).transpose(1, 2)
        cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)
        q = (q * cos) + (rotate_half(q) * sin)
        k = (k * cos) + (rotate_half(k) * sin)
        k = repeat_kv(k, HEADS // KV_HEADS)
        v = repeat_kv(v, HEADS // KV_HEADS)
        w = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.head_dim)
        w = w + mask
        w = F.softmax(w, dim=-1, dtype=torch.float32).to(q.dtype)
        out = torch.matmul(w, v).transpose(1, 2).contiguous().reshape(batch, seq, -1)
        return self.o_proj(out)


class LlamaMLP(nn.Module):
    def __init__(self):
        super().__init__()
        inner = 2 * HIDDEN
        self.gate_proj = linear(HIDDEN, inner, bias=False)
        self.up_proj = linear(HIDDEN, inner, bias=False)
        self.down_proj = linear(inner, HIDDEN, bias=False)

    def forward(self, h):
        return self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class LlamaDecoderLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.self_attn, self.mlp = LlamaAttention(), LlamaMLP()
        self.input_layernorm = LlamaRMSNorm(cfg['rmsnorm'])
        self.post_attention_layernorm = LlamaRMSNorm(cfg['rmsnorm'])

    def forward(self, h, cos, sin, mask):
        h = h + self.self_attn(self.input_layernorm(h), cos, sin, mask)
        return h + self.mlp(self.post_attention_layernorm(h))


class LlamaForCausalLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed_tokens = nn.Embedding(VOCAB, HIDDEN)
        with torch.no_grad():
            self.embed_tokens.weight.normal_(0, 0.3)
        self.layers = nn.ModuleList([LlamaDecoderLayer(cfg) for _ in range(LAYERS)])
        self.norm = LlamaRMSNorm(cfg['rmsnorm'])
        self.rotary_emb = LlamaRotaryEmbedding(HIDDEN // HEADS)
        self.lm_head = linear(HIDDEN, VOCAB, bias=False)

    def forward(self, input_ids, attention_mask, position_ids):
        h = self.embed_tokens(input_ids)
        seq = input_ids.shape[1]
        min_value = torch.finfo(h.dtype).min
        if self.cfg['mask'] == 'bool':
            # Boolean causal & padding mask (tril -> Trilu, & -> And), applied by masked_fill (-> Where).
            allowed = torch.tril(torch.ones((seq, seq), dtype=torch.bool))[None, None] & attention_mask[:, None, None, :].bool()
            mask = torch.zeros_like(allowed, dtype=h.dtype).masked_fill(~allowed, min_value)
        else:
            # Additive: a triu causal matrix plus the padding mask (1 - m) * min.
            causal = torch.triu(torch.full((seq, seq), min_value, dtype=h.dtype), diagonal=1)
            mask = causal[None, None] + (1.0 - attention_mask[:, None, None, :].to(h.dtype)) * min_value
        cos, sin = self.rotary_emb(position_ids)
        for layer in self.layers:
            h = layer(h, cos, sin, mask)
        return self.lm_head(self.norm(h))


# --- the reference batch, loss and files -------------------------------------------------------

MODELS = [
    # name, builder, config, opset, takes position_ids
    ('gpt2_conv1d_erf_where_tied_op14', GPT2LMHeadModel, {'qkv': 'conv1d', 'gelu': 'erf', 'causal': 'where', 'tied': True}, 14, True),
    ('gpt2_linear_tanh_additive_untied_op17', GPT2LMHeadModel, {'qkv': 'linear', 'gelu': 'tanh', 'causal': 'additive', 'tied': False}, 17, False),
    ('llama_rsqrt_boolmask_gqa_op14', LlamaForCausalLM, {'rmsnorm': 'rsqrt', 'mask': 'bool'}, 14, True),
    ('llama_reciprocal_additive_gqa_op17', LlamaForCausalLM, {'rmsnorm': 'reciprocal', 'mask': 'additive'}, 17, True),
    # Float16 roundings after ops that PyTorch and onnxruntime compute bit-identically (a float16
    # rounding after a float32 result that differs in the last bit moves by a float16 ulp, 5e-4).
    ('gpt2_fp16_embeddings_op14', GPT2LMHeadModel, {'qkv': 'conv1d', 'gelu': 'erf', 'causal': 'where', 'tied': False, 'fp16_embeddings': True}, 14, True),
    ('gpt2_fp16_residual_tied_op17', GPT2LMHeadModel, {'qkv': 'linear', 'gelu': 'tanh', 'causal': 'additive', 'tied': True, 'fp16_residual': True}, 17, True),
]


def batch():
    g = torch.Generator().manual_seed(1234)
    input_ids = torch.randint(1, VOCAB, (2, SEQ), generator=g)
    attention_mask = torch.ones(2, SEQ, dtype=torch.int64)
    attention_mask[1, SEQ - 3:] = 0  # right padding
    input_ids[1, SEQ - 3:] = 0
    position_ids = torch.arange(SEQ, dtype=torch.int64).unsqueeze(0).repeat(2, 1)
    # Next-token targets; a target counts when it is a real token (the last position has none).
    targets = torch.zeros(2, SEQ, dtype=torch.int64)
    targets[:, :-1] = input_ids[:, 1:]
    target_mask = torch.zeros(2, SEQ, dtype=torch.float32)
    target_mask[:, :-1] = attention_mask[:, 1:].float()
    return input_ids, attention_mask, position_ids, targets, target_mask


def masked_token_loss(logits, targets, target_mask):
    """sum(mask * nll) / max(sum(mask), 1): the engine's tokenCrossEntropy."""
    nll = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1), reduction='none').view(targets.shape)
    return (nll * target_mask).sum() / target_mask.sum().clamp(min=1)


# A minimal protobuf reader (no onnx package needed): ModelProto.graph(7) -> initializer(5) ->
# TensorProto dims(1), data_type(2), name(8), raw_data(9).
def _varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return result, i


def _fields(buf):
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        elif wire == 2:
            n, i = _varint(buf, i)
            value, i = buf[i:i + n], i + n
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f'protobuf wire type {wire}')
        yield field, wire, value


def onnx_float_initializers(path):
    with open(path, 'rb') as fh:
        model = fh.read()
    graph = next(v for f, w, v in _fields(model) if f == 7)
    out = {}
    for f, w, v in _fields(graph):
        if f != 5:
            continue
        dims, dtype, name, raw = [], 0, '', b''
        for tf, tw, tv in _fields(v):
            if tf == 1:
                if tw == 2:
                    j = 0
                    while j < len(tv):
                        d, j = _varint(tv, j)
                        dims.append(d)
                else:
                    dims.append(tv)
            elif tf == 2:
                dtype = tv
            elif tf == 8:
                name = tv.decode()
            elif tf == 9:
                raw = tv
        if dtype == 1:
            out[name] = torch.frombuffer(bytearray(raw), dtype=torch.float32).reshape(dims) if raw else torch.zeros(dims)
    return out


def locate(params, inits):
    """Where each torch parameter lives among the ONNX initializers: as is, or transposed (folded)."""
    located = {}
    for pname, p in params:
        found = []
        for iname, t in inits.items():
            if t.shape == p.shape and torch.equal(t, p.detach()):
                found.append({'name': iname, 'transposed': False})
            elif p.dim() == 2 and t.shape == p.t().shape and torch.equal(t, p.detach().t()):
                found.append({'name': iname, 'transposed': True})
        if not found:
            sys.exit(f'parameter {pname} not found among the exported initializers')
        located[pname] = found
    return located


def export(seed, name, cls, cfg, opset, takes_positions):
    torch.manual_seed(seed)
    model = cls(cfg).eval()
    input_ids, attention_mask, position_ids, targets, target_mask = batch()
    args = (input_ids, attention_mask, position_ids) if takes_positions else (input_ids, attention_mask)
    input_names = ['input_ids', 'attention_mask'] + (['position_ids'] if takes_positions else [])
    dyn = {n: {0: 'batch', 1: 'sequence'} for n in input_names}
    dyn['logits'] = {0: 'batch', 1: 'sequence'}
    path = os.path.join(OUT, f'{name}.onnx')
    torch.onnx.export(model, args, path, input_names=input_names, output_names=['logits'],
                      dynamic_axes=dyn, opset_version=opset, do_constant_folding=True)

    model.zero_grad()
    logits = model(*args)
    loss = masked_token_loss(logits, targets, target_mask)
    loss.backward()
    params = list(model.named_parameters())
    located = locate(params, onnx_float_initializers(path))

    blobs = [logits.detach().reshape(-1)]
    entries = []
    offset = logits.numel()
    for pname, p in params:
        entries.append({'name': pname, 'shape': list(p.shape), 'offset': offset, 'initializers': located[pname]})
        blobs.append(p.grad.detach().reshape(-1))
        offset += p.numel()
    with open(os.path.join(OUT, f'{name}.bin'), 'wb') as fh:
        fh.write(torch.cat(blobs).to(torch.float32).numpy().astype('<f4').tobytes())
    meta = {
        'model': f'{name}.onnx',
        'torch': torch.__version__,
        'opset': opset,
        'config': cfg,
        'inputs': {
            'input_ids': input_ids.tolist(),
            'attention_mask': attention_mask.tolist(),
            **({'position_ids': position_ids.tolist()} if takes_positions else {}),
        },
        'targets': targets.tolist(),
        'targetMask': target_mask.tolist(),
        'loss': loss.item(),
        'logits': {'shape': list(logits.shape), 'offset': 0},
        'params': entries,
    }
    with open(os.path.join(OUT, f'{name}.json'), 'w') as fh:
        json.dump(meta, fh, indent=1)
        fh.write('\n')
    print(f'{name}: opset {opset}, loss {loss.item():.6f}, {sum(p.numel() for _, p in params)} parameters')


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(1)
    for index, spec in enumerate(MODELS):
        export(1000 + index, *spec)


if __name__ == '__main__':
    main()
