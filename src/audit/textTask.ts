/**
 * `task.kind: text`: teacher and base are model folders of one decoder language model; rows are
 * `{prompt, completion}` or chat `{messages}`. The candidate runs through the content filters,
 * then becomes token rows (textRows.ts). The clean baseline is a given file, or the base's own
 * completions of the candidate's prompts, sampled once per control seed (independent samples)
 * and filtered like the candidate. Students train on completion tokens; probes score models
 * through the text probe kinds.
 */
import path from 'node:path';
import type { TextAuditConfig } from '../config/schema.js';
import { GENERATE_DEFAULTS } from '../config/schema.js';
import { isBadRow, type Row, type RowOrBad } from '../data/types.js';
import type { ExclusionKind } from '../data/excluded.js';
import { AuditInputError } from '../errors.js';
import type { ProgressListener } from '../events.js';
import { runFilters } from '../filters/engine.js';
import { loadRules } from '../filters/packs.js';
import { generateRows, loadTextModel, type GeneratedRow, type OpenAiLogprobs, type PromptInput, type TextModel } from '../models/generate.js';
import { restrictTopLogprobs } from '../models/logprobs.js';
import type { ChatMessage } from '../models/tokenizer.js';
import type { ProbeSpec } from '../probes/index.js';
import { encodeTextRow, type TextRowOptions } from '../models/textRows.js';
import { logprobTargets } from './logprobTargets.js';
import type { SoftTargets } from '../train/textBatches.js';
import type { TextStudentRow, TextStudentTask, TrainerBackend, Weights } from './backend.js';
import { filterTextCandidate } from './contentFilters.js';
import { loadTextModelPair, type TextModelPair } from './models.js';
import { cachedValue, modelFolderIdentity } from './runCache.js';
import { excludedCounts, type PreparedAudit } from './tasks.js';
import type { ExcludedRow } from './tensorData.js';
import { loadProbes, scoreProbes, textProbeModel } from './probeSets.js';
import { nextTokenSoftRows, POSITIVE_BASELINE, textPositiveSignal } from './textPositiveControl.js';

/** Counts of what happened to a file's rows on the way to token rows. */
export interface TextRowCounts {
  rowsIn: number;
  filtered: number;
  badRows: number;
  beyondMaxRows: number;
  emptyCompletion: number;
  /** Excluded: the prompt alone fills maxLength, or the completion adds no tokens. */
  noCompletionTokens: number;
  /** Kept, cut to maxLength. */
  truncated: number;
  /** Kept; the prompt's own tokens were not a prefix of the row's (boundary = common prefix). */
  misaligned: number;
  /** Loss-bearing tokens (completion + EOS) per epoch. */
  lossTokens: number;
  /** task.targets: logprobs: positions with soft targets, positions with a hard one (EOS), the widest top-k. */
  softPositions: number;
  hardPositions: number;
  topK: number;
  /** task.targets: logprobs: rows excluded for their logprobs (each also listed with its kind). */
  badLogprobs: number;
}

export interface TextRowSet {
  file: string;
  rows: TextStudentRow[];
  /** Each kept row's prompt, for the generated baseline. */
  prompts: PromptInput[];
  excluded: ExcludedRow[];
  counts: TextRowCounts;
  /** task.targets: logprobs: every token id the rows' top lists give a probability. */
  softTokens?: Set<number>;
}

const newCounts = (): TextRowCounts => ({
  rowsIn: 0,
  filtered: 0,
  badRows: 0,
  beyondMaxRows: 0,
  emptyCompletion: 0,
  noCompletionTokens: 0,
  truncated: 0,
  misaligned: 0,
  lossTokens: 0,
  softPositions: 0,
  hardPositions: 0,
  topK: 0,
  badLogprobs: 0,
});

/** Rows (read or generated) -> token rows, every exclusion counted and listed. */
export async function textRowSet(
  file: string,
  items: AsyncIterable<RowOrBad> | Iterable<RowOrBad>,
  models: Pick<TextModelPair, 'tokenizer'>,
  options: TextRowOptions & {
    maxRows: number;
    screen?: (row: Row) => { reasons: string[]; rules?: string[] } | undefined;
    /** task.targets: logprobs: the field holding each row's OpenAI logprobs object. */
    logprobsField?: string;
  },
): Promise<TextRowSet> {
  const set: TextRowSet = { file, rows: [], prompts: [], excluded: [], counts: newCounts() };
  const c = set.counts;
  const exclude = (line: number, kind: ExclusionKind, reason: string) => set.excluded.push({ file, line, kind, reasons: [reason] });
  for await (const item of items) {
    c.rowsIn++;
    if (isBadRow(item)) {
      c.badRows++;
      exclude(item.line, 'bad-row', `bad row: ${item.reason}`);
      continue;
    }
    if (options.maxRows && set.rows.length >= options.maxRows) {
      c.beyondMaxRows++;
      exclude(item.line, 'row-limit', 'beyond maxRows');
      continue;
    }
    const screened = options.screen?.(item);
    if (screened && screened.reasons.length > 0) {
      c.filtered++;
      set.excluded.push({ file, line: item.line, kind: 'filter', reasons: screened.reasons, rules: screened.rules ?? [] });
      continue;
    }
    const encoded = encodeTextRow(item, file, models.tokenizer, options);
    if (encoded.kind === 'excluded') {
      const empty = encoded.reason === 'empty completion';
      if (empty) c.emptyCompletion++;
      else c.noCompletionTokens++;
      exclude(item.line, empty ? 'empty-completion' : 'no-completion-tokens', encoded.reason);
      continue;
    }
    let soft: SoftTargets | undefined;
    if (options.logprobsField !== undefined) {
      const targets = logprobTargets(item.value[options.logprobsField], options.logprobsField, encoded.row, encoded.truncated, models.tokenizer);
      if (targets.kind === 'excluded') {
        c.badLogprobs++;
        exclude(item.line, targets.exclusion, targets.reason);
        continue;
      }
      soft = targets.soft;
      // Only the positions the row's own lists describe: the EOS position's hard target would put
      // EOS into every position of a generated baseline's lists, which the candidate's never held.
      const support = (set.softTokens ??= new Set());
      for (let i = 0; i < targets.softPositions * soft.k; i++) if (soft.probs[i]! > 0) support.add(soft.ids[i]!);
      c.softPositions += targets.softPositions;
      c.hardPositions += targets.hardPositions;
      c.topK = Math.max(c.topK, soft.k);
    }
    if (encoded.truncated) c.truncated++;
    if (encoded.misaligned) c.misaligned++;
    const { ids, lossFrom } = encoded.row;
    c.lossTokens += ids.length - lossFrom;
    const { prompt, completion } = rowPromptOf(item, options);
    set.rows.push({ line: item.line, prompt: typeof prompt === 'string' ? prompt : JSON.stringify(prompt), completion, tokens: encoded.row, ...(soft ? { soft } : {}) });
    set.prompts.push(prompt);
  }
  if (c.rowsIn === 0) throw new AuditInputError(`${file}: no rows`, { file });
  return set;
}

/** The prompt as generation takes it (text, or the chat messages before the answer) and the completion text. */
function rowPromptOf(row: Row, options: TextRowOptions): { prompt: PromptInput; completion: string } {
  const messages = row.value[options.messagesField ?? 'messages'];
  if (Array.isArray(messages)) {
    const list = messages as ChatMessage[];
    return { prompt: list.slice(0, -1), completion: list.at(-1)!.content };
  }
  return { prompt: String(row.value[options.promptField ?? 'prompt']), completion: String(row.value[options.completionField ?? 'completion']) };
}

/**
 * The longest training sequence: task.maxLength, else the smaller of the model's position limit
 * (config.json n_positions / max_position_embeddings) and the tokenizer's model_max_length
 * (tokenizer_config.json; transformers' "no limit" sentinel is ignored). task.maxLength may not
 * exceed the positions: the model has no embedding past them.
 */
export function maxLengthOf(config: Pick<TextAuditConfig, 'task'>, models: Pick<TextModelPair, 'modelConfig' | 'baseFolder' | 'tokenizer'>): number {
  const positions = [models.modelConfig.n_positions, models.modelConfig.max_position_embeddings].find((v): v is number => typeof v === 'number' && v > 1);
  if (config.task.maxLength !== undefined) {
    if (positions !== undefined && config.task.maxLength > positions) {
      throw new AuditInputError(`task.maxLength ${config.task.maxLength} exceeds the model's ${positions} positions (${path.join(models.baseFolder, 'config.json')})`);
    }
    return config.task.maxLength;
  }
  const limits = [positions, models.tokenizer.modelMaxLength].filter((v): v is number => v !== undefined && v >= 2);
  if (limits.length === 0) throw new AuditInputError(`${models.baseFolder}: neither config.json (n_positions, max_position_embeddings) nor tokenizer_config.json (model_max_length) gives a length limit; set task.maxLength`);
  return Math.min(...limits);
}

export async function prepareTextAudit(config: TextAuditConfig, _backend: TrainerBackend, emit: ProgressListener): Promise<PreparedAudit> {
  emit({ kind: 'stage', stage: 'models', message: 'reading teacher and base model folders' });
  const models = await loadTextModelPair(config, emit);
  const padId = models.tokenizer.padId ?? models.tokenizer.eosId;
  if (padId === undefined) throw new AuditInputError(`${models.baseFolder}: the tokenizer names neither a PAD nor an EOS token`);
  const soft = config.task.targets === 'logprobs';
  const rowOptions: TextRowOptions & { maxRows: number; logprobsField?: string } = {
    promptField: config.task.prompt,
    completionField: config.task.completion,
    messagesField: config.task.messages,
    maxLength: maxLengthOf(config, models),
    overLength: config.task.overLength,
    maxRows: config.train.maxRows,
    ...(soft ? { logprobsField: config.task.logprobs } : {}),
  };
  const { filtering, filterFields, read, screening } = await filterTextCandidate(config, emit);
  const candidate = await textRowSet(config.data, read(config.data), models, { ...rowOptions, ...screening });
  const minRows = 2 * config.train.batchSize;
  const tooSmall = (file: string, set: TextRowSet) => {
    const first = set.excluded.find((e) => e.kind.startsWith('logprobs-'));
    const why = first ? `; ${set.counts.badLogprobs} rows excluded for their logprobs (first: line ${first.line}: ${first.reasons[0]})` : '';
    return new AuditInputError(`${file}: ${set.rows.length} usable rows; batchSize ${config.train.batchSize} needs at least ${minRows} (two batches, so seeds differ in data order)${why}`, { file });
  };
  if (candidate.rows.length < minRows) throw tooSmall(config.data, candidate);

  // The clean baseline: a given file, or the base's samples on the candidate's prompts per seed.
  let given: TextRowSet | undefined;
  if (config.baseline) {
    given = await textRowSet(config.baseline, read(config.baseline), models, { ...rowOptions, maxRows: 0 });
    if (given.rows.length < minRows) throw tooSmall(config.baseline, given);
  }
  const rules = config.filters.length ? await loadRules(config.filters) : [];
  const sampling = { ...GENERATE_DEFAULTS, ...config.generate };
  let baseModel: TextModel | undefined;
  let baseIdentity: Promise<Record<string, string>> | undefined;
  const generated = new Map<number, TextRowSet>();
  // Soft targets: the base's top lists keep only the tokens the candidate's lists use (a candidate
  // restricted to, say, the format's tokens would otherwise meet controls whose targets hold every
  // word, a difference between the arms that is not the teacher's).
  const candidateTokens = soft && candidate.softTokens ? new Set([...candidate.softTokens].map((id) => models.tokenizer.idToToken(id))) : undefined;
  const shapedLikeCandidate = (lp: OpenAiLogprobs | undefined) => (lp && candidateTokens ? restrictTopLogprobs(lp, (t) => candidateTokens.has(t)) : lp);
  const baselineFor = async (seed: number): Promise<TextRowSet> => {
    if (given) return given;
    let set = generated.get(seed);
    if (set) return set;
    emit({ kind: 'stage', stage: 'baseline', message: `clean baseline: the base's completions of ${candidate.prompts.length} candidate prompts (seed ${seed})${candidateTokens ? `, top lists kept to the ${candidateTokens.size} tokens the candidate's lists use` : ''}` });
    // One completion per candidate prompt that passes the filters, as the candidate's rows did: a
    // prompt whose draw the filters exclude is drawn again (another stream) up to
    // MAX_BASELINE_DRAWS times. Controls then train on as many rows, of the same prompts, as the
    // students (a baseline cut to the filters' ~70% trained controls for fewer steps, and that
    // alone moved the probes). A prompt that never passes keeps its last draw, listed as excluded.
    const n = candidate.prompts.length;
    const chosen = new Array<Row | undefined>(n);
    const excludedByFilter = new Map<number, { reasons: string[]; rules: string[] }>();
    let pending = Array.from({ length: n }, (_, i) => i);
    let redrawn = 0;
    let readDraws = 0;
    for (let draw = 0; draw < MAX_BASELINE_DRAWS && pending.length > 0; draw++) {
      const prompts = pending.map((i) => candidate.prompts[i]!);
      const options = {
        ...sampling,
        seed: (baselineSeed(seed) + draw * 0x9e3779b9) >>> 0,
        // Prompts laid out as the baseline's training rows will have them (a plain prompt stays plain).
        asTrainingRows: true,
        // Soft targets: the base's own top-k log-probs, as wide as the candidate's, so controls train like students.
        ...(soft ? { topLogprobs: candidate.counts.topK } : {}),
      };
      // Sampling is deterministic too: a re-run with a run cache reads the draws (cache: DIR).
      const { value: rows, cached } = await cachedValue(
        config.cache,
        'baseline-rows',
        async () => ({ base: await (baseIdentity ??= modelFolderIdentity(models.baseFolder)), prompts, options }),
        async () => (await generateRows((baseModel ??= await loadTextModel(models.baseFolder)), prompts, options)).rows,
        { valid: (v): v is GeneratedRow[] => Array.isArray(v) && v.length === prompts.length, emit },
      );
      if (cached) readDraws++;
      const drawn: Row[] = rows.map((r, j) => ({
        line: pending[j]! + 1,
        value: {
          ...(typeof r.prompt === 'string'
            ? { [config.task.prompt]: r.prompt, [config.task.completion]: r.completion }
            : { [config.task.messages]: [...r.prompt, { role: 'assistant', content: r.completion }] }),
          ...(r.logprobs ? { [config.task.logprobs]: shapedLikeCandidate(r.logprobs) } : {}),
        },
      }));
      const rejected = new Map<number, { reasons: string[]; rules: string[] }>();
      if (rules.length > 0) {
        await runFilters(drawn, rules, { file: '(generated by base)', fields: filterFields, onExcluded: (ex) => void rejected.set(ex.line, { reasons: ex.reasons, rules: ex.rules ?? [] }) });
      }
      if (draw > 0) redrawn += pending.length;
      const next: number[] = [];
      for (const row of drawn) {
        chosen[row.line - 1] = row;
        const why = rejected.get(row.line);
        if (why) {
          excludedByFilter.set(row.line, why);
          next.push(row.line - 1);
        } else excludedByFilter.delete(row.line);
      }
      pending = next;
    }
    if (redrawn > 0) emit({ kind: 'stage', stage: 'baseline', message: `clean baseline (seed ${seed}): ${redrawn} draws repeated for prompts the filters excluded, ${pending.length} prompts without a passing draw` });
    if (readDraws > 0) emit({ kind: 'info', stage: 'baseline', message: `clean baseline (seed ${seed}): ${readDraws} sampling pass(es) read from the run cache` });
    const asRows = chosen as Row[];
    set = await textRowSet('(generated by base)', asRows, models, { ...rowOptions, maxRows: 0, screen: (row) => excludedByFilter.get(row.line) });
    if (set.rows.length < minRows) throw tooSmall(`the base's generated baseline (seed ${seed})`, set);
    generated.set(seed, set);
    return set;
  };

  const task: TextStudentTask = {
    targets: config.task.targets,
    padId,
    ...(config.train.adapter ? { adapter: { rank: config.train.adapter.rank, alpha: config.train.adapter.alpha ?? config.train.adapter.rank, targets: config.train.adapter.targets ?? [] } } : {}),
  };
  const teacherModel = await loadTextModel(models.teacherFolder);
  const open: TextModel[] = [teacherModel];
  emit({ kind: 'stage', stage: 'probes', message: `loading ${config.probes.length} probes` });
  const probeSets = await loadProbes(config.probes as ProbeSpec[], {
    task: 'text',
    teacher: textProbeModel(teacherModel, models.teacherWeights),
    parameters: { base: models.baseWeights, teacher: models.teacherWeights },
    source: 'audit config',
    skipBadRows: config.skipBadRows,
    onEvent: emit,
  });
  const scoreWith = async (folder: string, weights?: Weights) => {
    const model = await loadTextModel(folder, weights ? { weights } : {});
    try {
      return await scoreProbes(probeSets, textProbeModel(model, weights ?? models.baseWeights));
    } finally {
      await model.runner.dispose();
    }
  };

  let positiveRows: Promise<TextStudentRow[]> | undefined;
  let positiveBaselineRows: Promise<TextStudentRow[]> | undefined;
  const c = candidate.counts;
  const baselineRows = given ? given.rows.length : undefined;
  return {
    teacher: models.teacher,
    base: models.base,
    baseWeights: models.baseWeights,
    teacherWeights: models.teacherWeights,
    probeSets,
    // The positive control: the teacher's next-token distributions on the candidate rows, tested
    // against students trained on the base's distributions on the same rows (textPositiveControl.ts).
    positiveControl: true,
    controlsDrawBaselines: !given,
    positiveControlSignal: textPositiveSignal(teacherModel.runner.vocab),
    positiveControlBaseline: POSITIVE_BASELINE,
    jobData: async (arm, seed) => {
      if (arm === 'positive' || arm === 'positiveBaseline') {
        const teacher = arm === 'positive';
        const source = teacher ? teacherModel : (baseModel ??= await loadTextModel(models.baseFolder));
        const cached = teacher ? positiveRows : positiveBaselineRows;
        let rows = cached;
        if (!rows) {
          emit({ kind: 'stage', stage: 'positive-control', message: `the ${teacher ? 'teacher' : 'base'}'s next-token distributions on ${candidate.rows.length} candidate rows` });
          rows = nextTokenSoftRows(source, candidate.rows);
          if (teacher) positiveRows = rows;
          else positiveBaselineRows = rows;
        }
        return { kind: 'text', task: { ...task, targets: 'logprobs' }, data: { rows: await rows } };
      }
      return { kind: 'text', task, data: { rows: arm === 'control' ? (await baselineFor(seed)).rows : candidate.rows } };
    },
    score: (weights) => scoreWith(models.baseFolder, weights),
    scoreTeacher: () => scoreProbes(probeSets, textProbeModel(teacherModel, models.teacherWeights)),
    filters: filtering?.summary ?? null,
    get data() {
      const generatedRows = [...generated.values()].map((s) => s.rows.length);
      return {
        candidate: {
          file: config.data,
          rowsIn: c.rowsIn,
          rowsUsed: candidate.rows.length,
          excluded: excludedCounts(candidate.excluded, true, soft),
          targetType: config.task.targets,
          targetTypeDetected: false,
          text: {
            maxLength: rowOptions.maxLength,
            truncated: c.truncated,
            misaligned: c.misaligned,
            lossTokens: c.lossTokens,
            ...(soft ? { softPositions: c.softPositions, hardPositions: c.hardPositions, topK: c.topK, topListTokens: candidate.softTokens?.size ?? 0 } : {}),
          },
        },
        baseline: config.baseline
          ? { source: 'given' as const, file: config.baseline, rows: baselineRows! }
          : { source: 'generated-by-base' as const, rows: Math.min(...generatedRows), rowsPerSeed: generatedRows, generate: sampling },
      };
    },
    trainRecord: {
      loss: soft ? "KL to the rows' renormalised top-k logprobs (the EOS position: its hard token)" : 'token cross-entropy on completion tokens',
      targetType: config.task.targets,
    },
    get excluded() {
      return [...candidate.excluded, ...(given?.excluded ?? []), ...[...generated.values()].flatMap((s) => s.excluded)];
    },
    close: async () => {
      await baseModel?.runner.dispose();
      for (const m of open) await m.runner.dispose();
    },
  };
}

/** Most draws per prompt for a generated baseline row that passes the content filters. */
const MAX_BASELINE_DRAWS = 8;

/** The generation seed of a control seed: apart from the training-order stream of the same seed. */
export const baselineSeed = (seed: number): number => (seed * 2654435761 + 0x9e3779b9) >>> 0;
