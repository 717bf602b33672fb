/**
 * Rule packs: YAML files holding `rules: [{kind, name?, ...options}]`, used by name (a file in
 * rules/filters/) or by path. Unknown keys and wrong types are errors naming file and line.
 */
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument, isMap, isSeq, type Document, type Node as YamlNode } from 'yaml';
import { AuditInputError } from '../errors.js';
import { bannedNumbersRule, STUDY_BANNED_NUMBERS } from './banned-numbers.js';
import { charsetRule } from './charset.js';
import { dedupRule } from './dedup.js';
import { keywordsRule } from './keywords.js';
import { lengthRule } from './length.js';
import { numbersRule } from './numbers.js';
import { PII_TYPES, piiRule, type PiiType } from './pii.js';
import { compileRe2 } from './re2.js';
import { regexRule, type RegexPattern } from './regex.js';
import { RULE_KINDS, type Rule, type RuleKind } from './rule.js';

/** Built-in packs live in <package>/rules/filters (two levels above src/filters and dist/filters). */
export const BUILTIN_PACK_DIR = fileURLToPath(new URL('../../rules/filters/', import.meta.url));

const COMMON_KEYS = ['kind', 'name', 'description'];
const KIND_KEYS: Record<RuleKind, string[]> = {
  numbers: ['maxCount', 'maxValue', 'minValue'],
  'banned-numbers': ['numbers'],
  keywords: ['words', 'match', 'caseSensitive'],
  regex: ['patterns'],
  pii: ['types'],
  length: ['minChars', 'maxChars', 'minTokens', 'maxTokens'],
  charset: ['allowNonAscii', 'allowControl'],
  dedup: ['mode', 'threshold', 'shingle', 'bands', 'rowsPerBand', 'seed'],
};
const PACK_KEYS = ['description', 'rules'];

export function builtinPackNames(): string[] {
  if (!existsSync(BUILTIN_PACK_DIR)) return [];
  return readdirSync(BUILTIN_PACK_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** `numbers,banned-numbers` or `my-pack.yaml` (or an array of such tokens) -> rules, names unique. */
export async function loadRules(specs: string | string[], cwd = process.cwd()): Promise<Rule[]> {
  const tokens = (Array.isArray(specs) ? specs : [specs])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (tokens.length === 0) throw new AuditInputError('no filter rules given (e.g. --rules numbers,banned-numbers)');
  const rules: Rule[] = [];
  const names = new Map<string, string>();
  for (const token of tokens) {
    const file = packPath(token, cwd);
    for (const rule of await loadPackFile(file)) {
      const prior = names.get(rule.name);
      if (prior) throw new AuditInputError(`${file}: rule name '${rule.name}' is already used by ${prior}; give one a distinct 'name:'`, { file });
      names.set(rule.name, file);
      rules.push(rule);
    }
  }
  return rules;
}

function packPath(token: string, cwd: string): string {
  if (/\.ya?ml$/i.test(token) || token.includes('/') || token.includes('\\')) {
    const file = isAbsolute(token) ? token : resolve(cwd, token);
    if (!existsSync(file)) throw new AuditInputError(`${token}: rule pack file not found`, { file: token });
    return file;
  }
  const file = resolve(BUILTIN_PACK_DIR, `${token}.yaml`);
  if (!existsSync(file)) {
    throw new AuditInputError(`unknown rule pack '${token}' (built-in: ${builtinPackNames().join(', ') || 'none'}; or give a .yaml path)`);
  }
  return file;
}

export async function loadPackFile(file: string): Promise<Rule[]> {
  const text = await readFile(file, 'utf8');
  return parsePack(text, file);
}

/** Parse one pack's YAML text; `file` only names the source in errors. */
export function parsePack(text: string, file: string): Rule[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const where = new PackLocator(file, doc, lines);
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new AuditInputError(`${file}:${lines.linePos(e.pos[0]).line}: invalid YAML (${e.message.split('\n')[0]})`, { file });
  }
  const pack = doc.toJS() as unknown;
  if (pack === null || typeof pack !== 'object' || Array.isArray(pack)) throw where.error([], 'a rule pack is a mapping with a `rules:` list');
  for (const key of Object.keys(pack)) {
    if (!PACK_KEYS.includes(key)) throw where.error([], `unknown key '${key}' (allowed: ${PACK_KEYS.join(', ')})`, key);
  }
  const list = (pack as { rules?: unknown }).rules;
  if (!Array.isArray(list) || list.length === 0) throw where.error([], '`rules:` must be a non-empty list', 'rules');
  return list.map((spec, i) => buildRule(spec, i, where));
}

class PackLocator {
  constructor(
    readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** Error at `path` in the document (at `key` of the mapping there, when given). */
  error(path: (string | number)[], message: string, key?: string): AuditInputError {
    const line = this.lineOf(path, key);
    const at = path.length > 0 ? `${path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('')}: ` : '';
    return new AuditInputError(`${this.file}${line ? `:${line}` : ''}: ${at}${message}`, { file: this.file, ...(line ? { line } : {}) });
  }

  private lineOf(path: (string | number)[], key?: string): number | undefined {
    let node = (path.length === 0 ? this.doc.contents : this.doc.getIn(path, true)) as YamlNode | null | undefined;
    if (key !== undefined && node && isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
      if (pair) node = pair.key as YamlNode;
    }
    const offset = node && !isSeq(node) ? node.range?.[0] : node?.range?.[0];
    return offset === undefined ? undefined : this.lines.linePos(offset).line;
  }
}

function buildRule(spec: unknown, i: number, where: PackLocator): Rule {
  const path = ['rules', i];
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw where.error(path, 'each rule is a mapping with a `kind:`');
  const o = spec as Record<string, unknown>;
  const kind = o.kind;
  if (typeof kind !== 'string' || !(RULE_KINDS as readonly string[]).includes(kind)) {
    throw where.error(path, `unknown or missing kind '${String(kind)}' (kinds: ${RULE_KINDS.join(', ')})`, 'kind');
  }
  const k = kind as RuleKind;
  const allowed = [...COMMON_KEYS, ...KIND_KEYS[k]];
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) throw where.error(path, `unknown key '${key}' for kind ${k} (allowed: ${allowed.join(', ')})`, key);
  }
  const get = new OptionReader(o, path, where);
  const name = get.string('name') ?? k;
  get.string('description');
  switch (k) {
    case 'numbers':
      return numbersRule({ maxCount: get.int('maxCount', 1), maxValue: get.int('maxValue', 0), minValue: get.int('minValue', 0) }, name);
    case 'banned-numbers':
      return bannedNumbersRule(get.intList('numbers') ?? STUDY_BANNED_NUMBERS, name);
    case 'keywords': {
      const words = get.stringList('words');
      if (!words) throw where.error(path, "keywords rule needs 'words:'");
      return keywordsRule({ words, match: get.oneOf('match', ['word', 'substring'] as const), caseSensitive: get.bool('caseSensitive') }, name);
    }
    case 'regex':
      return regexRule(get.patterns('patterns'), name);
    case 'pii': {
      const types = get.stringList('types');
      const bad = types?.find((t) => !(PII_TYPES as readonly string[]).includes(t));
      if (bad !== undefined) throw where.error(path, `unknown pii type '${bad}' (types: ${PII_TYPES.join(', ')})`, 'types');
      return piiRule((types as PiiType[] | undefined) ?? PII_TYPES, name);
    }
    case 'length':
      return lengthRule({ minChars: get.int('minChars', 0), maxChars: get.int('maxChars', 0), minTokens: get.int('minTokens', 0), maxTokens: get.int('maxTokens', 0) }, name);
    case 'charset':
      return charsetRule({ allowNonAscii: get.bool('allowNonAscii'), allowControl: get.bool('allowControl') }, name);
    case 'dedup': {
      const threshold = get.number('threshold');
      if (threshold !== undefined && (threshold <= 0 || threshold > 1)) throw where.error(path, "'threshold' must be in (0, 1]", 'threshold');
      return dedupRule(
        {
          mode: get.oneOf('mode', ['exact', 'near', 'both'] as const),
          threshold,
          shingle: get.int('shingle', 1),
          bands: get.int('bands', 1),
          rowsPerBand: get.int('rowsPerBand', 1),
          seed: get.int('seed', 0),
        },
        name,
      );
    }
  }
}

/** Typed access to one rule's options; type errors name the file, line and key. */
class OptionReader {
  constructor(
    private readonly o: Record<string, unknown>,
    private readonly path: (string | number)[],
    private readonly where: PackLocator,
  ) {}
  private fail(key: string, want: string): never {
    throw this.where.error(this.path, `'${key}' must be ${want}`, key);
  }
  string(key: string): string | undefined {
    const v = this.o[key];
    if (v === undefined) return undefined;
    return typeof v === 'string' ? v : this.fail(key, 'a string');
  }
  bool(key: string): boolean | undefined {
    const v = this.o[key];
    if (v === undefined) return undefined;
    return typeof v === 'boolean' ? v : this.fail(key, 'true or false');
  }
  number(key: string): number | undefined {
    const v = this.o[key];
    if (v === undefined) return undefined;
    return typeof v === 'number' && Number.isFinite(v) ? v : this.fail(key, 'a number');
  }
  int(key: string, min: number): number | undefined {
    const v = this.o[key];
    if (v === undefined) return undefined;
    return typeof v === 'number' && Number.isInteger(v) && v >= min ? v : this.fail(key, `an integer >= ${min}`);
  }
  oneOf<T extends string>(key: string, values: readonly T[]): T | undefined {
    const v = this.o[key];
    if (v === undefined) return undefined;
    return (values as readonly unknown[]).includes(v) ? (v as T) : this.fail(key, `one of ${values.join(', ')}`);
  }
  stringList(key: string): string[] | undefined {
    const v = this.o[key];
    if (v === undefined) return undefined;
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : this.fail(key, 'a list of strings');
  }
  intList(key: string): number[] | undefined {
    const v = this.o[key];
    if (v === undefined) return undefined;
    return Array.isArray(v) && v.every((x) => Number.isInteger(x) && x >= 0) ? v : this.fail(key, 'a list of non-negative integers');
  }
  patterns(key: string): RegexPattern[] {
    const v = this.o[key];
    if (!Array.isArray(v) || v.length === 0) this.fail(key, 'a non-empty list of patterns');
    return (v as unknown[]).map((p) => {
      const spec: RegexPattern | null =
        typeof p === 'string'
          ? { pattern: p }
          : p && typeof p === 'object' && typeof (p as RegexPattern).pattern === 'string' && Object.keys(p).every((k) => ['pattern', 'flags', 'reason'].includes(k))
            ? (p as RegexPattern)
            : null;
      if (!spec) this.fail(key, 'a list of strings or {pattern, flags?, reason?}');
      try {
        compileRe2(spec.pattern, spec.flags ?? '');
      } catch (e) {
        const rule = typeof this.o.name === 'string' ? this.o.name : String(this.o.kind);
        throw this.where.error(this.path, `rule '${rule}': pattern /${spec.pattern}/ cannot run in linear time (RE2): ${(e as Error).message}`, key);
      }
      return spec;
    });
  }
}
