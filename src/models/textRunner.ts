/**
 * Runs a decoder language model's ONNX graph for inference: inputs `input_ids` and
 * `attention_mask` (int64 [batch, sequence]), `position_ids` when the graph takes it, and
 * `past_key_values.*` when it has a KV cache; output `logits` [batch, sequence, vocab].
 * - Batches are right-padded (the causal mask keeps padding out of every real position) and
 *   sorted by length, cut so one batch's logits stay under a float budget.
 * - Exact sequence log-probabilities of continuations, next-token distributions, and seeded
 *   sampling (temperature, top-p) that feeds the cache back when the graph has one and re-runs
 *   the whole prefix otherwise. Each row samples from its own stream derived from the seed, so
 *   results do not depend on how rows were batched.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as ort from '../onnx/ort.js';
import { AuditInputError, UnsupportedModelError } from '../errors.js';
import { encodeModel } from '../onnx/io.js';
import { emptyPastTensor } from '../onnx/shapes.js';
import { DataType, graphOf, valueInfoDims, valueInfoElemType, type ModelProto, type ValueInfoProto } from '../onnx/proto.js';
import { Random } from '../random.js';
import { logSumExp } from '../rows.js';
import { createSession, type SessionTuning } from '../train/session.js';
import { cloneModel, loadModelProto, withWeights } from '../train/weights.js';
import { restoreParameters } from '../autodiff/tied.js';
import { inlineNoCacheBranch } from '../onnx/cacheBranch.js';
import { resolveModelSource } from './folder.js';

export interface TextRunnerOptions {
  /** Replacement values for initializers (a student's weights on the base graph). */
  weights?: ReadonlyMap<string, Float32Array>;
  session?: SessionTuning;
  /** Longest sequence the model takes (config.json's n_positions); generation stops there. */
  maxPositions?: number;
  /** Most rows per session.run (default 64). */
  maxBatch?: number;
  /** Most logits floats one session.run may return (default 8M, 32 MB). */
  maxBatchFloats?: number;
  /** Name used in errors (file or folder). */
  name?: string;
}

/** One cache tensor: its graph input, the output that returns it updated, and its fixed dims. */
interface CacheSlot {
  input: string;
  output: string;
  /** Dims with the batch (0) and past-length (rank-2) axes left as placeholders. */
  dims: number[];
  pastAxis: number;
}

export interface ContinuationRow {
  prompt: readonly number[];
  continuation: readonly number[];
}

export interface GenerateOptions {
  seed: number;
  /** One random stream seed per prompt (default: drawn in prompt order from `seed`). */
  rowSeeds?: readonly number[];
  /** 0 = greedy (default 1). */
  temperature?: number;
  /** Nucleus sampling mass (default 1 = off). */
  topP?: number;
  maxNewTokens: number;
  /** Generation of a row stops after this token (it is kept in `tokens`). */
  eosId?: number;
  /** Also return the K most likely tokens (the model's own log-probs, temperature 1) per step. */
  topLogprobs?: number;
  /** Re-run the whole prefix even when the graph has a KV cache (for measuring and testing). */
  noCache?: boolean;
  /** Keep finished rows in a cached batch until its longest row ends (for measuring: the old way). */
  keepFinishedRows?: boolean;
  /** Called after each decoding step with the number of new tokens made in it. */
  onTokens?: (count: number) => void;
}

export interface Generation {
  tokens: number[];
  /** log p(token) under the model (temperature 1), one per token. */
  logprobs: number[];
  /** Per token, the top-K (id, log-prob) pairs, most likely first (when asked). */
  top?: { id: number; logprob: number }[][];
  finish: 'eos' | 'length';
}

const toInt64 = (values: ArrayLike<number>, dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(Array.from(values, BigInt)), dims);

export class TextRunner {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly name: string,
    private readonly logitsName: string,
    readonly hasPositionIds: boolean,
    private readonly cache: readonly CacheSlot[],
    private readonly useCacheBranch: string | undefined,
    readonly maxPositions: number,
    private readonly maxBatch: number,
    private readonly maxBatchFloats: number,
    /** Width of the logits (the model's vocabulary, maybe padded past the tokenizer's). */
    readonly vocab: number,
  ) {}

  get hasKvCache(): boolean {
    return this.cache.length > 0;
  }

  static async load(source: string | Uint8Array | ModelProto, options: TextRunnerOptions = {}): Promise<TextRunner> {
    const name = options.name ?? (typeof source === 'string' ? source : 'model');
    // A model handed in as a ModelProto is the caller's: restored on a copy.
    let model = typeof source === 'string' || source instanceof Uint8Array ? await loadModelProto(source) : cloneModel(source);
    // A student's weights are named as training named them, on the merged decoder's no-past
    // branch inlined (src/onnx/cacheBranch.ts): score it that way too (no cache; whole sequences).
    if (options.weights && options.weights.size > 0) inlineNoCacheBranch(model, name);
    // The graph students were trained on (src/audit/models.ts): a tied head exported as a second
    // copy of the embedding reads the embedding, so a student's one trained copy drives both;
    // parameters the exporter merged by value have their own initializers (and trained values).
    restoreParameters(model);
    if (options.weights && options.weights.size > 0) model = withWeights(model, options.weights);
    const graph = graphOf(model, name);
    const initializers = new Set(graph.initializer.map((t) => t.name));
    const inputs = (graph.input as ValueInfoProto[]).filter((i) => !initializers.has(i.name!));
    const byName = new Map(inputs.map((i) => [i.name!, i]));
    for (const required of ['input_ids', 'attention_mask']) {
      if (!byName.has(required)) throw new UnsupportedModelError(`${name}: decoder graph has no '${required}' input (inputs: ${[...byName.keys()].join(', ')})`, { file: name });
    }
    const outputs = (graph.output as ValueInfoProto[]).map((o) => o.name!);
    const logitsName = outputs.includes('logits') ? 'logits' : outputs[0];
    if (!logitsName) throw new UnsupportedModelError(`${name}: the model has no output`, { file: name });

    const cache: CacheSlot[] = [];
    let useCacheBranch: string | undefined;
    const known = new Set(['input_ids', 'attention_mask', 'position_ids']);
    for (const input of inputs) {
      const inputName = input.name!;
      if (known.has(inputName)) continue;
      if (inputName === 'use_cache_branch') {
        useCacheBranch = inputName;
        continue;
      }
      if (!inputName.startsWith('past_key_values')) throw new UnsupportedModelError(`${name}: decoder input '${inputName}' is not one the runner can feed`, { file: name });
      cache.push(cacheSlot(input, outputs, name));
    }

    const session = await createSession(encodeModel(model), options.session);
    const runner = new TextRunner(
      session,
      name,
      logitsName,
      byName.has('position_ids'),
      cache,
      useCacheBranch,
      options.maxPositions ?? Number.POSITIVE_INFINITY,
      options.maxBatch ?? 64,
      options.maxBatchFloats ?? 8 * 1024 * 1024,
      0,
    );
    // The vocabulary width: exporters often leave the logits' last dim symbolic.
    const probe = await runner.forward([[0]]);
    return Object.assign(runner, { vocab: probe.vocab }) as TextRunner;
  }

  /**
   * A model folder in the transformers.js layout: onnx/model.onnx, and config.json's
   * n_positions (or max_position_embeddings) as the longest sequence.
   */
  static async fromFolder(folder: string, options: Omit<TextRunnerOptions, 'name' | 'maxPositions'> = {}): Promise<TextRunner> {
    const { file } = resolveModelSource(folder);
    let maxPositions: number | undefined;
    const configFile = path.join(folder, 'config.json');
    if (existsSync(configFile)) {
      let config: Record<string, unknown>;
      try {
        config = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
      } catch (e) {
        throw new AuditInputError(`${configFile}: not valid JSON (${(e as Error).message})`, { file: configFile });
      }
      const n = config.n_positions ?? config.max_position_embeddings;
      if (typeof n === 'number' && Number.isInteger(n) && n > 0) maxPositions = n;
    }
    return TextRunner.load(file, { ...options, name: file, ...(maxPositions ? { maxPositions } : {}) });
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }

  /** Logits of right-padded rows in one session.run: [rows, T, vocab] with T the longest row. */
  private async forward(rows: readonly (readonly number[])[]): Promise<{ logits: Float32Array; T: number; vocab: number }> {
    const B = rows.length;
    const T = Math.max(...rows.map((r) => r.length));
    if (T > this.maxPositions) throw new AuditInputError(`${this.name}: a sequence of ${T} tokens is longer than the model's ${this.maxPositions} positions`);
    const ids = new BigInt64Array(B * T);
    const mask = new BigInt64Array(B * T);
    const positions = new BigInt64Array(B * T);
    rows.forEach((r, b) => {
      for (let t = 0; t < T; t++) {
        const real = t < r.length;
        ids[b * T + t] = BigInt(real ? r[t]! : 0);
        mask[b * T + t] = real ? 1n : 0n;
        positions[b * T + t] = BigInt(real ? t : Math.max(0, r.length - 1));
      }
    });
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, [B, T]),
      attention_mask: new ort.Tensor('int64', mask, [B, T]),
    };
    if (this.hasPositionIds) feeds.position_ids = new ort.Tensor('int64', positions, [B, T]);
    this.feedEmptyCache(feeds, B);
    const out = await this.session.run(feeds, [this.logitsName]);
    const logits = out[this.logitsName]!;
    const dims = logits.dims;
    if (dims.length !== 3 || dims[0] !== B || dims[1] !== T) {
      throw new UnsupportedModelError(`${this.name}: output '${this.logitsName}' has shape [${dims.join(', ')}], expected [${B}, ${T}, vocab]`, { file: this.name });
    }
    return { logits: logits.data as Float32Array, T, vocab: dims[2]! };
  }

  private feedEmptyCache(feeds: Record<string, ort.Tensor>, B: number): void {
    // The slots' dims hold 0 at the batch and past axes.
    for (const slot of this.cache) feeds[slot.input] = emptyPastTensor(slot.dims, B);
    if (this.useCacheBranch) feeds[this.useCacheBranch] = new ort.Tensor('bool', new Uint8Array([0]), [1]);
  }

  /** Row indices in batches: sorted by length (less padding), each under the logits budget. */
  private batches(lengths: readonly number[]): number[][] {
    const order = lengths.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
    const out: number[][] = [];
    let current: number[] = [];
    for (const i of order) {
      const T = lengths[i]!; // sorted ascending: the newest row is the longest
      if (current.length > 0 && (current.length >= this.maxBatch || (current.length + 1) * T * this.vocab > this.maxBatchFloats)) {
        out.push(current);
        current = [];
      }
      current.push(i);
    }
    if (current.length) out.push(current);
    return out;
  }

  /**
   * Visits the logits that predict each continuation token: for row r and step j, the logits at
   * position prompt.length - 1 + j (a `vocab`-long view, valid only during the call).
   * A row with an empty continuation still gets step 0 when `includeNext` is set (next-token use).
   */
  async visitPredictions(
    rows: readonly ContinuationRow[],
    visit: (row: number, step: number, logits: Float32Array) => void,
    options: { includeNext?: boolean } = {},
  ): Promise<void> {
    const seqs = rows.map((r, i) => {
      if (r.prompt.length === 0) throw new RangeError(`row ${i}: empty prompt (a decoder needs at least one token to predict from)`);
      return [...r.prompt, ...r.continuation];
    });
    const lengths = seqs.map((s, i) => (options.includeNext ? s.length : Math.max(rows[i]!.prompt.length, s.length - 1)));
    for (const batch of this.batches(lengths)) {
      const { logits, T, vocab } = await this.forward(batch.map((i) => seqs[i]!.slice(0, lengths[i]!)));
      batch.forEach((i, b) => {
        const steps = rows[i]!.continuation.length + (options.includeNext ? 1 : 0);
        for (let j = 0; j < steps; j++) {
          const t = rows[i]!.prompt.length - 1 + j;
          visit(i, j, logits.subarray((b * T + t) * vocab, (b * T + t + 1) * vocab));
        }
      });
    }
  }

  /** log p(continuation | prompt): the sum of its tokens' log-probabilities (float64). */
  async sequenceLogProbs(rows: readonly ContinuationRow[]): Promise<Float64Array> {
    const out = new Float64Array(rows.length);
    await this.visitPredictions(rows, (r, j, logits) => {
      out[r] += logits[rows[r]!.continuation[j]!]! - logSumExp(logits);
    });
    return out;
  }

  /** Log-softmax of the next token after each prompt: rows x vocab (float32). */
  async nextTokenLogProbs(prompts: readonly (readonly number[])[]): Promise<Float32Array> {
    const V = this.vocab;
    const out = new Float32Array(prompts.length * V);
    await this.visitPredictions(
      prompts.map((p) => ({ prompt: p, continuation: [] })),
      (r, _j, logits) => {
        const z = logSumExp(logits);
        for (let v = 0; v < V; v++) out[r * V + v] = logits[v]! - z;
      },
      { includeNext: true },
    );
    return out;
  }

  /** Seeded sampling, one Generation per prompt, in prompt order. */
  async generate(prompts: readonly (readonly number[])[], options: GenerateOptions): Promise<Generation[]> {
    if (!(options.maxNewTokens >= 0)) throw new RangeError(`maxNewTokens must be >= 0, got ${options.maxNewTokens}`);
    const temperature = options.temperature ?? 1;
    const topP = options.topP ?? 1;
    if (!(temperature >= 0)) throw new RangeError(`temperature must be >= 0, got ${temperature}`);
    if (!(topP > 0 && topP <= 1)) throw new RangeError(`topP must be in (0, 1], got ${topP}`);
    // One stream per prompt, drawn in prompt order from the seed: batching cannot change a row's draws.
    const master = new Random(options.seed);
    if (options.rowSeeds && options.rowSeeds.length !== prompts.length) throw new RangeError(`rowSeeds: ${options.rowSeeds.length} seeds for ${prompts.length} prompts`);
    const states = prompts.map((p, i): RowState => {
      if (p.length === 0) throw new RangeError(`prompt ${i}: no tokens`);
      return { prompt: p, random: new Random(options.rowSeeds ? options.rowSeeds[i]! : master.nextUint32()), gen: { tokens: [], logprobs: [], ...(options.topLogprobs ? { top: [] } : {}), finish: 'length' }, done: false };
    });
    const sampler = new Sampler(this.vocab, temperature, topP, options.topLogprobs ?? 0);
    const budget = (s: RowState) => Math.min(options.maxNewTokens, this.maxPositions - s.prompt.length);
    for (const s of states) if (budget(s) <= 0) s.done = true;
    const step = (s: RowState, logits: Float32Array) => {
      const { id, logprob, top } = sampler.draw(logits, s.random);
      s.gen.tokens.push(id);
      s.gen.logprobs.push(logprob);
      if (top) s.gen.top!.push(top);
      if (options.eosId !== undefined && id === options.eosId) {
        s.gen.finish = 'eos';
        s.done = true;
      } else if (s.gen.tokens.length >= budget(s)) s.done = true;
    };
    if (this.hasKvCache && !options.noCache) await this.generateCached(states, step, options.onTokens, options.keepFinishedRows ?? false);
    else await this.generateFullPrefix(states, step, options.onTokens);
    return states.map((s) => s.gen);
  }

  /** Without a cache: every step re-runs each unfinished row's whole sequence. */
  private async generateFullPrefix(states: RowState[], step: (s: RowState, logits: Float32Array) => void, onTokens?: (n: number) => void): Promise<void> {
    for (;;) {
      const active = states.filter((s) => !s.done);
      if (active.length === 0) return;
      const seqs = active.map((s) => [...s.prompt, ...s.gen.tokens]);
      for (const batch of this.batches(seqs.map((s) => s.length))) {
        const { logits, T, vocab } = await this.forward(batch.map((i) => seqs[i]!));
        batch.forEach((i, b) => {
          const t = seqs[i]!.length - 1;
          step(active[i]!, logits.subarray((b * T + t) * vocab, (b * T + t + 1) * vocab));
        });
      }
      onTokens?.(active.length);
    }
  }

  /**
   * With a cache: prompts of equal length share a batch (no padding, so the cache needs no
   * mask surgery); a prefill run, then one token per row per run. Rows that ended leave the batch
   * (and its cache) once a quarter of it is done, unless keepFinishedRows.
   */
  private async generateCached(states: RowState[], step: (s: RowState, logits: Float32Array) => void, onTokens: ((n: number) => void) | undefined, keepFinishedRows: boolean): Promise<void> {
    const byLength = new Map<number, RowState[]>();
    for (const s of states) if (!s.done) byLength.set(s.prompt.length, [...(byLength.get(s.prompt.length) ?? []), s]);
    const lengths = [...byLength.keys()].sort((a, b) => a - b);
    for (const L of lengths) {
      const group = byLength.get(L)!;
      const cap = Math.max(1, Math.min(this.maxBatch, Math.floor(this.maxBatchFloats / (L * this.vocab))));
      for (let start = 0; start < group.length; start += cap) {
        let rows = group.slice(start, start + cap);
        let past: Record<string, ort.Tensor> = {};
        let inputs = rows.map((s) => s.prompt);
        let pastLength = 0;
        for (;;) {
          const B = rows.length;
          const T = inputs[0]!.length;
          const feeds: Record<string, ort.Tensor> = {
            input_ids: toInt64(inputs.flat(), [B, T]),
            attention_mask: toInt64(new Array<number>(B * (pastLength + T)).fill(1), [B, pastLength + T]),
          };
          if (this.hasPositionIds) feeds.position_ids = toInt64(rows.flatMap(() => Array.from({ length: T }, (_, t) => pastLength + t)), [B, T]);
          if (pastLength === 0) this.feedEmptyCache(feeds, B);
          else {
            for (const slot of this.cache) feeds[slot.input] = past[slot.output]!;
            if (this.useCacheBranch) feeds[this.useCacheBranch] = new ort.Tensor('bool', new Uint8Array([1]), [1]);
          }
          const out = await this.session.run(feeds, [this.logitsName, ...this.cache.map((c) => c.output)]);
          const logits = out[this.logitsName]!.data as Float32Array;
          const V = this.vocab;
          let made = 0;
          rows.forEach((s, b) => {
            if (s.done) return;
            step(s, logits.subarray((b * T + T - 1) * V, (b * T + T) * V));
            made++;
          });
          onTokens?.(made);
          const live = rows.flatMap((s, b) => (s.done ? [] : [b]));
          if (live.length === 0) break;
          past = out;
          // Drop finished rows from the batch and its cache once a quarter of it is done: a batch
          // otherwise runs every row until its longest one ends (measured: 2-3x the tokens needed).
          if (!keepFinishedRows && live.length <= (3 * B) / 4) {
            past = cacheRows(out, this.cache.map((c) => c.output), live, B);
            rows = live.map((b) => rows[b]!);
          }
          pastLength += T;
          inputs = rows.map((s) => [s.gen.tokens.length ? s.gen.tokens[s.gen.tokens.length - 1]! : 0]);
        }
      }
    }
  }
}

/** The cache outputs of a run, cut to the batch rows `keep` (of `B`): each row's block is contiguous. */
function cacheRows(out: Record<string, ort.Tensor>, names: readonly string[], keep: readonly number[], B: number): Record<string, ort.Tensor> {
  const kept: Record<string, ort.Tensor> = {};
  for (const name of names) {
    const t = out[name]!;
    const data = t.data as Float32Array;
    const size = data.length / B;
    const cut = new Float32Array(keep.length * size);
    keep.forEach((b, i) => cut.set(data.subarray(b * size, (b + 1) * size), i * size));
    kept[name] = new ort.Tensor('float32', cut, [keep.length, ...t.dims.slice(1)]);
  }
  return kept;
}

interface RowState {
  prompt: readonly number[];
  random: Random;
  gen: Generation;
  done: boolean;
}

function cacheSlot(input: ValueInfoProto, outputs: readonly string[], name: string): CacheSlot {
  const inputName = input.name!;
  if (valueInfoElemType(input) !== DataType.FLOAT) throw new UnsupportedModelError(`${name}: cache input '${inputName}' is not float32`, { file: name });
  const suffix = inputName.slice('past_key_values'.length);
  const output = ['present', 'present_key_values'].map((p) => p + suffix).find((o) => outputs.includes(o));
  if (!output) throw new UnsupportedModelError(`${name}: cache input '${inputName}' has no matching 'present${suffix}' output`, { file: name });
  const dims = valueInfoDims(input);
  if (!dims || dims.length < 3) throw new UnsupportedModelError(`${name}: cache input '${inputName}' declares no [batch, ..., past, ...] shape`, { file: name });
  const pastAxis = dims.length - 2;
  const fixed = dims.map((d, axis) => {
    if (axis === 0 || axis === pastAxis) return 0;
    if (typeof d !== 'number') throw new UnsupportedModelError(`${name}: cache input '${inputName}' has a symbolic dim '${d}' at axis ${axis}`, { file: name });
    return d;
  });
  return { input: inputName, output, dims: fixed, pastAxis };
}


/** Draws one token from logits: temperature, then nucleus (top-p); reports the model's log-prob. */
class Sampler {
  private readonly probs: Float64Array;
  private readonly order: Uint32Array;

  constructor(
    private readonly vocab: number,
    private readonly temperature: number,
    private readonly topP: number,
    private readonly topK: number,
  ) {
    this.probs = new Float64Array(vocab);
    this.order = new Uint32Array(vocab);
  }

  draw(logits: Float32Array, random: Random): { id: number; logprob: number; top?: { id: number; logprob: number }[] } {
    const V = this.vocab;
    const z = logSumExp(logits);
    let id: number;
    if (this.temperature === 0) {
      id = 0;
      for (let v = 1; v < V; v++) if (logits[v]! > logits[id]!) id = v;
    } else {
      const p = this.probs;
      let max = -Infinity;
      for (let v = 0; v < V; v++) if (logits[v]! > max) max = logits[v]!;
      let sum = 0;
      for (let v = 0; v < V; v++) sum += p[v] = Math.exp((logits[v]! - max) / this.temperature);
      if (this.topP < 1) id = this.nucleus(sum, random);
      else {
        let u = random.next() * sum;
        id = V - 1;
        for (let v = 0; v < V; v++) {
          u -= p[v]!;
          if (u < 0) {
            id = v;
            break;
          }
        }
      }
    }
    const result: { id: number; logprob: number; top?: { id: number; logprob: number }[] } = { id, logprob: logits[id]! - z };
    if (this.topK > 0) result.top = topTokens(logits, this.topK).map((v) => ({ id: v, logprob: logits[v]! - z }));
    return result;
  }

  /** The smallest set of most likely tokens holding topP of the mass, renormalised, sampled. */
  private nucleus(sum: number, random: Random): number {
    const p = this.probs;
    const order = this.order;
    for (let v = 0; v < this.vocab; v++) order[v] = v;
    order.sort((a, b) => p[b]! - p[a]! || a - b);
    let kept = 0;
    let mass = 0;
    while (kept < this.vocab && mass < this.topP * sum) mass += p[order[kept++]!]!;
    let u = random.next() * mass;
    for (let k = 0; k < kept; k++) {
      u -= p[order[k]!]!;
      if (u < 0) return order[k]!;
    }
    return order[kept - 1]!;
  }
}

/** Ids of the k largest logits, largest first (ties: lower id first). */
export function topTokens(logits: ArrayLike<number>, k: number): number[] {
  const best: number[] = [];
  for (let v = 0; v < logits.length; v++) {
    if (best.length === k && logits[v]! <= logits[best[k - 1]!]!) continue;
    let i = best.length === k ? k - 1 : best.length;
    if (best.length < k) best.push(v);
    while (i > 0 && logits[best[i - 1]!]! < logits[v]!) {
      best[i] = best[i - 1]!;
      i--;
    }
    best[i] = v;
  }
  return best;
}
