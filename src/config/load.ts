/**
 * Loads audit.yaml, lays CLI flags over it, fills defaults and validates once. Relative paths
 * in the file resolve against the file's folder; paths given as flags against the working dir.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv2020 as Ajv } from 'ajv/dist/2020.js';
import type { ErrorObject } from 'ajv';
import YAML from 'yaml';
import { AuditInputError } from '../errors.js';
import { auditConfigSchema, GENERATE_DEFAULTS, TASK_FIELDS, type AuditConfig } from './schema.js';

// Compiled on first use: `--help` and other commands need no validator.
let validator: ReturnType<Ajv['compile']> | undefined;
const validate = (value: unknown) => (validator ??= new Ajv({ useDefaults: true, allErrors: false, strict: false }).compile(auditConfigSchema))(value);

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep merge: values of `over` win; arrays are replaced, not merged. */
export function mergeConfig(base: Plain, over: Plain): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    out[k] = isPlain(v) && isPlain(out[k]) ? mergeConfig(out[k] as Plain, v) : v;
  }
  return out;
}

function describeError(e: ErrorObject, source: string): string {
  const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(top level)';
  if (e.keyword === 'additionalProperties') {
    const key = (e.params as { additionalProperty: string }).additionalProperty;
    return `${source}: unknown key '${e.instancePath ? `${where}.` : ''}${key}'`;
  }
  if (e.keyword === 'required') return `${source}: missing key '${e.instancePath ? `${where}.` : ''}${(e.params as { missingProperty: string }).missingProperty}'`;
  if (e.keyword === 'enum') return `${source}: ${where} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  return `${source}: ${where} ${e.message}`;
}

const PATH_KEYS = ['teacher', 'base', 'data', 'baseline', 'out', 'cache'] as const;

function resolvePaths(config: Plain, dir: string): Plain {
  const out = { ...config };
  for (const key of PATH_KEYS) if (typeof out[key] === 'string') out[key] = path.resolve(dir, out[key] as string);
  if (Array.isArray(out.probes)) {
    out.probes = out.probes.map((p) => {
      if (!isPlain(p)) return p;
      const q: Plain = typeof p.data === 'string' ? { ...p, data: path.resolve(dir, p.data) } : { ...p };
      // A pack given as a path (has a slash or .yaml) resolves; a bare name is a shipped pack.
      if (typeof q.pack === 'string' && /[/\\]|\.ya?ml$/.test(q.pack)) q.pack = path.resolve(dir, q.pack);
      return q;
    });
  }
  if (Array.isArray(out.filters)) {
    // A pack given as a path (has a slash or .yaml) resolves; a bare name is a shipped pack.
    out.filters = out.filters.map((f) => (typeof f === 'string' && /[/\\]|\.ya?ml$/.test(f) ? path.resolve(dir, f) : f));
  }
  return out;
}

/** A YAML (or JSON) file's document; unreadable or invalid files name the file (and line). */
async function readYamlFile(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new AuditInputError(`${file}: cannot read ${what}`, { file });
  }
  try {
    return YAML.parse(text);
  } catch (e) {
    const line = (e as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    throw new AuditInputError(`${file}${line ? `:${line}` : ''}: invalid YAML: ${(e as Error).message.split('\n')[0]}`, { file, ...(line ? { line } : {}) });
  }
}

export async function readConfigFile(file: string): Promise<Plain> {
  const doc = await readYamlFile(file, 'config file');
  if (doc === null || doc === undefined) return {};
  if (!isPlain(doc)) throw new AuditInputError(`${file}: the config must be a mapping of keys to values`, { file });
  return resolvePaths(doc, path.dirname(path.resolve(file)));
}

/** `--probes FILE`: a list of probes (or a mapping with `probes:`), data paths resolved against FILE's folder. */
export async function readProbesFile(file: string): Promise<unknown[]> {
  const doc = await readYamlFile(file, 'probes file');
  const list = Array.isArray(doc) ? doc : isPlain(doc) ? doc.probes : undefined;
  if (!Array.isArray(list)) throw new AuditInputError(`${file}: a probes file holds a list of probes (or a mapping with 'probes:')`, { file });
  return resolvePaths({ probes: list }, path.dirname(path.resolve(file))).probes as unknown[];
}

/** Validate a merged config object and fill its defaults. `source` names it in errors. */
export function validateConfig(raw: Plain, source: string): AuditConfig {
  const copy = structuredClone(raw);
  if (!validate(copy)) throw new AuditInputError(describeError(validator!.errors![0]!, source));
  const config = copy as unknown as AuditConfig;
  checkTaskFields(config.task as unknown as Plain, source);
  if (config.train.backend === 'local') {
    for (const key of ['teacher', 'base'] as const) if (config[key] === undefined) throw new AuditInputError(`${source}: missing key '${key}'`);
    if (config.train.service) throw new AuditInputError(`${source}: train.service applies to train.backend openai only`);
  } else {
    if (!config.train.service) throw new AuditInputError(`${source}: train.backend ${config.train.backend} needs train.service (model, teacherModel, ...)`);
    if (config.task.kind !== 'text') throw new AuditInputError(`${source}: train.backend ${config.train.backend} trains text tasks only (task.kind: text)`);
    if (config.train.adapter) throw new AuditInputError(`${source}: train.adapter applies to train.backend local only (the service chooses its own fine-tuning method)`);
    if (config.task.kind === 'text' && config.task.targets !== 'tokens') throw new AuditInputError(`${source}: task.targets ${config.task.targets} applies to train.backend local only (a fine-tuning service trains on the answers' tokens)`);
    if (config.train.crossInit) throw new AuditInputError(`${source}: train.crossInit applies to train.backend local only (a service fine-tunes its own model ids)`);
  }
  if (config.task.kind === 'logits') {
    const [start, end] = config.task.outputs;
    if (end <= start) throw new AuditInputError(`${source}: task.outputs [${start}, ${end}] is empty`);
  } else if (config.generate) {
    config.generate = { ...GENERATE_DEFAULTS, ...config.generate };
  }
  if (config.generate && config.task.kind !== 'text') throw new AuditInputError(`${source}: 'generate' applies to text tasks only`);
  if (config.train.adapter && config.task.kind !== 'text') throw new AuditInputError(`${source}: train.adapter applies to text tasks only`);
  // Each probe's fields are checked against its kind (per task kind) when the audit loads it.
  if (config.task.kind === 'logits') {
    for (const p of config.probes) {
      if (p.outputs !== undefined && p.outputs[1] <= p.outputs[0]) throw new AuditInputError(`${source}: probe ${p.name}: outputs [${p.outputs.join(', ')}] is empty`);
      if (p.kind === 'accuracy' && !p.label) throw new AuditInputError(`${source}: probe ${p.name}: an accuracy probe needs 'label'`);
    }
  }
  const names = new Set<string>();
  for (const p of config.probes) {
    if (names.has(p.name)) throw new AuditInputError(`${source}: two probes are named '${p.name}'`);
    names.add(p.name);
  }
  return config;
}

/** The task's keys against its kind's fields (TASK_FIELDS): missing, foreign keys; then the kind's defaults. */
function checkTaskFields(task: Plain, source: string): void {
  const fields = TASK_FIELDS[task.kind as keyof typeof TASK_FIELDS];
  for (const key of fields.required) if (task[key] === undefined) throw new AuditInputError(`${source}: missing key 'task.${key}'`);
  const allowed = new Set(['kind', ...fields.required, ...fields.optional]);
  for (const key of Object.keys(task)) {
    if (!allowed.has(key)) throw new AuditInputError(`${source}: key 'task.${key}' does not apply to task kind ${String(task.kind)}`);
  }
  for (const [key, value] of Object.entries(fields.defaults)) task[key] ??= value;
}

/** The audit config from an optional file plus flag overrides (flags win). */
export async function loadAuditConfig(opts: { file?: string; overrides?: Plain; cwd?: string }): Promise<AuditConfig> {
  const fromFile = opts.file ? await readConfigFile(opts.file) : {};
  const overrides = resolvePaths(opts.overrides ?? {}, opts.cwd ?? process.cwd());
  return validateConfig(mergeConfig(fromFile, overrides), opts.file ?? 'flags');
}
