/**
 * A content-addressed cache of trained probe runs (`cache: DIR` in audit.yaml, `--cache DIR`).
 *
 * Training is deterministic: the same graph, initial weights, data, recipe and seed give the same
 * weights. So a run is stored under the SHA-256 of everything that decides it, and an audit that
 * asks for the same run again (a CI job re-run on unchanged data, a pipeline gate that audits
 * batch after batch against one fixed `baseline:`) reads it instead of training it. The key also
 * covers this tool's own code and runtime versions, so a changed engine never reads old runs.
 *
 * An entry is two files, `<key>.bin` (the weights, float32) written first and `<key>.json` (what
 * they are, with the SHA-256 of the .bin) written last as the commit; both by rename, so a killed
 * audit leaves no half entry. A damaged or mismatched entry is reported and trained again,
 * never used. Runs trained by a fine-tuning service are not cached (they live on the service).
 */
import { createHash, type Hash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeModel } from '../onnx/io.js';
import { silent, type ProgressListener } from '../events.js';
import type { ModelProto } from '../onnx/proto.js';
import type { LogitsStudentJob, StudentJob, StudentResult, TrainerBackend, Weights } from './backend.js';
import { writeWhole } from '../data/output-dir.js';
import { sha256File } from './hash.js';
import { runtimeVersions } from './versions.js';

/** Bumped when the entry layout or the key's contents change. */
const CACHE_FORMAT = 1;
const MARK = 'audit-dataset run cache';

export interface RunCacheStats {
  hits: number;
  misses: number;
  /** Entries found damaged or not matching their job, and trained again. */
  damaged: number;
}

interface EntryMeta {
  format: string;
  version: number;
  key: string;
  steps: number;
  trainingMs: number;
  finalLoss: number;
  tensors: [string, number][];
  sha256: string;
}

export class CachingBackend implements TrainerBackend {
  readonly name: string;
  readonly stats: RunCacheStats = { hits: 0, misses: 0, damaged: 0 };
  private readonly folder: string;
  /** Present exactly when the wrapped backend has it (the gradient screen checks for it). */
  readonly gradient?: (job: Omit<LogitsStudentJob, 'train' | 'label'>) => Promise<Weights>;

  constructor(
    readonly inner: TrainerBackend,
    dir: string,
    private readonly emit: ProgressListener = silent,
  ) {
    this.name = inner.name;
    this.folder = path.join(dir, `v${CACHE_FORMAT}`);
    if (inner.gradient) this.gradient = (job) => inner.gradient!(job);
  }

  get concurrency(): number | undefined {
    return this.inner.concurrency;
  }

  get workers(): number | undefined {
    return this.inner.workers;
  }

  async train(job: StudentJob): Promise<StudentResult> {
    if (job.kind === 'chat') return this.inner.train(job);
    const key = runKey(job);
    const cached = await this.read(key, job);
    if (cached) {
      this.stats.hits++;
      return cached;
    }
    this.stats.misses++;
    const result = await this.inner.train(job);
    if (!result.remote) await this.write(key, result);
    return result;
  }

  predict(model: ModelProto, weights: Weights | undefined, inputs: Float32Array, rows: number): Promise<{ outputs: Float32Array; width: number }> {
    return this.inner.predict(model, weights, inputs, rows);
  }

  shape(model: ModelProto): Promise<{ inputWidth: number; outputWidth: number }> {
    return this.inner.shape(model);
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }

  private file(key: string, ext: 'json' | 'bin'): string {
    return path.join(this.folder, `${key}.${ext}`);
  }

  /** The stored run, or undefined when absent; a damaged entry is reported and ignored. */
  private async read(key: string, job: StudentJob): Promise<StudentResult | undefined> {
    let text: string;
    try {
      text = await readFile(this.file(key, 'json'), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const meta = parseMeta(text, key);
      // The weights are the job's parameters: same names, same sizes (bounds what is read).
      let total = 0;
      for (const [name, length] of meta.tensors) {
        const init = job.init.get(name);
        if (!init) throw new Error(`names a tensor '${name}' the job does not train`);
        if (init.length !== length) throw new Error(`tensor '${name}' has ${length} values, the job's has ${init.length}`);
        total += length;
      }
      const bytes = await readFile(this.file(key, 'bin'));
      if (bytes.length !== total * 4) throw new Error(`weights file holds ${bytes.length} bytes, expected ${total * 4}`);
      if (createHash('sha256').update(bytes).digest('hex') !== meta.sha256) throw new Error('weights file does not match its SHA-256');
      const weights: Weights = new Map();
      let offset = 0;
      for (const [name, length] of meta.tensors) {
        const values = new Float32Array(length);
        new Uint8Array(values.buffer).set(bytes.subarray(offset * 4, (offset + length) * 4));
        weights.set(name, values);
        offset += length;
      }
      // Nothing trained now: trainingMs is a wall-clock fact of this run (report.run), so 0.
      return { weights, steps: meta.steps, trainingMs: 0, finalLoss: meta.finalLoss };
    } catch (e) {
      this.stats.damaged++;
      this.emit({ kind: 'warning', stage: 'train', message: `run cache entry ${this.file(key, 'json')} is not usable (${(e as Error).message}); training the run again` });
      return undefined;
    }
  }

  private async write(key: string, result: StudentResult): Promise<void> {
    const tensors = [...result.weights.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const total = tensors.reduce((n, [, w]) => n + w.length, 0);
    const bytes = new Uint8Array(total * 4);
    let offset = 0;
    for (const [, w] of tensors) {
      bytes.set(new Uint8Array(w.buffer, w.byteOffset, w.length * 4), offset);
      offset += w.length * 4;
    }
    const meta: EntryMeta = {
      format: MARK,
      version: CACHE_FORMAT,
      key,
      steps: result.steps,
      trainingMs: result.trainingMs,
      finalLoss: result.finalLoss,
      tensors: tensors.map(([name, w]) => [name, w.length]),
      sha256: createHash('sha256').update(bytes).digest('hex'),
    };
    try {
      await mkdir(this.folder, { recursive: true });
      // The .bin first, the .json (the commit) last.
      await writeWhole(this.file(key, 'bin'), bytes);
      await writeWhole(this.file(key, 'json'), `${JSON.stringify(meta)}\n`);
    } catch (e) {
      // A cache that cannot be written costs time, not correctness.
      this.emit({ kind: 'warning', stage: 'train', message: `run cache ${this.folder}: could not store a run (${(e as Error).message})` });
    }
  }
}

/**
 * A JSON value made deterministically from `parts` (a generated text baseline: the base model's
 * files, the prompts, the sampling settings and seed), read from the cache folder when it is there
 * and `valid`, else made and stored. Without a folder it is just made (and `parts` not computed).
 * A value holding a non-finite number is not stored (JSON cannot give it back the same).
 */
export async function cachedValue<T>(
  dir: string | undefined,
  kind: string,
  parts: () => Promise<unknown>,
  make: () => Promise<T>,
  options: { valid: (value: unknown) => value is T; emit?: ProgressListener },
): Promise<{ value: T; cached: boolean }> {
  if (!dir) return { value: await make(), cached: false };
  const emit = options.emit ?? silent;
  const key = cacheKey(kind, await parts());
  const folder = path.join(dir, `v${CACHE_FORMAT}`);
  const file = path.join(folder, `${kind}-${key}.json`);
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text !== undefined) {
    try {
      const entry = JSON.parse(text) as { format?: unknown; version?: unknown; key?: unknown; sha256?: unknown; value?: unknown };
      if (entry.format !== MARK || entry.version !== CACHE_FORMAT || entry.key !== key) throw new Error('not an entry of this cache format for this key');
      if (createHash('sha256').update(JSON.stringify(entry.value)).digest('hex') !== entry.sha256) throw new Error('the value does not match its SHA-256');
      if (!options.valid(entry.value)) throw new Error('the value does not fit what was asked for');
      return { value: entry.value, cached: true };
    } catch (e) {
      emit({ kind: 'warning', stage: 'cache', message: `run cache entry ${file} is not usable (${(e as Error).message}); making it again` });
    }
  }
  const value = await make();
  let json: string;
  try {
    json = JSON.stringify(value, (_k, v: unknown) => {
      if (typeof v === 'number' && !Number.isFinite(v)) throw new RangeError('non-finite');
      return v;
    });
  } catch {
    return { value, cached: false };
  }
  const entry = `{"format":${JSON.stringify(MARK)},"version":${CACHE_FORMAT},"key":"${key}","sha256":"${createHash('sha256').update(json).digest('hex')}","value":${json}}\n`;
  try {
    await mkdir(folder, { recursive: true });
    await writeWhole(file, entry);
  } catch (e) {
    emit({ kind: 'warning', stage: 'cache', message: `run cache ${folder}: could not store a ${kind} (${(e as Error).message})` });
  }
  return { value, cached: false };
}

function parseMeta(text: string, key: string): EntryMeta {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    throw new Error('not valid JSON');
  }
  const o = m as Partial<EntryMeta>;
  if (typeof m !== 'object' || m === null || o.format !== MARK || o.version !== CACHE_FORMAT || o.key !== key) throw new Error('not an entry of this cache format for this key');
  const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
  if (!Number.isSafeInteger(o.steps) || !finite(o.trainingMs) || typeof o.finalLoss !== 'number' || typeof o.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(o.sha256)) throw new Error('malformed fields');
  if (!Array.isArray(o.tensors) || !o.tensors.every((t) => Array.isArray(t) && t.length === 2 && typeof t[0] === 'string' && Number.isSafeInteger(t[1]) && (t[1] as number) >= 0)) throw new Error('malformed tensor list');
  if (new Set(o.tensors.map((t) => t[0])).size !== o.tensors.length) throw new Error('a tensor named twice');
  return o as EntryMeta;
}

/**
 * SHA-256 of everything that decides a run: this tool's code and runtime versions, the job's
 * kind, task, recipe (seed included), graph, initial weights and data. Not its label or listener.
 */
export function runKey(job: Exclude<StudentJob, { kind: 'chat' }>): string {
  return cacheKey('run', [job.kind, job.task, job.train, encodeModel(job.model), job.init, job.data]);
}

/** The key of an entry of `kind` made from `parts`, under this tool's code and runtime versions. */
function cacheKey(kind: string, parts: unknown): string {
  return contentHash([MARK, CACHE_FORMAT, kind, runtimeVersions(), engineFingerprint(), parts]);
}

/** SHA-256 of `value`'s canonical serialization (`feed`): equal exactly when the values are. */
export function contentHash(value: unknown): string {
  const h = createHash('sha256');
  feed(h, value);
  return h.digest('hex');
}

/** A canonical, typed serialization into the hash: no two different values feed the same bytes. */
function feed(h: Hash, v: unknown): void {
  if (v === undefined) h.update('u');
  else if (v === null) h.update('n');
  else if (typeof v === 'boolean') h.update(v ? 'T' : 'F');
  else if (typeof v === 'number') {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    h.update('d').update(b);
  } else if (typeof v === 'string') h.update(`s${Buffer.byteLength(v)}:`).update(v);
  else if (typeof v === 'bigint') h.update(`i${v.toString()};`);
  else if (ArrayBuffer.isView(v)) h.update(`a${v.constructor.name}${v.byteLength}:`).update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  else if (v instanceof Map) {
    const entries = [...v.entries()].map(([k, x]) => [String(k), x] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    h.update(`M${entries.length}:`);
    for (const [k, x] of entries) {
      feed(h, k);
      feed(h, x);
    }
  } else if (Array.isArray(v)) {
    h.update(`A${v.length}:`);
    for (const x of v) feed(h, x);
  } else if (typeof v === 'object') {
    const keys = Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort();
    h.update(`O${keys.length}:`);
    for (const k of keys) {
      feed(h, k);
      feed(h, (v as Record<string, unknown>)[k]);
    }
  } else throw new TypeError(`run cache: cannot hash a ${typeof v}`);
}

let fingerprint: string | undefined;

/**
 * SHA-256 of this tool's own code (the src/ or dist/ folder this module was loaded from): a
 * development checkout keeps one version number across engine changes, and must not reuse
 * runs an older engine trained.
 */
function engineFingerprint(): string {
  if (fingerprint) return fingerprint;
  const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
  const h = createHash('sha256');
  const files = (readdirSync(root, { recursive: true }) as string[]).filter((f) => /\.(ts|js|mjs|cjs)$/.test(f) && !f.endsWith('.d.ts')).sort();
  for (const f of files) {
    const text = readFileSync(path.join(root, f));
    h.update(`${f.split(path.sep).join('/')} ${text.length}:`).update(text);
  }
  fingerprint = h.digest('hex');
  return fingerprint;
}

/**
 * SHA-256 of every file a model folder's text model is read from: everything under onnx/ (the
 * graph and any external data) and the tokenizer and config files.
 */
export async function modelFolderIdentity(folder: string): Promise<Record<string, string>> {
  const onnxDir = path.join(folder, 'onnx');
  const files = [
    ...(readdirSync(onnxDir, { recursive: true }) as string[]).map((f) => path.join('onnx', f)),
    'tokenizer.json',
    'tokenizer_config.json',
    'config.json',
  ].sort();
  const out: Record<string, string> = {};
  for (const f of files) {
    // Absent files (an optional config.json) and sub-folders are not part of the identity.
    const hash = await sha256File(path.join(folder, f)).catch(() => undefined);
    if (hash) out[f.split(path.sep).join('/')] = hash;
  }
  return out;
}
