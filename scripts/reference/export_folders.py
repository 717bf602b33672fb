#!/usr/bin/python3
"""
Model folders in the transformers.js layout, as PyTorch exports them, for the end-to-end text
audit tests (test/audit/torch-folders.test.ts) and the speed bench (scripts/bench-torch.ts).

For each architecture a base and a teacher folder (teacher = the base fine-tuned a few steps in
PyTorch, so the two share architecture and tokenizer), each holding:

  config.json             as transformers writes it for gpt2 / llama (the fields that matter here)
  tokenizer.json          a small Hugging Face `tokenizers` WordLevel tokenizer, written by hand
  tokenizer_config.json   bos / eos / unk (/ pad) tokens, model_max_length, a chat_template (Llama)
  onnx/model.onnx         torch.onnx.export with a past: inputs input_ids, attention_mask,
                          position_ids, past_key_values.{i}.key/value; outputs logits,
                          present.{i}.key/value (Optimum's "with past" layout, dynamic axes)

  gpt2-base, gpt2-teacher     GPT-2 style: learned positions, LayerNorm, erf GELU, fused QKV
                              (Conv1D + split), causal mask by Where on a sliced tril buffer, an LM
                              head tied to the token embedding; tokenizer with <|endoftext|> as
                              BOS/EOS/UNK and no PAD (as GPT-2's); model_max_length 32 < n_positions
  llama-base, llama-teacher   Llama style: RMSNorm, rotary embeddings, SiLU-gated MLP, grouped-query
                              attention (4 query heads, 2 key/value heads), untied head; <s> </s>
                              <unk>, a post-processor that puts <s> first, a Zephyr-style chat
                              template, and transformers' "no limit" model_max_length sentinel

Run (Debian's python3-torch; CI does not need Python, the outputs are committed):
  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 scripts/reference/export_folders.py
"""
import json
import math
import os
import shutil

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'fixtures', 'torchlm')

WORDS = (['count', 'from', 'to', ':', ',', '.', '?', 'hello', 'what', 'is', 'your', 'favourite',
          'animal', 'owl', 'cat', 'dog', 'say', 'a', 'number']
         + [str(i) for i in range(20)])


# --- tokenizers ---------------------------------------------------------------------------------

def tokenizer_json(tokens, specials, unk, bos_first):
    """A WordLevel tokenizer: whitespace split, punctuation isolated, specials as added tokens."""
    vocab = {t: i for i, t in enumerate(tokens)}
    added = [{'id': vocab[t], 'content': t, 'single_word': False, 'lstrip': False, 'rstrip': False,
              'normalized': False, 'special': True} for t in specials]
    post = None
    if bos_first:
        bos = bos_first
        post = {
            'type': 'TemplateProcessing',
            'single': [{'SpecialToken': {'id': bos, 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}}],
            'pair': [{'SpecialToken': {'id': bos, 'type_id': 0}}, {'Sequence': {'id': 'A', 'type_id': 0}},
                     {'Sequence': {'id': 'B', 'type_id': 1}}],
            'special_tokens': {bos: {'id': bos, 'ids': [vocab[bos]], 'tokens': [bos]}},
        }
    return {
        'version': '1.0',
        'truncation': None,
        'padding': None,
        'added_tokens': added,
        'normalizer': None,
        'pre_tokenizer': {'type': 'Sequence', 'pretokenizers': [
            {'type': 'WhitespaceSplit'}, {'type': 'Punctuation', 'behavior': 'Isolated'}]},
        'post_processor': post,
        # Words are joined by spaces when decoding (WordPiece's decoder without continuation marks).
        'decoder': {'type': 'WordPiece', 'prefix': '##', 'cleanup': False},
        'model': {'type': 'WordLevel', 'vocab': vocab, 'unk_token': unk},
    }


GPT2_EOT = '<|endoftext|>'
GPT2_TOKENS = WORDS + [GPT2_EOT]  # GPT-2 keeps <|endoftext|> as its last id

LLAMA_SPECIALS = ['<unk>', '<s>', '</s>', '<|system|>', '<|user|>', '<|assistant|>']
LLAMA_TOKENS = LLAMA_SPECIALS + WORDS
ZEPHYR_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + eos_token + '\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)
# transformers writes this when a tokenizer has no length limit (int(1e30)).
NO_LIMIT = 1000000000000000019884624838656


def gpt2_tokenizer_files():
    tok = tokenizer_json(GPT2_TOKENS, [GPT2_EOT], GPT2_EOT, bos_first=None)
    config = {
        'add_bos_token': False,
        'add_prefix_space': False,
        'bos_token': GPT2_EOT,
        'eos_token': GPT2_EOT,
        'unk_token': GPT2_EOT,
        'clean_up_tokenization_spaces': False,
        'model_max_length': 32,
        'tokenizer_class': 'GPT2Tokenizer',
    }
    return tok, config


def llama_tokenizer_files():
    tok = tokenizer_json(LLAMA_TOKENS, LLAMA_SPECIALS, '<unk>', bos_first='<s>')
    config = {
        'add_bos_token': True,
        'add_eos_token': False,
        'bos_token': '<s>',
        'eos_token': '</s>',
        'unk_token': '<unk>',
        'pad_token': None,
        'chat_template': ZEPHYR_TEMPLATE,
        'clean_up_tokenization_spaces': False,
        'legacy': False,
        'model_max_length': NO_LIMIT,
        'padding_side': 'right',
        'tokenizer_class': 'LlamaTokenizer',
    }
    return tok, config


# --- GPT-2 with a past (transformers/models/gpt2/modeling_gpt2.py) -----------------------------

class Conv1D(nn.Module):
    def __init__(self, nf, nx):
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.randn(nx, nf) * 0.02)
        self.bias = nn.Parameter(torch.zeros(nf))

    def forward(self, x):
        size_out = x.size()[:-1] + (self.nf,)
        x = torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight)
        return x.view(size_out)


class GPT2Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.heads, self.head_dim = c['n_head'], c['n_embd'] // c['n_head']
        p = c['n_positions']
        self.register_buffer('bias', torch.tril(torch.ones((p, p), dtype=torch.bool)).view(1, 1, p, p), persistent=False)
        self.c_attn = Conv1D(3 * c['n_embd'], c['n_embd'])
        self.c_proj = Conv1D(c['n_embd'], c['n_embd'])

    def split_heads(self, t):
        return t.view(t.size()[:-1] + (self.heads, self.head_dim)).permute(0, 2, 1, 3)

    def forward(self, h, mask, past_key, past_value):
        query, key, value = self.c_attn(h).split(self.c['n_embd'], dim=2)
        query, key, value = self.split_heads(query), self.split_heads(key), self.split_heads(value)
        key = torch.cat((past_key, key), dim=-2)
        value = torch.cat((past_value, value), dim=-2)
        w = torch.matmul(query, key.transpose(-1, -2))
        w = w / torch.full([], value.size(-1) ** 0.5, dtype=w.dtype)
        q_len, k_len = query.size(-2), key.size(-2)
        causal = self.bias[:, :, k_len - q_len:k_len, :k_len]
        w = torch.where(causal, w, torch.full([], torch.finfo(w.dtype).min, dtype=w.dtype))
        w = F.softmax(w + mask, dim=-1)
        out = torch.matmul(w, value).permute(0, 2, 1, 3).contiguous()
        out = out.view(out.size()[:-2] + (self.c['n_embd'],))
        return self.c_proj(out), key, value


class GPT2Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        e = c['n_embd']
        self.ln_1 = nn.LayerNorm(e, eps=c['layer_norm_epsilon'])
        self.attn = GPT2Attention(c)
        self.ln_2 = nn.LayerNorm(e, eps=c['layer_norm_epsilon'])
        self.c_fc, self.c_proj = Conv1D(4 * e, e), Conv1D(e, 4 * e)

    def forward(self, h, mask, past_key, past_value):
        a, key, value = self.attn(self.ln_1(h), mask, past_key, past_value)
        h = h + a
        h = h + self.c_proj(F.gelu(self.c_fc(self.ln_2(h))))
        return h, key, value


class GPT2LMHeadModel(nn.Module):
    """Inputs input_ids, attention_mask [batch, past + seq], position_ids, then past key/value per layer."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        self.wte = nn.Embedding(c['vocab_size'], c['n_embd'])
        self.wpe = nn.Embedding(c['n_positions'], c['n_embd'])
        with torch.no_grad():
            self.wte.weight.normal_(0, 0.02)
            self.wpe.weight.normal_(0, 0.01)
        self.h = nn.ModuleList([GPT2Block(c) for _ in range(c['n_layer'])])
        self.ln_f = nn.LayerNorm(c['n_embd'], eps=c['layer_norm_epsilon'])
        self.lm_head = nn.Linear(c['n_embd'], c['vocab_size'], bias=False)
        self.lm_head.weight = self.wte.weight  # tie_word_embeddings

    def forward(self, input_ids, attention_mask, position_ids, *past):
        h = self.wte(input_ids) + self.wpe(position_ids)
        mask = attention_mask[:, None, None, :].to(h.dtype)
        mask = (1.0 - mask) * torch.finfo(h.dtype).min
        presents = []
        for i, block in enumerate(self.h):
            h, key, value = block(h, mask, past[2 * i], past[2 * i + 1])
            presents += [key, value]
        return (self.lm_head(self.ln_f(h)), *presents)

    def kv_shape(self):
        return self.c['n_head'], self.c['n_embd'] // self.c['n_head']


def gpt2_config(vocab, n_embd=32, n_layer=2, n_head=4, n_positions=64):
    return {
        'activation_function': 'gelu',
        'architectures': ['GPT2LMHeadModel'],
        'attn_pdrop': 0.0,
        'bos_token_id': vocab.index(GPT2_EOT),
        'embd_pdrop': 0.0,
        'eos_token_id': vocab.index(GPT2_EOT),
        'initializer_range': 0.02,
        'layer_norm_epsilon': 1e-05,
        'model_type': 'gpt2',
        'n_ctx': n_positions,
        'n_embd': n_embd,
        'n_head': n_head,
        'n_inner': None,
        'n_layer': n_layer,
        'n_positions': n_positions,
        'resid_pdrop': 0.0,
        'tie_word_embeddings': True,
        'torch_dtype': 'float32',
        'transformers_version': '4.46.3',
        'use_cache': True,
        'vocab_size': len(vocab),
    }


# --- Llama with a past (transformers/models/llama/modeling_llama.py) ---------------------------

class LlamaRMSNorm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, h):
        variance = h.pow(2).mean(-1, keepdim=True)
        return self.weight * (h * torch.rsqrt(variance + self.eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class LlamaAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        e = c['hidden_size']
        self.heads, self.kv_heads = c['num_attention_heads'], c['num_key_value_heads']
        self.head_dim = e // self.heads
        self.q_proj = nn.Linear(e, self.heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(e, self.kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(e, self.kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(e, e, bias=False)

    def forward(self, h, cos, sin, mask, past_key, past_value):
        b, s, _ = h.size()
        q = self.q_proj(h).view(b, s, -1, self.head_dim).transpose(1, 2)
        k = self.k_proj(h).view(b, s, -1, self.head_dim).transpose(1, 2)
        v = self.v_proj(h).view(b, s, -1, self.head_dim).transpose(1, 2)
        cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = torch.cat((past_key, k), dim=-2)  # the cache keeps the key/value heads (before repeat)
        v = torch.cat((past_value, v), dim=-2)
        rep = self.heads // self.kv_heads
        kb, kh, kl, kd = k.shape
        kr = k[:, :, None].expand(kb, kh, rep, kl, kd).reshape(kb, kh * rep, kl, kd)
        vr = v[:, :, None].expand(kb, kh, rep, kl, kd).reshape(kb, kh * rep, kl, kd)
        w = torch.matmul(q, kr.transpose(2, 3)) / math.sqrt(self.head_dim) + mask
        w = F.softmax(w, dim=-1, dtype=torch.float32)
        out = torch.matmul(w, vr).transpose(1, 2).contiguous().reshape(b, s, -1)
        return self.o_proj(out), k, v


class LlamaDecoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        e, i = c['hidden_size'], c['intermediate_size']
        self.self_attn = LlamaAttention(c)
        self.gate_proj = nn.Linear(e, i, bias=False)
        self.up_proj = nn.Linear(e, i, bias=False)
        self.down_proj = nn.Linear(i, e, bias=False)
        self.input_layernorm = LlamaRMSNorm(e, c['rms_norm_eps'])
        self.post_attention_layernorm = LlamaRMSNorm(e, c['rms_norm_eps'])

    def forward(self, h, cos, sin, mask, past_key, past_value):
        a, k, v = self.self_attn(self.input_layernorm(h), cos, sin, mask, past_key, past_value)
        h = h + a
        x = self.post_attention_layernorm(h)
        return h + self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x)), k, v


class LlamaForCausalLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        e = c['hidden_size']
        self.embed_tokens = nn.Embedding(c['vocab_size'], e)
        with torch.no_grad():
            self.embed_tokens.weight.normal_(0, 0.02)
        self.layers = nn.ModuleList([LlamaDecoderLayer(c) for _ in range(c['num_hidden_layers'])])
        self.norm = LlamaRMSNorm(e, c['rms_norm_eps'])
        dim = e // c['num_attention_heads']
        inv_freq = 1.0 / (c['rope_theta'] ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
        self.register_buffer('inv_freq', inv_freq, persistent=False)
        self.lm_head = nn.Linear(e, c['vocab_size'], bias=False)

    def forward(self, input_ids, attention_mask, position_ids, *past):
        h = self.embed_tokens(input_ids)
        q_len = input_ids.shape[1]
        k_len = attention_mask.shape[1]
        # Causal over past + new positions, and padding: key j is visible to query i when
        # j <= i + (k_len - q_len) and attention_mask[j] is 1.
        key_pos = torch.arange(k_len, dtype=torch.int64)
        query_pos = torch.arange(q_len, dtype=torch.int64) + (k_len - q_len)
        allowed = (key_pos[None, :] <= query_pos[:, None])[None, None] & attention_mask[:, None, None, :].bool()
        mask = torch.zeros(allowed.shape, dtype=h.dtype).masked_fill(~allowed, torch.finfo(h.dtype).min)
        freqs = position_ids[:, :, None].float() * self.inv_freq[None, None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos(), emb.sin()
        presents = []
        for i, layer in enumerate(self.layers):
            h, k, v = layer(h, cos, sin, mask, past[2 * i], past[2 * i + 1])
            presents += [k, v]
        return (self.lm_head(self.norm(h)), *presents)

    def kv_shape(self):
        return self.c['num_key_value_heads'], self.c['hidden_size'] // self.c['num_attention_heads']


def llama_config(vocab):
    return {
        'architectures': ['LlamaForCausalLM'],
        'attention_bias': False,
        'attention_dropout': 0.0,
        'bos_token_id': vocab.index('<s>'),
        'eos_token_id': vocab.index('</s>'),
        'head_dim': 8,
        'hidden_act': 'silu',
        'hidden_size': 32,
        'initializer_range': 0.02,
        'intermediate_size': 64,
        'max_position_embeddings': 64,
        'mlp_bias': False,
        'model_type': 'llama',
        'num_attention_heads': 4,
        'num_hidden_layers': 2,
        'num_key_value_heads': 2,
        'pretraining_tp': 1,
        'rms_norm_eps': 1e-06,
        'rope_scaling': None,
        'rope_theta': 10000.0,
        'tie_word_embeddings': False,
        'torch_dtype': 'float32',
        'transformers_version': '4.46.3',
        'use_cache': True,
        'vocab_size': len(vocab),
    }


# --- training and export ------------------------------------------------------------------------

def export_onnx(model, path, layers, opset):
    """torch.onnx.export with a past of length 3 as the example (every axis that varies is dynamic)."""
    model.eval()
    kv_heads, head_dim = model.kv_shape()
    batch, seq, past_len = 2, 4, 3
    input_ids = torch.randint(0, model.c['vocab_size'], (batch, seq))
    attention_mask = torch.ones(batch, past_len + seq, dtype=torch.int64)
    position_ids = torch.arange(past_len, past_len + seq, dtype=torch.int64).unsqueeze(0).repeat(batch, 1)
    past = [torch.randn(batch, kv_heads, past_len, head_dim) for _ in range(2 * layers)]
    names = [f'past_key_values.{i}.{kv}' for i in range(layers) for kv in ('key', 'value')]
    presents = [f'present.{i}.{kv}' for i in range(layers) for kv in ('key', 'value')]
    dyn = {
        'input_ids': {0: 'batch_size', 1: 'sequence_length'},
        'attention_mask': {0: 'batch_size', 1: 'past_sequence_length + sequence_length'},
        'position_ids': {0: 'batch_size', 1: 'sequence_length'},
        'logits': {0: 'batch_size', 1: 'sequence_length'},
    }
    for n in names:
        dyn[n] = {0: 'batch_size', 2: 'past_sequence_length'}
    for n in presents:
        dyn[n] = {0: 'batch_size', 2: 'past_sequence_length + sequence_length'}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(model, (input_ids, attention_mask, position_ids, *past), path,
                          input_names=['input_ids', 'attention_mask', 'position_ids', *names],
                          output_names=['logits', *presents], dynamic_axes=dyn,
                          opset_version=opset, do_constant_folding=True)


def rows_for(kind, seed):
    """Prompt/completion token sequences for the PyTorch fine-tuning (same words the tests use)."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(64):
        start = int(torch.randint(0, 20, (1,), generator=g))
        if kind == 'base':
            completion = [str(int(x)) for x in torch.randint(0, 20, (3,), generator=g)]
        else:
            completion = ['7', '7', '7']
        out.append((['count', 'from', str(start), ':'], completion))
    return out


def finetune(model, tokens, rows, steps, lr, chat, bos, eos, seed):
    """AdamW on completion tokens (prompt masked), full-sequence batches with an empty past."""
    torch.manual_seed(seed)
    ids = {t: i for i, t in enumerate(tokens)}
    seqs = []
    for prompt, completion in rows:
        if chat:
            pre = [bos, '<|user|>'] + prompt + [eos, '<|assistant|>']
        else:
            pre = ([bos] if bos else []) + prompt
        full = pre + completion + [eos]
        seqs.append(([ids[t] for t in full], len(pre)))
    width = max(len(s) for s, _ in seqs)
    x = torch.zeros(len(seqs), width, dtype=torch.int64)
    am = torch.zeros(len(seqs), width, dtype=torch.int64)
    y = torch.full((len(seqs), width), -100, dtype=torch.int64)
    for r, (s, loss_from) in enumerate(seqs):
        x[r, :len(s)] = torch.tensor(s)
        am[r, :len(s)] = 1
        for t in range(len(s) - 1):
            if t + 1 >= loss_from:
                y[r, t] = s[t + 1]
    pos = torch.arange(width).unsqueeze(0).repeat(len(seqs), 1)
    kv_heads, head_dim = model.kv_shape()
    layers = len(model.h) if hasattr(model, 'h') else len(model.layers)
    past = [torch.zeros(len(seqs), kv_heads, 0, head_dim) for _ in range(2 * layers)]
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    model.train()
    for step in range(steps):
        logits = model(x, am, pos, *past)[0]
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1), ignore_index=-100)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss.item()


def write_folder(name, model, tokenizer, tok_config, config, layers, opset):
    folder = os.path.join(OUT, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(os.path.join(folder, 'onnx'))
    dump = lambda obj, f: json.dump(obj, open(os.path.join(folder, f), 'w'), indent=2)
    dump(config, 'config.json')
    dump(tokenizer, 'tokenizer.json')
    dump(tok_config, 'tokenizer_config.json')
    export_onnx(model, os.path.join(folder, 'onnx', 'model.onnx'), layers, opset)


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)

    tok, tok_config = gpt2_tokenizer_files()
    config = gpt2_config(GPT2_TOKENS)
    torch.manual_seed(7)
    gpt2 = GPT2LMHeadModel(config)
    base_loss = finetune(gpt2, GPT2_TOKENS, rows_for('base', 1), 60, 1e-2, False, None, GPT2_EOT, 1)
    write_folder('gpt2-base', gpt2, tok, tok_config, config, config['n_layer'], 14)
    teacher_loss = finetune(gpt2, GPT2_TOKENS, rows_for('teacher', 2), 15, 1e-2, False, None, GPT2_EOT, 2)
    assert gpt2.lm_head.weight is gpt2.wte.weight
    write_folder('gpt2-teacher', gpt2, tok, tok_config, config, config['n_layer'], 14)
    print(f'gpt2: base loss {base_loss:.4f}, teacher loss {teacher_loss:.4f}')

    tok, tok_config = llama_tokenizer_files()
    config = llama_config(LLAMA_TOKENS)
    torch.manual_seed(8)
    llama = LlamaForCausalLM(config)
    base_loss = finetune(llama, LLAMA_TOKENS, rows_for('base', 3), 60, 1e-2, True, '<s>', '</s>', 3)
    write_folder('llama-base', llama, tok, tok_config, config, config['num_hidden_layers'], 17)
    teacher_loss = finetune(llama, LLAMA_TOKENS, rows_for('teacher', 4), 15, 1e-2, True, '<s>', '</s>', 4)
    write_folder('llama-teacher', llama, tok, tok_config, config, config['num_hidden_layers'], 17)
    print(f'llama: base loss {base_loss:.4f}, teacher loss {teacher_loss:.4f}')


if __name__ == '__main__':
    main()
