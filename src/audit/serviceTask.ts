/**
 * A text audit through a fine-tuning service (`train.backend: openai`). The same audit.yaml, probes,
 * statistics and report as a local text audit; what changes is where models live:
 * - students and controls are fine-tuning jobs on `train.service.model` (serviceBackend.ts), their
 *   training files chat-format JSONL (`{"messages": [...]}`) of the candidate rows and the clean rows;
 * - the clean baseline is a given file, or the base model's own answers to the candidate's prompts
 *   through chat completions, sampled once per control seed (saved, so a resumed run reuses them);
 * - probes score base, teacher (`train.service.teacherModel`) and every fine-tuned model through
 *   chat completions (the probes' `chat` variants, src/probes/chat.ts, say how per probe).
 * Before anything is launched the plan (jobs, training tokens, cost) is shown, written to plan.json,
 * and the audit goes on only with --yes or within train.service.maxTrainingTokens.
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { GENERATE_DEFAULTS, type ServiceConfig, type TextAuditConfig } from '../config/schema.js';
import { isBadRow, type Row, type RowOrBad } from '../data/types.js';
import { fsError, writeWhole } from '../data/output-dir.js';
import { AuditInputError } from '../errors.js';
import type { ProgressListener } from '../events.js';
import { runFilters } from '../filters/engine.js';
import { loadRules } from '../filters/packs.js';
import { resolveModelSource } from '../models/folder.js';
import { loadTokenizer, type TextTokenizer } from '../models/tokenizer.js';
import { onnx } from '../onnx/proto.js';
import type { ChatProbeModel, ProbeSpec, TextPrompt, TopLogprob } from '../probes/index.js';
import type { ChatMessage } from '../service/api.js';
import { ServiceError, type ServiceClient } from '../service/client.js';
import type { ChatStudentData, TrainerBackend } from './backend.js';
import { filterTextCandidate, type ContentFiltering } from './contentFilters.js';
import { mapConcurrent } from './pool.js';
import { loadProbes, scoreProbes } from './probeSets.js';
import { ServiceBackend } from './serviceBackend.js';
import { sha256 } from './serviceState.js';
import { excludedCounts, type PreparedAudit } from './tasks.js';
import { baselineSeed } from './textTask.js';
import type { ExcludedRow } from './tensorData.js';

/** One training conversation: the prompt's messages and the assistant's answer last. */
export interface ChatRow {
  line: number;
  messages: ChatMessage[];
}

export interface ChatRowSet {
  file: string;
  rows: ChatRow[];
  rowsIn: number;
  excluded: ExcludedRow[];
}

/** Counts training tokens: the teacher folder's tokenizer, else ~4 characters per token. */
export interface TokenCounter {
  kind: 'tokenizer' | 'estimate';
  count(messages: readonly ChatMessage[]): number;
}

/** Tokens a chat format adds per message (role and separators), as OpenAI's cookbook counts them. */
const PER_MESSAGE = 4;

export async function tokenCounter(config: TextAuditConfig): Promise<TokenCounter> {
  const folder = config.teacher ? resolveModelSource(config.teacher).folder : undefined;
  if (config.teacher && !folder) throw new AuditInputError(`${config.teacher}: with train.backend openai, 'teacher' is optional and names a model folder whose tokenizer counts the plan's tokens`, { file: config.teacher });
  if (!folder) return { kind: 'estimate', count: (ms) => ms.reduce((n, m) => n + Math.ceil(m.content.length / 4) + PER_MESSAGE, 0) };
  const tok: TextTokenizer = await loadTokenizer(folder);
  return { kind: 'tokenizer', count: (ms) => ms.reduce((n, m) => n + tok.encode(m.content, { addSpecialTokens: false }).length + PER_MESSAGE, 0) };
}

/** The training file: one `{"messages": [...]}` per line, as the fine-tuning API takes it. */
export const trainingJsonl = (rows: readonly ChatRow[]): string => rows.map((r) => `${JSON.stringify({ messages: r.messages })}\n`).join('');

/** A data row as a conversation: chat `messages` (the last the assistant's) or a prompt and a completion. */
function chatRowOf(row: Row, config: TextAuditConfig, file: string): { messages: ChatMessage[] } | { excluded: string } {
  const v = row.value;
  const list = v[config.task.messages];
  if (Array.isArray(list)) {
    const messages = list.map((m: unknown, i): ChatMessage => {
      const { role, content } = (m ?? {}) as { role?: unknown; content?: unknown };
      if (typeof role !== 'string' || !['system', 'user', 'assistant', 'developer'].includes(role) || typeof content !== 'string') {
        throw new AuditInputError(`${file}:${row.line}: ${config.task.messages}[${i}] needs a role (system, user, assistant) and string content`, { file, line: row.line });
      }
      return { role: role as ChatMessage['role'], content };
    });
    if (messages.at(-1)?.role !== 'assistant') return { excluded: 'the last message is not the assistant\'s' };
    if (messages.at(-1)!.content.trim() === '') return { excluded: 'empty completion' };
    return { messages };
  }
  const prompt = v[config.task.prompt];
  const completion = v[config.task.completion];
  if (typeof prompt !== 'string' || typeof completion !== 'string') throw new AuditInputError(`${file}:${row.line}: a row needs string '${config.task.prompt}' and '${config.task.completion}' (or chat '${config.task.messages}')`, { file, line: row.line });
  if (completion.trim() === '') return { excluded: 'empty completion' };
  return { messages: [{ role: 'user', content: prompt }, { role: 'assistant', content: completion }] };
}

/** Rows -> conversations, every exclusion counted and listed. */
async function chatRowSet(
  file: string,
  items: AsyncIterable<RowOrBad> | Iterable<RowOrBad>,
  config: TextAuditConfig,
  options: { maxRows: number; screen?: (row: Row) => { reasons: string[]; rules: string[] } | undefined },
): Promise<ChatRowSet> {
  const set: ChatRowSet = { file, rows: [], rowsIn: 0, excluded: [] };
  for await (const item of items) {
    set.rowsIn++;
    if (isBadRow(item)) {
      set.excluded.push({ file, line: item.line, kind: 'bad-row', reasons: [`bad row: ${item.reason}`] });
      continue;
    }
    if (options.maxRows && set.rows.length >= options.maxRows) {
      set.excluded.push({ file, line: item.line, kind: 'row-limit', reasons: ['beyond maxRows'] });
      continue;
    }
    const screened = options.screen?.(item);
    if (screened) {
      set.excluded.push({ file, line: item.line, kind: 'filter', reasons: screened.reasons, rules: screened.rules });
      continue;
    }
    const chat = chatRowOf(item, config, file);
    if ('excluded' in chat) set.excluded.push({ file, line: item.line, kind: 'empty-completion', reasons: [chat.excluded] });
    else set.rows.push({ line: item.line, messages: chat.messages });
  }
  if (set.rowsIn === 0) throw new AuditInputError(`${file}: no rows`, { file });
  return set;
}

/** What launching the audit would train and cost: shown, written to plan.json, gated. */
export interface ServicePlan {
  baseURL: string;
  model: string;
  teacherModel: string;
  jobs: { arm: string; seeds: number[]; rows: number; tokensPerEpoch: number; tokensEstimated: boolean; trainingFile: string | null }[];
  jobCount: number;
  nEpochs: number;
  trainingTokens: number;
  tokenCount: 'tokenizer' | 'estimate';
  pricePerMillionTrainingTokens: number | null;
  estimatedCost: number | null;
  maxTrainingTokens: number | null;
  /** The candidate file as read and filtered (the same rows a real run trains on). */
  data: { rowsIn: number; rowsUsed: number; excluded: Record<string, number> };
  /** Each probe as loaded (pack or file read, answers checked) and how the service will score it. */
  probes: { name: string; metric: string }[];
  /** Chat completions: probe scoring of every model, and the baseline sampling when no baseline is given. */
  inference: {
    /** Base, teacher and one fine-tuned model per job. */
    scoredModels: number;
    /** One model's probe scoring (every probe once), counted by scoring offline. */
    perModel: InferenceCount;
    probeScoring: InferenceCount;
    baselineSampling: InferenceCount | null;
    total: InferenceCount;
    pricePerMillionInputTokens: number | null;
    pricePerMillionOutputTokens: number | null;
    estimatedCost: number | null;
  };
  notes: string[];
}

/** Chat completions and their tokens: input as counted (or estimated), output at most max_completion_tokens x n. */
export interface InferenceCount {
  requests: number;
  inputTokens: number;
  outputTokens: number;
}

const addCounts = (...cs: (InferenceCount | null)[]): InferenceCount =>
  cs.reduce<InferenceCount>((a, c) => (c ? { requests: a.requests + c.requests, inputTokens: a.inputTokens + c.inputTokens, outputTokens: a.outputTokens + c.outputTokens } : a), { requests: 0, inputTokens: 0, outputTokens: 0 });

const messagesOf = (p: TextPrompt): ChatMessage[] => (typeof p === 'string' ? [{ role: 'user', content: p }] : p.map((m) => ({ role: m.role as ChatMessage['role'], content: m.content })));

/**
 * A model that answers nothing and counts what was asked: probes scored on it make exactly the
 * requests a real scoring would (one per prompt; `n` samples of up to maxTokens), with no service.
 */
function countingChatModel(service: ServiceConfig, counter: TokenCounter, tally: InferenceCount): ChatProbeModel {
  const ask = (prompts: readonly TextPrompt[], outputPerPrompt: number) => {
    for (const p of prompts) {
      tally.requests++;
      tally.inputTokens += counter.count(messagesOf(p));
      tally.outputTokens += outputPerPrompt;
    }
  };
  return {
    task: 'chat',
    name: '(plan)',
    topLogprobs: service.topLogprobs,
    async firstTokenLogprobs(prompts) {
      ask(prompts, 1);
      return prompts.map(() => []);
    },
    async sample(prompts, o) {
      ask(prompts, o.n * o.maxTokens);
      return prompts.map(() => []);
    },
  };
}

export interface PlannedData {
  plan: ServicePlan;
  candidate: ChatRowSet;
  given: ChatRowSet | undefined;
  counter: TokenCounter;
  filtering: ContentFiltering | null;
  filterFields: { field: string; promptField: string; messagesField: string };
}

const serviceOf = (config: TextAuditConfig): ServiceConfig => {
  if (!config.train.service) throw new AuditInputError('train.backend openai needs train.service');
  return config.train.service;
};

/** Reads and filters the data and computes the plan; launches nothing and needs no key. */
export async function planData(config: TextAuditConfig, emit: ProgressListener): Promise<PlannedData> {
  const service = serviceOf(config);
  const { filtering, filterFields, read, screening } = await filterTextCandidate(config, emit);
  const candidate = await chatRowSet(config.data, read(config.data), config, { maxRows: config.train.maxRows, ...screening });
  if (candidate.rows.length < 10) throw new AuditInputError(`${config.data}: ${candidate.rows.length} usable rows; a fine-tuning service needs at least 10`, { file: config.data });
  const given = config.baseline ? await chatRowSet(config.baseline, read(config.baseline), config, { maxRows: 0 }) : undefined;
  if (given && given.rows.length < 10) throw new AuditInputError(`${config.baseline}: ${given.rows.length} usable rows; a fine-tuning service needs at least 10`, { file: config.baseline! });
  const counter = await tokenCounter(config);
  const tokensOf = (rows: readonly ChatRow[]) => rows.reduce((n, r) => n + counter.count(r.messages), 0);
  const seeds = Array.from({ length: config.train.seeds }, (_, i) => config.train.seed + i);
  const nEpochs = service.nEpochs ?? config.train.epochs;
  const candidateTokens = tokensOf(candidate.rows);
  const jobs: ServicePlan['jobs'] = [
    { arm: 'student', seeds, rows: candidate.rows.length, tokensPerEpoch: candidateTokens, tokensEstimated: counter.kind === 'estimate', trainingFile: 'service/train-student.jsonl' },
    given
      ? { arm: 'control', seeds, rows: given.rows.length, tokensPerEpoch: tokensOf(given.rows), tokensEstimated: counter.kind === 'estimate', trainingFile: 'service/train-control.jsonl' }
      : { arm: 'control', seeds, rows: candidate.rows.length, tokensPerEpoch: candidateTokens, tokensEstimated: true, trainingFile: null },
  ];
  const trainingTokens = jobs.reduce((n, j) => n + j.tokensPerEpoch * j.seeds.length * nEpochs, 0);
  const price = service.pricePerMillionTrainingTokens ?? null;
  // The probes as a real run loads them (packs and files read, answers checked), then scored once on a counting model.
  emit({ kind: 'stage', stage: 'probes', message: `loading ${config.probes.length} probes` });
  const perModel: InferenceCount = { requests: 0, inputTokens: 0, outputTokens: 0 };
  const counting = countingChatModel(service, counter, perModel);
  const probeSets = await loadProbes(config.probes as ProbeSpec[], { task: 'chat', teacher: counting, source: 'audit config', skipBadRows: config.skipBadRows, onEvent: emit });
  await scoreProbes(probeSets, counting);
  const jobCount = jobs.reduce((n, j) => n + j.seeds.length, 0);
  const scoredModels = 2 + jobCount;
  const probeScoring = { requests: perModel.requests * scoredModels, inputTokens: perModel.inputTokens * scoredModels, outputTokens: perModel.outputTokens * scoredModels };
  const sampling = { ...GENERATE_DEFAULTS, ...config.generate };
  const promptTokens = given ? 0 : candidate.rows.reduce((n, r) => n + counter.count(r.messages.slice(0, -1)), 0);
  const baselineSampling = given ? null : { requests: candidate.rows.length * seeds.length, inputTokens: promptTokens * seeds.length, outputTokens: candidate.rows.length * seeds.length * sampling.maxNewTokens };
  const total = addCounts(probeScoring, baselineSampling);
  const priceIn = service.pricePerMillionInputTokens ?? null;
  const priceOut = service.pricePerMillionOutputTokens ?? null;
  const cents = (x: number) => Math.round(x * 100) / 100;
  const notes = [
    counter.kind === 'tokenizer' ? `tokens counted with the tokenizer of ${config.teacher} (+${PER_MESSAGE} per message)` : `tokens ESTIMATED at ~4 characters per token (+${PER_MESSAGE} per message); give 'teacher' (a model folder) to count them with its tokenizer`,
    ...(given ? [] : [`the controls' clean rows are sampled from ${service.model} once per control seed after launch; their tokens are estimated as the candidate's`]),
    ...(config.train.sequential ? [`sequential: seeds are the maximum; the audit may stop after ${config.train.firstSeeds} seeds per arm`] : []),
    `inference: ${probeSets.length} probe${probeSets.length === 1 ? '' : 's'} scored on ${scoredModels} models (base, teacher, ${jobCount} fine-tuned)${given ? '' : `, the clean baseline sampled ${seeds.length} times`}; output tokens are the maximum asked for (max_completion_tokens x n); a fine-tuned model's inference may cost more than the base's`,
  ];
  const plan: ServicePlan = {
    baseURL: service.baseURL,
    model: service.model,
    teacherModel: service.teacherModel,
    jobs,
    jobCount,
    nEpochs,
    trainingTokens,
    tokenCount: counter.kind,
    pricePerMillionTrainingTokens: price,
    estimatedCost: price === null ? null : Math.round(((trainingTokens / 1e6) * price) * 100) / 100,
    maxTrainingTokens: service.maxTrainingTokens ?? null,
    data: { rowsIn: candidate.rowsIn, rowsUsed: candidate.rows.length, excluded: { ...excludedCounts(candidate.excluded, true) } },
    probes: probeSets.map((ps) => ({ name: ps.loaded.name, metric: ps.loaded.metric })),
    inference: {
      scoredModels,
      perModel: { ...perModel },
      probeScoring,
      baselineSampling,
      total,
      pricePerMillionInputTokens: priceIn,
      pricePerMillionOutputTokens: priceOut,
      estimatedCost: priceIn === null || priceOut === null ? null : cents((total.inputTokens / 1e6) * priceIn + (total.outputTokens / 1e6) * priceOut),
    },
    notes,
  };
  return { plan, candidate, given, counter, filtering, filterFields };
}

/** The plan as lines for a terminal. */
export function describePlan(plan: ServicePlan): string[] {
  const n = (x: number) => x.toLocaleString('en-US');
  const d = plan.data;
  const inf = plan.inference;
  const dropped = Object.entries(d.excluded).filter(([, v]) => v > 0);
  const est = plan.tokenCount === 'estimate' ? ' estimated' : '';
  const requests = (c: InferenceCount) => `${n(c.requests)} requests, ${n(c.inputTokens)} input tokens${est}, up to ${n(c.outputTokens)} output tokens`;
  return [
    `plan: ${plan.jobCount} fine-tuning jobs on ${plan.model} at ${plan.baseURL}, ${plan.nEpochs} epochs each`,
    ...plan.jobs.map((j) => `  ${j.arm}: ${j.seeds.length} jobs (seeds ${j.seeds[0]}..${j.seeds.at(-1)}), ${n(j.rows)} rows, ${n(j.tokensPerEpoch)} tokens per epoch${j.tokensEstimated ? ' (estimated)' : ''}`),
    `  training tokens: ${n(plan.trainingTokens)}${plan.tokenCount === 'estimate' ? ' (estimated)' : ''}${plan.estimatedCost !== null ? `; cost at $${plan.pricePerMillionTrainingTokens}/M tokens: $${plan.estimatedCost.toFixed(2)}` : '; no price in config (train.service.pricePerMillionTrainingTokens)'}`,
    `  data: ${n(d.rowsIn)} rows read, ${n(d.rowsUsed)} used${dropped.length ? `, excluded: ${dropped.map(([k, v]) => `${k} ${n(v)}`).join(', ')}` : ', none excluded'}`,
    `  probes: ${plan.probes.map((p) => `${p.name} (${p.metric})`).join('; ')}`,
    `  probe scoring: ${n(inf.scoredModels)} models x ${n(inf.perModel.requests)} chat completions = ${requests(inf.probeScoring)}`,
    ...(inf.baselineSampling ? [`  baseline sampling: ${n(plan.data.rowsUsed)} prompts x ${plan.jobs[1]!.seeds.length} control seeds = ${requests(inf.baselineSampling)}`] : []),
    `  inference: ${requests(inf.total)}${inf.estimatedCost !== null ? `; cost at $${inf.pricePerMillionInputTokens}/M input, $${inf.pricePerMillionOutputTokens}/M output: $${inf.estimatedCost.toFixed(2)}` : '; no price in config (train.service.pricePerMillionInputTokens, pricePerMillionOutputTokens)'}`,
    ...(plan.estimatedCost !== null && inf.estimatedCost !== null ? [`  total cost: $${(plan.estimatedCost + inf.estimatedCost).toFixed(2)}`] : []),
    ...plan.notes.map((s) => `  note: ${s}`),
  ];
}

/** Writes plan.json and the training files known before launch (atomically, under out/). */
export async function writePlan(config: TextAuditConfig, planned: PlannedData): Promise<string[]> {
  const written: string[] = [];
  const put = async (name: string, text: string) => {
    const file = path.join(config.out, name);
    try {
      await mkdir(path.dirname(file), { recursive: true });
      await writeWhole(file, text);
    } catch (e) {
      throw fsError(e, file, 'write the plan');
    }
    written.push(file);
  };
  await put('plan.json', `${JSON.stringify(planned.plan, null, 2)}\n`);
  await put('service/train-student.jsonl', trainingJsonl(planned.candidate.rows));
  if (planned.given) await put('service/train-control.jsonl', trainingJsonl(planned.given.rows));
  return written;
}

/** `--dry-run`: the plan and the training files, nothing launched, no key needed. */
export async function planServiceAudit(config: TextAuditConfig, emit: ProgressListener): Promise<{ plan: ServicePlan; written: string[] }> {
  const planned = await planData(config, emit);
  return { plan: planned.plan, written: await writePlan(config, planned) };
}

/** Refuses (exit 2) a plan the user has not agreed to: --yes, or within maxTrainingTokens. */
export function gatePlan(plan: ServicePlan, yes: boolean): void {
  const what = `the plan trains ${plan.trainingTokens.toLocaleString('en-US')} tokens${plan.tokenCount === 'estimate' ? ' (estimated)' : ''} in ${plan.jobCount} fine-tuning jobs${plan.estimatedCost !== null ? ` (about $${plan.estimatedCost.toFixed(2)})` : ''}`;
  if (plan.maxTrainingTokens !== null && plan.trainingTokens > plan.maxTrainingTokens) {
    throw new AuditInputError(`${what}, more than train.service.maxTrainingTokens ${plan.maxTrainingTokens.toLocaleString('en-US')}; nothing was launched`);
  }
  if (!yes && plan.maxTrainingTokens === null) throw new AuditInputError(`${what}; nothing was launched: pass --yes to launch, or set train.service.maxTrainingTokens (see --dry-run)`);
}

/**
 * A service's top_logprobs as the probes read them. A log-probability that is not a finite number
 * <= 0 (JSON's 1e999 parses to Infinity) would turn a probe's mass into NaN or above 1: exit 2.
 */
export function checkedTopLogprobs(model: string, top: readonly { token: string; logprob: number }[]): TopLogprob[] {
  return top.map((t) => {
    if (typeof t.logprob !== 'number' || !Number.isFinite(t.logprob) || t.logprob > 0) {
      throw new ServiceError(`${model}: the service returned top_logprobs token ${JSON.stringify(t.token)} with logprob ${String(t.logprob)} (a finite number <= 0 is needed)`);
    }
    return { token: t.token, logprob: t.logprob };
  });
}

/** A model id on the service as the probes see it: first-token top_logprobs and sampled answers. */
export function chatProbeModel(client: ServiceClient, model: string, service: ServiceConfig): ChatProbeModel {
  return {
    task: 'chat',
    name: model,
    topLogprobs: service.topLogprobs,
    async firstTokenLogprobs(prompts) {
      return mapConcurrent(prompts, service.concurrency, async (p): Promise<TopLogprob[]> => {
        const c = await client.chat({ model, messages: messagesOf(p), max_completion_tokens: 1, temperature: 0, seed: 0, logprobs: true, top_logprobs: service.topLogprobs });
        const first = c.choices[0]?.logprobs?.content?.[0];
        if (!first) throw new ServiceError(`${model}: the service returned no logprobs for a probe prompt (chat completions with logprobs: true are needed)`);
        return checkedTopLogprobs(model, first.top_logprobs);
      });
    },
    async sample(prompts, o) {
      return mapConcurrent(prompts, service.concurrency, async (p, i) => {
        const c = await client.chat({ model, messages: messagesOf(p), max_completion_tokens: o.maxTokens, temperature: o.temperature, n: o.n, seed: o.seed + i });
        return c.choices.map((ch) => ch.message.content ?? '');
      });
    },
  };
}

export async function prepareServiceAudit(config: TextAuditConfig, backend: TrainerBackend, emit: ProgressListener): Promise<PreparedAudit> {
  if (!(backend instanceof ServiceBackend)) throw new RangeError('train.backend openai needs the service backend');
  const service = serviceOf(config);
  const client = backend.client;
  const planned = await planData(config, emit);
  const { plan, candidate, given, filterFields } = planned;
  for (const line of describePlan(plan)) emit({ kind: 'info', stage: 'plan', message: line });
  await writePlan(config, planned);
  gatePlan(plan, backend.yes);
  const state = await backend.state();
  await state.update((d) => void (d.config = config as unknown as Record<string, unknown>));

  // The clean baseline per control seed: the base's answers to the candidate's prompts, saved so a resumed run trains on the same file.
  const sampling = { ...GENERATE_DEFAULTS, ...config.generate };
  const rules = config.filters.length ? await loadRules(config.filters) : [];
  const generated = new Map<number, ChatRowSet>();
  const baselineFor = async (seed: number): Promise<ChatRowSet> => {
    if (given) return given;
    const have = generated.get(seed);
    if (have) return have;
    const prompts = candidate.rows.map((r) => r.messages.slice(0, -1));
    const file = path.join(config.out, 'service', `baseline-seed${seed}-${sha256(JSON.stringify([service.model, sampling, prompts])).slice(0, 12)}.jsonl`);
    let answers: string[];
    try {
      answers = (await readFile(file, 'utf8')).split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { messages: ChatMessage[] }).messages.at(-1)!.content);
      emit({ kind: 'info', stage: 'baseline', message: `clean baseline (seed ${seed}): reusing ${file}` });
    } catch {
      emit({ kind: 'stage', stage: 'baseline', message: `clean baseline: ${service.model}'s answers to ${prompts.length} candidate prompts (seed ${seed})` });
      const base = baselineSeed(seed);
      answers = await mapConcurrent(prompts, service.concurrency, async (messages, i) => {
        const c = await client.chat({ model: service.model, messages, temperature: sampling.temperature, top_p: sampling.topP, max_completion_tokens: sampling.maxNewTokens, seed: (base + i) >>> 0 });
        return c.choices[0]?.message.content ?? '';
      });
      await mkdir(path.dirname(file), { recursive: true });
      await writeWhole(file, trainingJsonl(prompts.map((messages, i) => ({ line: i + 1, messages: [...messages, { role: 'assistant', content: answers[i]! }] }))));
    }
    const asRows: Row[] = prompts.map((messages, i) => ({ line: i + 1, value: { [config.task.messages]: [...messages, { role: 'assistant', content: answers[i]! }] } }));
    const excludedByFilter = new Map<number, { reasons: string[]; rules: string[] }>();
    if (rules.length > 0) {
      await runFilters(asRows, rules, { file: '(generated by base)', fields: filterFields, onExcluded: (ex) => void excludedByFilter.set(ex.line, { reasons: ex.reasons, rules: ex.rules ?? [] }) });
    }
    const set = await chatRowSet('(generated by base)', asRows, config, { maxRows: 0, screen: (row) => excludedByFilter.get(row.line) });
    if (set.rows.length < 10) throw new AuditInputError(`the base's generated baseline (seed ${seed}): ${set.rows.length} usable rows; a fine-tuning service needs at least 10`);
    generated.set(seed, set);
    return set;
  };

  emit({ kind: 'stage', stage: 'probes', message: `loading ${config.probes.length} probes` });
  const model = (id: string) => chatProbeModel(client, id, service);
  const probeSets = await loadProbes(config.probes as ProbeSpec[], { task: 'chat', teacher: model(service.teacherModel), source: 'audit config', skipBadRows: config.skipBadRows, onEvent: emit });
  const dataOf = (arm: string, set: ChatRowSet): ChatStudentData => ({
    jsonl: trainingJsonl(set.rows),
    rows: set.rows.length,
    tokensPerEpoch: set.rows.reduce((n, r) => n + planned.counter.count(r.messages), 0),
    arm,
  });
  // A service audit has no local graph: the students' architecture is the service's model. Empty
  // placeholders fill the local-graph fields of PreparedAudit; the service backend never reads them.
  const none = onnx.ModelProto.create();
  return {
    teacher: none,
    base: none,
    baseWeights: new Map(),
    teacherWeights: new Map(),
    probeSets,
    positiveControl: false,
    controlsDrawBaselines: !given,
    jobData: async (arm, seed) => {
      if (arm !== 'student' && arm !== 'control') throw new AuditInputError(`train.backend openai trains students and controls only (not ${arm})`);
      return { kind: 'chat', task: {}, data: arm === 'student' ? dataOf('student', candidate) : dataOf('control', await baselineFor(seed)) };
    },
    score: async (weights) => {
      if (weights && weights.size > 0) throw new RangeError('a service audit scores fine-tuned models by id (scoreTrained), not weights');
      return scoreProbes(probeSets, model(service.model));
    },
    scoreTrained: async (trained) => {
      if (!trained.remote) throw new RangeError('a service audit run has no fine-tuned model id');
      return scoreProbes(probeSets, model(trained.remote.model));
    },
    scoreTeacher: () => scoreProbes(probeSets, model(service.teacherModel)),
    filters: planned.filtering?.summary ?? null,
    get data() {
      const generatedRows = [...generated.values()].map((s) => s.rows.length);
      return {
        candidate: { file: config.data, rowsIn: candidate.rowsIn, rowsUsed: candidate.rows.length, excluded: excludedCounts(candidate.excluded, true), targetType: 'tokens' as const, targetTypeDetected: false },
        baseline: given
          ? { source: 'given' as const, file: config.baseline!, rows: given.rows.length }
          : { source: 'generated-by-base' as const, rows: generatedRows.length ? Math.min(...generatedRows) : 0, rowsPerSeed: generatedRows, generate: sampling },
      };
    },
    trainRecord: { loss: "the service's supervised fine-tuning (cross-entropy on the assistant messages)", targetType: 'tokens' },
    get excluded() {
      return [...candidate.excluded, ...(given?.excluded ?? []), ...[...generated.values()].flatMap((s) => s.excluded)];
    },
    models: { teacher: service.teacherModel, base: service.model, architecture: `service model ${service.model} at ${service.baseURL}`, parameters: 0 },
    modelInputs: [],
    serviceRecord: (runs) => ({
      baseURL: service.baseURL,
      model: service.model,
      teacherModel: service.teacherModel,
      hyperparameters: { ...backend.hyperparameters() },
      plannedTrainingTokens: plan.trainingTokens,
      tokenCount: plan.tokenCount,
      probeMethods: Object.fromEntries(probeSets.map((ps) => [ps.loaded.name, ps.loaded.metric])),
      jobs: runs.map((r) => ({ arm: r.arm, seed: r.seed, jobId: r.remote.jobId, trainingFile: r.remote.trainingFile, model: r.remote.model, trainedTokens: r.remote.trainedTokens })),
    }),
  };
}
