/**
 * A local OpenAI-compatible service for the tests (node:http): the subset a service audit uses —
 * files (multipart upload, list), fine-tuning jobs (create, list, retrieve, events, cancel) and
 * chat completions with logprobs — answered by small real models: a job really fine-tunes the
 * base's tiny GPT on the uploaded chat rows (our own trainer), and chat completions sample from
 * the model (its weights as trained), with OpenAI's logprobs shape. Faults can be injected per
 * request (429 with Retry-After, 500, a dropped connection) and per job (fail, never finish).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadTextModel, type TextModel } from '../../src/models/generate.js';
import { encodeTextRow } from '../../src/models/textRows.js';
import { encodePrompt, loadTokenizer } from '../../src/models/tokenizer.js';
import { readModel } from '../../src/onnx/io.js';
import { modelFileOf } from '../../src/models/folder.js';
import { trainText } from '../../src/train/textBatches.js';
import { Trainer } from '../../src/train/trainer.js';
import type { Weights } from '../../src/train/weights.js';

export type Fault = { path: RegExp; method?: string; kind: '429'; retryAfter: string } | { path: RegExp; method?: string; kind: '500' | 'drop' };

interface Job {
  id: string;
  model: string;
  training_file: string;
  seed: number;
  suffix?: string;
  hyperparameters: Record<string, unknown>;
  status: string;
  fine_tuned_model: string | null;
  trained_tokens: number | null;
  created_at: number;
  error: { code: string; message: string } | null;
  events: { id: string; object: string; created_at: number; level: string; message: string; type: string; data: Record<string, unknown> | null }[];
}

export class FakeService {
  readonly requests: { method: string; path: string; authorization: string | undefined }[] = [];
  readonly files = new Map<string, { id: string; filename: string; bytes: number; content: string; created_at: number }>();
  readonly jobs = new Map<string, Job>();
  /** Model id -> folder and (fine-tuned) weights. */
  readonly models = new Map<string, { folder: string; weights?: Weights }>();
  faults: Fault[] = [];
  /** The next created jobs fail with this message / never finish. */
  failJobs: string | undefined;
  hangJobs = false;
  /** Jobs train to the end before their create request is answered: a fast service whose job is done before the first poll. */
  finishBeforeReply = false;
  /** Training settings of the tiny fine-tunes. */
  lr = 0.01;
  private server: Server | undefined;
  private loaded = new Map<string, Promise<TextModel>>();
  private counter = 0;
  url = '';

  constructor(models: Record<string, string>) {
    for (const [id, folder] of Object.entries(models)) this.models.set(id, { folder });
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
    for (const m of this.loaded.values()) await (await m).runner.dispose();
  }

  /** Creates and uploads counted by kind (requests that reached a handler). */
  count(method: string, path: RegExp): number {
    return this.requests.filter((r) => r.method === method && path.test(r.path)).length;
  }

  private id(prefix: string): string {
    return `${prefix}-${(++this.counter).toString(36).padStart(6, '0')}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname.replace(/^\/v1/, '');
    const method = req.method ?? 'GET';
    const fault = this.faults.findIndex((f) => f.path.test(path) && (f.method === undefined || f.method === method));
    if (fault >= 0) {
      const f = this.faults.splice(fault, 1)[0]!;
      if (f.kind === 'drop') return void req.socket.destroy();
      if (f.kind === '429') return this.send(res, 429, { error: { message: 'Rate limit reached', type: 'requests' } }, { 'retry-after': f.retryAfter });
      return this.send(res, 500, { error: { message: 'The server had an error', type: 'server_error' } });
    }
    this.requests.push({ method, path, authorization: req.headers.authorization });
    try {
      const out = await this.route(method, path, url, body, req.headers['content-type'] ?? '');
      this.send(res, out.status ?? 200, out.body);
    } catch (e) {
      this.send(res, 500, { error: { message: (e as Error).message } });
    }
  }

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  private async route(method: string, path: string, url: URL, body: Buffer, contentType: string): Promise<{ status?: number; body: unknown }> {
    if (method === 'POST' && path === '/files') {
      const form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
      const file = form.get('file');
      if (form.get('purpose') !== 'fine-tune' || !(file instanceof Blob)) return { status: 400, body: { error: { message: 'purpose fine-tune and a file are required' } } };
      const content = await file.text();
      const f = { id: this.id('file'), filename: (file as File).name, bytes: Buffer.byteLength(content), content, created_at: Math.floor(Date.now() / 1000) };
      this.files.set(f.id, f);
      return { body: this.fileObject(f) };
    }
    if (method === 'GET' && path === '/files') return { body: { object: 'list', data: [...this.files.values()].map((f) => this.fileObject(f)) } };
    if (method === 'POST' && path === '/fine_tuning/jobs') return this.createJob(JSON.parse(body.toString()) as Record<string, unknown>);
    if (method === 'GET' && path === '/fine_tuning/jobs') return { body: { object: 'list', data: [...this.jobs.values()].reverse().map((j) => this.jobObject(j)), has_more: false } };
    let m = /^\/fine_tuning\/jobs\/([^/]+)(\/events|\/cancel)?$/.exec(path);
    if (m) {
      const job = this.jobs.get(m[1]!);
      if (!job) return { status: 404, body: { error: { message: `No such job: ${m[1]}` } } };
      if (m[2] === '/events') return { body: { object: 'list', data: [...job.events].reverse().slice(0, Number(url.searchParams.get('limit') ?? 20)), has_more: false } };
      if (m[2] === '/cancel' && method === 'POST') {
        if (!['succeeded', 'failed', 'cancelled'].includes(job.status)) this.finish(job, 'cancelled', 'The job was cancelled');
        return { body: this.jobObject(job) };
      }
      return { body: this.jobObject(job) };
    }
    if (method === 'POST' && path === '/chat/completions') return { body: await this.chat(JSON.parse(body.toString()) as Record<string, unknown>) };
    m = null;
    return { status: 404, body: { error: { message: `no route ${method} ${path}` } } };
  }

  private fileObject(f: { id: string; filename: string; bytes: number; created_at: number }) {
    return { id: f.id, object: 'file', bytes: f.bytes, created_at: f.created_at, filename: f.filename, purpose: 'fine-tune', status: 'processed' };
  }

  private jobObject(j: Job) {
    const { events: _events, ...rest } = j;
    return { object: 'fine_tuning.job', ...rest };
  }

  private event(job: Job, message: string, data: Record<string, unknown> | null = null): void {
    job.events.push({ id: this.id('ftevent'), object: 'fine_tuning.job.event', created_at: Math.floor(Date.now() / 1000), level: 'info', message, type: data ? 'metrics' : 'message', data });
  }

  private finish(job: Job, status: string, message: string): void {
    job.status = status;
    this.event(job, message);
  }

  /** Lets the jobs held by hangJobs train now (a killed audit's jobs finishing while it was down). */
  releaseHung(): void {
    this.hangJobs = false;
    for (const job of this.jobs.values()) if (job.status === 'queued') void this.train(job, this.files.get(job.training_file)!.content);
  }

  private async createJob(b: Record<string, unknown>): Promise<{ status?: number; body: unknown }> {
    const file = this.files.get(String(b.training_file));
    if (!file) return { status: 400, body: { error: { message: `invalid training_file: ${String(b.training_file)}` } } };
    if (!this.models.has(String(b.model))) return { status: 400, body: { error: { message: `model ${String(b.model)} is not available for fine-tuning` } } };
    const job: Job = {
      id: this.id('ftjob'),
      model: String(b.model),
      training_file: file.id,
      seed: Number(b.seed),
      ...(typeof b.suffix === 'string' ? { suffix: b.suffix } : {}),
      hyperparameters: ((b.method as { supervised?: { hyperparameters?: Record<string, unknown> } } | undefined)?.supervised?.hyperparameters ?? (b.hyperparameters as Record<string, unknown>)) ?? {},
      status: 'validating_files',
      fine_tuned_model: null,
      trained_tokens: null,
      created_at: Math.floor(Date.now() / 1000),
      error: null,
      events: [],
    };
    this.jobs.set(job.id, job);
    this.event(job, 'Validating training file');
    if (this.hangJobs) job.status = 'queued';
    else if (this.failJobs !== undefined) {
      job.status = 'failed';
      job.error = { code: 'invalid_training_file', message: this.failJobs };
      this.event(job, `Job failed: ${this.failJobs}`);
    } else if (this.finishBeforeReply) await this.train(job, file.content);
    else void this.train(job, file.content);
    return { body: this.jobObject(job) };
  }

  /** A real fine-tune of the base's tiny GPT on the file's chat rows (plain template: the user turns, then the answer). */
  private async train(job: Job, content: string): Promise<void> {
    try {
      const base = this.models.get(job.model)!;
      const tokenizer = await loadTokenizer(base.folder);
      const rows = content.split('\n').filter(Boolean).flatMap((l, i) => {
        const e = encodeTextRow({ line: i + 1, value: JSON.parse(l) as Record<string, unknown> }, 'train', tokenizer, { maxLength: 32, overLength: 'truncate' });
        return e.kind === 'row' ? [e.row] : [];
      });
      job.status = 'running';
      const epochs = Number(job.hyperparameters.n_epochs ?? 1);
      const trainer = await Trainer.create(await readModel(modelFileOf(base.folder)), { loss: { kind: 'tokenCrossEntropy' }, optimizer: { kind: 'adam', lr: this.lr, weightDecay: 0 } });
      const steps = Math.ceil(rows.length / 8) * epochs;
      let step = 0;
      await trainText(trainer, rows, {
        epochs,
        batchSize: 8,
        seed: job.seed,
        padId: tokenizer.padId!,
        onEvent: (e) => {
          if (e.kind === 'progress' && (job.status as string) === 'running') this.event(job, `Step ${++step}/${steps}`, { step: Math.min(step, steps), total_steps: steps });
        },
      });
      const weights = trainer.weights();
      await trainer.dispose();
      if ((job.status as string) === 'cancelled') return;
      const id = `ft:${job.model}:test:${job.suffix ?? ''}:${job.id.slice(6)}`;
      this.models.set(id, { folder: base.folder, weights });
      job.fine_tuned_model = id;
      job.trained_tokens = rows.reduce((n, r) => n + r.ids.length, 0) * epochs;
      this.finish(job, 'succeeded', 'The job has successfully completed');
    } catch (e) {
      job.error = { code: 'server_error', message: (e as Error).message };
      this.finish(job, 'failed', `Job failed: ${(e as Error).message}`);
    }
  }

  private model(id: string): Promise<TextModel> {
    const m = this.models.get(id);
    if (!m) throw new Error(`The model ${id} does not exist`);
    let loaded = this.loaded.get(id);
    if (!loaded) this.loaded.set(id, (loaded = loadTextModel(m.folder, m.weights ? { weights: m.weights } : {})));
    return loaded;
  }

  private async chat(b: Record<string, unknown>) {
    const model = await this.model(String(b.model));
    const messages = b.messages as { role: string; content: string }[];
    const n = Number(b.n ?? 1);
    const seed = Number(b.seed ?? 0);
    const top = b.logprobs ? Number(b.top_logprobs ?? 0) : 0;
    const choices = [];
    const tok = model.tokenizer;
    const prompt = encodePrompt(tok, messages);
    const text = (id: number) => (id === tok.eosId ? '<|endoftext|>' : tok.decode([id]));
    for (let k = 0; k < n; k++) {
      // The model's own sampler; every generated token is reported (the EOS too, as a service reports its end token).
      const [g] = await model.runner.generate([prompt], {
        seed: seed + k,
        temperature: Number(b.temperature ?? 1),
        topP: Number(b.top_p ?? 1),
        maxNewTokens: Number(b.max_completion_tokens ?? 16),
        ...(tok.eosId !== undefined ? { eosId: tok.eosId } : {}),
        ...(top > 0 ? { topLogprobs: top } : {}),
      });
      const ids = g!.finish === 'eos' ? g!.tokens.slice(0, -1) : g!.tokens;
      const content = g!.tokens.map((id, i) => ({ token: text(id), logprob: g!.logprobs[i]!, top_logprobs: (g!.top?.[i] ?? []).map((t) => ({ token: text(t.id), logprob: t.logprob })) }));
      choices.push({ index: k, message: { role: 'assistant', content: tok.decode(ids, { skipSpecialTokens: true }) }, finish_reason: g!.finish === 'eos' ? 'stop' : 'length', logprobs: b.logprobs ? { content } : null });
    }
    return { id: this.id('chatcmpl'), object: 'chat.completion', model: String(b.model), choices };
  }
}
