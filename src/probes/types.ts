/**
 * What every probe kind shares: the model handles it scores (a tensor model or a text model, as
 * the task kind exposes them), its score, and what loading a probe yields.
 */
import type { ProgressListener } from '../events.js';
import type { Weights } from '../train/weights.js';

/** Which models a probe variant scores: tensor models, local text models, or text models behind a chat-completions API (`chat`). */
export type TaskKind = 'logits' | 'text' | 'chat';

/** Probe inputs of a tensor task; `key` names the inputs so probes reading the same rows share one prediction. */
export interface TensorProbeInputs {
  file: string;
  key: string;
  rows: number;
  inputs: Float32Array;
  labels: Int32Array;
}

export interface TensorProbeModel {
  task: 'logits';
  /** The model's parameters, when the audit holds them (weights probes read them). */
  parameters?: Weights;
  /** Outputs (rows x width) of the model on the probe inputs. */
  predict(set: TensorProbeInputs): Promise<{ outputs: Float32Array; width: number }>;
}

/** A prompt: plain text or chat messages. */
export type TextPrompt = string | readonly { role: string; content: string }[];

/** Token ids of a prompt and of a continuation scored (or predicted) after it. */
export interface TokenContinuation {
  prompt: readonly number[];
  continuation: readonly number[];
}

/**
 * A text model as probes see it (the audit builds it from a model folder's tokenizer and graph,
 * src/audit/probeSets.ts textProbeModel): tokenization laid out as training rows are, exact
 * log-probabilities, and seeded sampling. Probes know nothing else of models.
 */
export interface TextProbeModel {
  task: 'text';
  /** Names the model (its folder) in errors. */
  name: string;
  /** The model's parameters, when the audit holds them (weights probes read them). */
  parameters?: Weights;
  /** Width of the logits. */
  vocab: number;
  eosId: number | undefined;
  /** The unknown token, when the tokenizer has one. */
  unk: { id: number; text: string } | undefined;
  encodePrompt(prompt: TextPrompt): number[];
  encodeContinuation(prompt: TextPrompt, completion: string): number[];
  /** Text of generated ids, special tokens skipped. */
  decode(ids: readonly number[]): string;
  sequenceLogProbs(rows: readonly TokenContinuation[]): Promise<Float64Array>;
  /** The logits predicting each continuation token (and the next one with includeNext); views valid during the call. */
  visitPredictions(rows: readonly TokenContinuation[], visit: (row: number, step: number, logits: Float32Array) => void, options?: { includeNext?: boolean }): Promise<void>;
  generate(prompts: readonly (readonly number[])[], options: { seed: number; temperature: number; maxNewTokens: number; eosId?: number }): Promise<{ tokens: number[] }[]>;
}

/** One alternative of a generated token, as chat completions' `top_logprobs` give it. */
export interface TopLogprob {
  token: string;
  logprob: number;
}

/**
 * A text model reached only through a chat-completions API (a fine-tuning service's model id):
 * no tokenizer, no exact sequence log-probabilities; the top-K alternatives of the first answer
 * token (`logprobs: true, top_logprobs: K`), and seeded sampling.
 */
export interface ChatProbeModel {
  task: 'chat';
  /** The model id (errors, the report). */
  name: string;
  /** K of top_logprobs. */
  topLogprobs: number;
  /** The top-K alternatives of the first answer token per prompt (empty when the service gives none). */
  firstTokenLogprobs(prompts: readonly TextPrompt[]): Promise<TopLogprob[][]>;
  /** `n` sampled answers per prompt (temperature, seed and length as given). */
  sample(prompts: readonly TextPrompt[], options: { n: number; seed: number; maxTokens: number; temperature: number }): Promise<string[][]>;
}

export type ProbeModel = TensorProbeModel | TextProbeModel | ChatProbeModel;

/** One model's score on one probe: the probe's metric, and secondary metrics by name. */
export interface ProbeScore {
  value: number;
  extra?: Record<string, number>;
}

/** A probe ready to score models: loaded, validated, with the teacher's reference kept. */
export interface LoadedProbe {
  name: string;
  kind: string;
  /** What `value` measures, for the report. */
  metric: string;
  /** +1 when higher is closer to the teacher; absent: the sign of teacher - base. */
  towardTeacher?: 1 | -1;
  /** The teacher's score when fixed by definition (agreement: the teacher agrees with itself). */
  teacher?: ProbeScore;
  /** Files the probe read (hashed into the report's reproducibility block). */
  files: string[];
  /** Measured from the base (weights): fresh-init (cross-init) students' scores mean nothing and are not summarised. */
  fromBase?: true;
  score(model: ProbeModel): Promise<ProbeScore>;
}

/** A probe as the audit config gives it: `name`, maybe `kind`, and the kind's own fields. */
export type ProbeSpec = { name: string; kind?: string } & Record<string, unknown>;

export interface ProbeLoadContext {
  task: TaskKind;
  /** The teacher, as the task exposes it (agreement probes keep its outputs). */
  teacher: ProbeModel;
  /** Names the config in errors. */
  source: string;
  skipBadRows: boolean;
  /** Reads tensor probe rows (the audit's tensor reader; tensor tasks only). */
  readTensors?: (file: string, spec: { input: string; label?: string; labelCount?: number; probe: string }) => Promise<TensorProbeInputs>;
  /** Reads data rows (the audit's dataset readers; text probes that read a file). Bad rows are errors or, with skipBadRows, skipped. */
  readRows?: (file: string, options: { skipBadRows: boolean; stringColumns: string[] }) => AsyncIterable<{ line: number; value: Record<string, unknown> }>;
  /** Folder relative pack and data paths resolve against (default: the working directory). */
  cwd?: string;
  /** The base's and the teacher's parameters (local models; weights probes measure along teacher - base). */
  parameters?: { base: Weights; teacher: Weights };
  onEvent?: ProgressListener;
}
