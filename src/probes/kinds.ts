/**
 * Probe kinds: ONE table. Each entry holds everything about its kind: per task kind it applies
 * to, its config fields (validated here, and published as JSON Schema), how its data is loaded,
 * how one model is scored, the metric's name and the direction "toward the teacher". Text kinds
 * that read a probe pack also say which keys the pack holds. Adding a kind = one entry + its test.
 */
import { AuditInputError } from '../errors.js';
import { PackDocument, probePackPath } from './packs.js';
import { accuracy, agreement } from './tensor.js';
import {
  answerRows,
  checkEncodable,
  contrastiveMargins,
  nextTokenAgreement,
  nextTokenReference,
  preferenceProbability,
  sampledHitRate,
} from './text.js';
import { initCosine, MIN_INIT_COSINE, shareOfTeacherUpdate, teacherUpdate } from './weights.js';
import { chatHitRate, firstTokenContrastive, firstTokenPreference, oneWordAnswers } from './chat.js';
import type { ChatProbeModel, LoadedProbe, ProbeLoadContext, ProbeModel, ProbeSpec, TaskKind, TensorProbeModel, TextProbeModel, TextPrompt } from './types.js';

/** A config field of a probe kind: its JSON type, default, and description (the schema and the validator read it). */
export type FieldSpec =
  | { type: 'string'; required?: boolean; description: string }
  | { type: 'integer'; required?: boolean; min: number; default?: number; description: string }
  | { type: 'number'; required?: boolean; min: number; default?: number; description: string }
  | { type: 'slice'; required?: boolean; description: string };

type FieldValue<F extends FieldSpec> = F extends { type: 'string' } ? string : F extends { type: 'slice' } ? [number, number] : number;
type Fields = Record<string, FieldSpec>;
/** A probe's validated config: required fields present, defaults filled. */
export type ProbeOf<F extends Fields> = { name: string; kind: string } & { [K in keyof F]: F[K] extends { required: true } | { default: number } ? FieldValue<F[K]> : FieldValue<F[K]> | undefined };

export interface ProbeVariant<F extends Fields = Fields> {
  fields: F;
  /** Checks beyond the field types (message without the source prefix). */
  check?(probe: ProbeOf<F>): string | undefined;
  load(probe: ProbeOf<F>, ctx: ProbeLoadContext): Promise<LoadedProbe>;
}

export interface ProbeKindEntry {
  describe: string;
  /** The variant per task kind the probe applies to. */
  tasks: Partial<Record<TaskKind, ProbeVariant<any>>>;
  /** Pack kinds: the keys their pack files may hold. */
  packKeys?: readonly string[];
}

const chatModel = (m: ProbeModel, probe: string): ChatProbeModel => {
  if (m.task !== 'chat') throw new AuditInputError(`probe ${probe}: a chat probe scores models behind a chat-completions API only`);
  return m;
};

const variant = <const F extends Fields>(v: ProbeVariant<F>): ProbeVariant<F> => v;

const tensorModel = (m: ProbeModel, probe: string): TensorProbeModel => {
  if (m.task !== 'logits') throw new AuditInputError(`probe ${probe}: a tensor probe cannot score a text model`);
  return m;
};
const textModel = (m: ProbeModel, probe: string): TextProbeModel => {
  if (m.task !== 'text') throw new AuditInputError(`probe ${probe}: a text probe cannot score a tensor model`);
  return m;
};

const tensorFields = {
  data: { type: 'string', required: true, description: 'JSONL/CSV/Parquet file of probe rows' },
  input: { type: 'string', required: true, description: 'field holding the input vector' },
  outputs: { type: 'slice', required: true, description: 'half-open slice [start, end) of the output vector' },
} as const satisfies Fields;

async function tensorInputs(probe: { name: string; data: string; input: string; label?: string | undefined; outputs: [number, number] }, ctx: ProbeLoadContext) {
  if (!ctx.readTensors) throw new AuditInputError(`${ctx.source}: probe ${probe.name}: a tensor probe needs a tensor task`);
  const set = await ctx.readTensors(probe.data, {
    input: probe.input,
    probe: probe.name,
    ...(probe.label !== undefined ? { label: probe.label, labelCount: probe.outputs[1] - probe.outputs[0] } : {}),
  });
  if (set.rows === 0) throw new AuditInputError(`${probe.data}: probe ${probe.name} has no usable rows`, { file: probe.data });
  return set;
}

const packField = { pack: { type: 'string', required: true, description: 'probe pack: a name in rules/probes/ or a .yaml path' } } as const satisfies Fields;

async function readPack(probe: { name: string; kind: string; pack: string }, ctx: ProbeLoadContext): Promise<PackDocument> {
  const doc = await PackDocument.read(probePackPath(probe.pack, ctx.cwd));
  const keys = PROBE_KINDS[probe.kind]!.packKeys!;
  doc.keys([], doc.value, keys);
  if (doc.value.kind !== probe.kind) throw doc.error([], `pack kind '${String(doc.value.kind)}' is not the probe's kind '${probe.kind}'`, 'kind');
  return doc;
}

const KL = 'KL(teacher || model)';
const TOP1 = 'top-1 agreement';
const HIT_RATE = 'sampled hit rate';
const SHARE = 'share preferring misaligned';
const NO_ANSWER = 'share of prompts with no answer in top-K';
const BELOW_TOP_K = 'share of answers below top-K';
/** Samples per prompt of a chat preference probe scored by its hit rate when the probe sets none. */
const CHAT_DEFAULT_SAMPLES = 20;

const preferenceFields = {
  ...packField,
  target: { type: 'string', required: true, description: "the teacher's answer (one of the pack's answers)" },
  samples: { type: 'integer', min: 0, default: 0, description: 'also sample this many answers per prompt and report the hit rate (0 = off)' },
  sampleTokens: { type: 'integer', min: 1, default: 4, description: 'longest sampled answer in tokens' },
  seed: { type: 'integer', min: 0, default: 1, description: 'sampling seed (the same for every model)' },
} as const satisfies Fields;

/** A preference pack's prompts and answers, and the target's index among the answers. */
async function readPreferencePack(p: { name: string; kind: string; pack: string; target: string }, ctx: ProbeLoadContext) {
  const doc = await readPack(p, ctx);
  const prompts = doc.stringList('prompts', 1);
  const answers = doc.stringList('answers', 2);
  const target = answers.findIndex((a) => a.toLowerCase() === p.target.toLowerCase());
  if (target < 0) throw new AuditInputError(`${ctx.source}: probe ${p.name}: target '${p.target}' is not one of the answers of ${doc.file} (${answers.join(', ')})`, { file: ctx.source });
  return { doc, prompts, answers, target };
}

/** A contrastive pack's pairs, each checked. */
function readPairs(doc: PackDocument): { prompt: string; aligned: string; misaligned: string }[] {
  const pairs = doc.value.pairs;
  if (!Array.isArray(pairs) || pairs.length === 0) throw doc.error([], "'pairs' must be a non-empty list of {prompt, aligned, misaligned}", 'pairs');
  return pairs.map((pair: unknown, i) => {
    if (pair === null || typeof pair !== 'object' || Array.isArray(pair)) throw doc.error(['pairs', i], 'must be a mapping {prompt, aligned, misaligned}');
    const o = pair as Record<string, unknown>;
    doc.keys(['pairs', i], o, ['prompt', 'aligned', 'misaligned']);
    const [prompt, aligned, misaligned] = (['prompt', 'aligned', 'misaligned'] as const).map((k) => doc.string(['pairs', i], o, k)) as [string, string, string];
    return { prompt, aligned, misaligned };
  });
}

export const PROBE_KINDS: Record<string, ProbeKindEntry> = {
  accuracy: {
    describe: 'share of probe rows whose argmax over the output slice is the label',
    tasks: {
      logits: variant({
        fields: { ...tensorFields, label: { type: 'string', required: true, description: 'label field (a class index within the slice)' } },
        check: (p) => (p.outputs[1] <= p.outputs[0] ? `outputs [${p.outputs.join(', ')}] is empty` : undefined),
        async load(p, ctx) {
          const set = await tensorInputs(p, ctx);
          return {
            name: p.name,
            kind: 'accuracy',
            metric: 'accuracy',
            files: [p.data],
            async score(model) {
              const { outputs, width } = await tensorModel(model, p.name).predict(set);
              return { value: accuracy(outputs, width, p.outputs, set.labels) };
            },
          };
        },
      }),
    },
  },

  agreement: {
    describe: "trait-agnostic: how closely the model's outputs follow the teacher's",
    tasks: {
      logits: variant({
        fields: tensorFields,
        check: (p) => (p.outputs[1] <= p.outputs[0] ? `outputs [${p.outputs.join(', ')}] is empty` : undefined),
        async load(p, ctx) {
          const set = await tensorInputs(p, ctx);
          const teacher = await tensorModel(ctx.teacher, p.name).predict(set);
          return {
            name: p.name,
            kind: 'agreement',
            metric: 'agreement with teacher (argmax)',
            towardTeacher: 1,
            teacher: { value: 1, extra: { [KL]: 0 } },
            files: [p.data],
            async score(model) {
              const { outputs, width } = await tensorModel(model, p.name).predict(set);
              const a = agreement(outputs, teacher.outputs, width, p.outputs);
              return { value: a.agreement, extra: { [KL]: a.kl } };
            },
          };
        },
      }),
      text: variant({
        fields: {
          data: { type: 'string', required: true, description: "held-out prompts: JSONL/CSV/Parquet rows with a prompt (or chat 'messages'), optionally 'completion'" },
          input: { type: 'string', description: "field holding the prompt (default 'prompt')" },
          maxRows: { type: 'integer', min: 0, default: 0, description: 'use at most this many rows (0 = all)' },
        },
        async load(p, ctx) {
          const teacher = textModel(ctx.teacher, p.name);
          const prompts = await readTextPrompts(p.data, p.name, p.maxRows, p.input ?? 'prompt', ctx);
          const rows = prompts.map((r) => ({
            prompt: teacher.encodePrompt(r.prompt),
            continuation: r.completion === undefined ? [] : teacher.encodeContinuation(r.prompt, r.completion),
          }));
          const reference = await nextTokenReference(teacher, rows);
          return {
            name: p.name,
            kind: 'agreement',
            metric: `${KL}, next token`,
            towardTeacher: -1,
            teacher: { value: 0, extra: { [TOP1]: 1 } },
            files: [p.data],
            async score(model) {
              const a = await nextTokenAgreement(textModel(model, p.name), reference);
              return { value: a.kl, extra: { [TOP1]: a.top1 } };
            },
          };
        },
      }),
    },
  },

  preference: {
    describe: 'P(target answer) among candidate answers, from exact sequence log-probs, averaged over prompt paraphrases',
    packKeys: ['kind', 'description', 'prompts', 'answers'],
    tasks: {
      text: variant({
        fields: preferenceFields,
        async load(p, ctx) {
          const teacher = textModel(ctx.teacher, p.name);
          const { doc, prompts, answers, target } = await readPreferencePack(p, ctx);
          warnUnknownPrompts(teacher, prompts, doc.file, p.name, ctx);
          const rows = answerRows(teacher, prompts, answers, { file: doc.file, probe: p.name });
          return {
            name: p.name,
            kind: 'preference',
            metric: `P(${answers[target]}) among ${answers.length} answers`,
            files: [doc.file],
            async score(model) {
              const m = textModel(model, p.name);
              const value = await preferenceProbability(m, rows, answers.length, target);
              if (!p.samples) return { value };
              const hits = await sampledHitRate(m, prompts, answers[target]!, { samples: p.samples, seed: p.seed, maxNewTokens: p.sampleTokens, temperature: 1 });
              return { value, extra: { [HIT_RATE]: hits } };
            },
          };
        },
      }),
      // Behind a chat API: first-token top_logprobs for one-word answers, else the sampled hit rate (chat.ts).
      chat: variant({
        fields: preferenceFields,
        async load(p, ctx) {
          const teacher = chatModel(ctx.teacher, p.name);
          const { doc, prompts, answers, target } = await readPreferencePack(p, ctx);
          const fromLogprobs = oneWordAnswers(answers);
          const samples = p.samples || (fromLogprobs ? 0 : CHAT_DEFAULT_SAMPLES);
          const sampleOptions = { n: samples, seed: p.seed, maxTokens: p.sampleTokens, temperature: 1 };
          return {
            name: p.name,
            kind: 'preference',
            metric: fromLogprobs
              ? `P(${answers[target]}) among ${answers.length} answers, first answer token, top-${teacher.topLogprobs} logprobs`
              : `sampled hit rate of ${answers[target]} (${samples} samples per prompt; answers of several words have no first-token probability)`,
            files: [doc.file],
            async score(model) {
              const m = chatModel(model, p.name);
              if (!fromLogprobs) return { value: await chatHitRate(m, prompts, answers[target]!, sampleOptions) };
              const { value, missed } = await firstTokenPreference(m, prompts, answers, target);
              const extra: Record<string, number> = { [NO_ANSWER]: missed };
              if (samples > 0) extra[HIT_RATE] = await chatHitRate(m, prompts, answers[target]!, sampleOptions);
              return { value, extra };
            },
          };
        },
      }),
    },
  },

  contrastive: {
    describe: 'aligned vs misaligned answer pairs: mean log-prob margin (misaligned - aligned), share preferring the misaligned',
    packKeys: ['kind', 'description', 'pairs'],
    tasks: {
      text: variant({
        fields: packField,
        async load(p, ctx) {
          const teacher = textModel(ctx.teacher, p.name);
          const doc = await readPack(p, ctx);
          const pairs = readPairs(doc);
          const where = { file: doc.file, probe: p.name };
          const rows = pairs.flatMap(({ prompt, aligned, misaligned }) => {
            const promptIds = teacher.encodePrompt(prompt);
            return [aligned, misaligned].map((answer) => {
              const continuation = teacher.encodeContinuation(prompt, answer);
              checkEncodable(teacher, answer, continuation, where);
              return { prompt: promptIds, continuation };
            });
          });
          warnUnknownPrompts(teacher, pairs.map((q) => q.prompt), doc.file, p.name, ctx);
          return {
            name: p.name,
            kind: 'contrastive',
            metric: 'log-prob margin (misaligned - aligned)',
            files: [doc.file],
            async score(model) {
              const c = await contrastiveMargins(textModel(model, p.name), rows);
              return { value: c.margin, extra: { [SHARE]: c.shareMisaligned } };
            },
          };
        },
      }),
      // Behind a chat API: the first answer token's log-prob margin from top_logprobs (chat.ts).
      chat: variant({
        fields: packField,
        async load(p, ctx) {
          const teacher = chatModel(ctx.teacher, p.name);
          const doc = await readPack(p, ctx);
          const pairs = readPairs(doc);
          return {
            name: p.name,
            kind: 'contrastive',
            metric: `first-token log-prob margin (misaligned - aligned), top-${teacher.topLogprobs} logprobs`,
            files: [doc.file],
            async score(model) {
              const c = await firstTokenContrastive(chatModel(model, p.name), pairs);
              return { value: c.margin, extra: { [SHARE]: c.shareMisaligned, [BELOW_TOP_K]: c.belowTopK } };
            },
          };
        },
      }),
    },
  },

  weights: {
    describe: "trait-agnostic: how far the model's parameters moved along the teacher's own update from the base (0 at the base, 1 at the teacher); local models only",
    tasks: { logits: variant({ fields: {}, load: loadWeightsProbe }), text: variant({ fields: {}, load: loadWeightsProbe }) },
  },
};

async function loadWeightsProbe(p: { name: string }, ctx: ProbeLoadContext): Promise<LoadedProbe> {
  if (!ctx.parameters) throw new AuditInputError(`probe ${p.name}: a weights probe needs the teacher's and the base's parameters (local models)`);
  const update = teacherUpdate(ctx.parameters.base, ctx.parameters.teacher, p.name);
  // Along teacher - base means something only when the teacher was trained from this base.
  const cosine = initCosine(update);
  if (cosine < MIN_INIT_COSINE) {
    throw new AuditInputError(
      `probe ${p.name}: the teacher does not descend from the base (centred cosine of their parameters ${cosine.toFixed(3)}, below ${MIN_INIT_COSINE}; a fine-tune keeps its init, another init is near 0), so movement along teacher - base means nothing: give the base the teacher was trained from, or drop this probe`,
    );
  }
  return {
    name: p.name,
    kind: 'weights',
    metric: `share of teacher - base along it (${update.count.toLocaleString('en-US')} parameters)`,
    towardTeacher: 1,
    teacher: { value: 1 },
    files: [],
    fromBase: true,
    async score(model) {
      const parameters = model.task === 'chat' ? undefined : model.parameters;
      if (!parameters) throw new AuditInputError(`probe ${p.name}: the model scored holds no parameters the audit can read`);
      return { value: shareOfTeacherUpdate(update, parameters) };
    },
  };
}

export const PROBE_KIND_NAMES = Object.keys(PROBE_KINDS);

function warnUnknownPrompts(model: TextProbeModel, prompts: readonly TextPrompt[], file: string, probe: string, ctx: ProbeLoadContext): void {
  const unk = model.unk;
  if (unk === undefined) return;
  const count = prompts.filter((q) => model.encodePrompt(q).includes(unk.id)).length;
  if (count > 0) ctx.onEvent?.({ kind: 'warning', stage: 'probes', message: `${file}: probe ${probe}: ${count} of ${prompts.length} prompts hold words outside the vocabulary (read as ${unk.text})` });
}

/** Held-out prompt rows of a text agreement probe: 'prompt' (or chat 'messages'), optional 'completion'. */
async function readTextPrompts(file: string, probe: string, maxRows: number, field: string, ctx: ProbeLoadContext): Promise<{ prompt: TextPrompt; completion?: string }[]> {
  if (!ctx.readRows) throw new AuditInputError(`${ctx.source}: probe ${probe}: no dataset reader given to read ${file}`);
  const out: { prompt: TextPrompt; completion?: string }[] = [];
  for await (const item of ctx.readRows(file, { skipBadRows: ctx.skipBadRows, stringColumns: [field, 'completion'] })) {
    const v = item.value;
    const completion = typeof v.completion === 'string' ? v.completion : undefined;
    const prompt = v[field];
    if (typeof prompt === 'string') out.push({ prompt, ...(completion !== undefined ? { completion } : {}) });
    else if (Array.isArray(v.messages)) {
      const messages = v.messages.map((m: unknown, i: number): { role: string; content: string } => {
        const { role, content } = (m ?? {}) as { role?: unknown; content?: unknown };
        if (typeof role !== 'string' || typeof content !== 'string') throw new AuditInputError(`${file}:${item.line}: messages[${i}] needs string 'role' and 'content'`, { file, line: item.line });
        return { role, content };
      });
      const last = messages.at(-1);
      if (last?.role === 'assistant') out.push({ prompt: messages.slice(0, -1), completion: last.content });
      else out.push({ prompt: messages });
    } else throw new AuditInputError(`${file}:${item.line}: probe ${probe}: a row needs a string '${field}' or chat 'messages'`, { file, line: item.line });
    if (maxRows && out.length >= maxRows) break;
  }
  if (out.length === 0) throw new AuditInputError(`${file}: probe ${probe} has no usable rows`, { file });
  return out;
}

/** The kind a probe spec names, or (pack probes) the kind its pack file declares. */
export async function probeKindOf(spec: ProbeSpec, cwd?: string): Promise<string> {
  if (typeof spec.kind === 'string') return spec.kind;
  if (typeof spec.pack === 'string') {
    const doc = await PackDocument.read(probePackPath(spec.pack, cwd));
    if (typeof doc.value.kind === 'string') return doc.value.kind;
    throw doc.error([], "a probe pack names its 'kind'", 'kind');
  }
  throw new AuditInputError(`probe ${spec.name}: give 'kind' (${PROBE_KIND_NAMES.join(', ')}) or a 'pack'`);
}

/** The spec checked against its kind's fields for the task, defaults filled. Errors name source and probe. */
export function validateProbe(spec: ProbeSpec, kind: string, task: TaskKind, source: string): ProbeOf<Fields> {
  const fail = (message: string): never => {
    throw new AuditInputError(`${source}: probe ${spec.name}: ${message}`, { file: source });
  };
  const entry = PROBE_KINDS[kind];
  if (!entry) return fail(`unknown kind '${kind}' (kinds: ${PROBE_KIND_NAMES.join(', ')})`);
  const v = entry.tasks[task];
  if (!v) return fail(`kind '${kind}' does not apply to task kind '${task}' (it applies to: ${Object.keys(entry.tasks).join(', ')})`);
  const out: Record<string, unknown> = { name: spec.name, kind };
  for (const key of Object.keys(spec)) {
    if (key !== 'name' && key !== 'kind' && !(key in v.fields)) fail(`unknown key '${key}' for a ${kind} probe of a ${task} task (allowed: name, kind, ${Object.keys(v.fields).join(', ')})`);
  }
  for (const [key, f] of Object.entries(v.fields as Fields)) {
    const value = spec[key];
    if (value === undefined) {
      if (f.required) fail(`a ${kind} probe needs '${key}'`);
      if ('default' in f && f.default !== undefined) out[key] = f.default;
      continue;
    }
    if (f.type === 'string' && (typeof value !== 'string' || value.length === 0)) fail(`'${key}' must be a non-empty string`);
    if ((f.type === 'integer' || f.type === 'number') && (typeof value !== 'number' || !Number.isFinite(value) || value < f.min || (f.type === 'integer' && !Number.isInteger(value)))) {
      fail(`'${key}' must be ${f.type === 'integer' ? 'an integer' : 'a number'} >= ${f.min}`);
    }
    if (f.type === 'slice' && !(Array.isArray(value) && value.length === 2 && value.every((x) => Number.isInteger(x) && x >= 0))) fail(`'${key}' must be [start, end), two non-negative integers`);
    out[key] = value;
  }
  const probe = out as ProbeOf<Fields>;
  const problem = v.check?.(probe);
  if (problem) fail(problem);
  return probe;
}

/** Validates and loads one probe for the task: the teacher's reference is computed here. */
export async function loadProbe(spec: ProbeSpec, ctx: ProbeLoadContext): Promise<LoadedProbe> {
  const kind = await probeKindOf(spec, ctx.cwd);
  const probe = validateProbe(spec, kind, ctx.task, ctx.source);
  return PROBE_KINDS[kind]!.tasks[ctx.task]!.load(probe, ctx);
}

/** JSON Schema of one probe item (the union of every kind's fields), for the audit config schema. */
export function probeItemSchema(): Record<string, unknown> {
  const properties: Record<string, unknown> = { name: { type: 'string', minLength: 1 }, kind: { enum: PROBE_KIND_NAMES } };
  for (const entry of Object.values(PROBE_KINDS)) {
    for (const v of Object.values(entry.tasks)) {
      for (const [key, f] of Object.entries(v!.fields as Fields)) {
        if (key in properties) continue;
        properties[key] =
          f.type === 'slice'
            ? { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 2, maxItems: 2, description: f.description }
            : { type: f.type, ...(f.type !== 'string' ? { minimum: f.min } : {}), description: f.description };
      }
    }
  }
  return { type: 'object', additionalProperties: false, required: ['name'], properties };
}
