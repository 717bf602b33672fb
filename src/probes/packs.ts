/**
 * Probe packs: YAML files in rules/probes/ (used by name) or anywhere (used by path), holding the
 * prompts and answers of a text probe. The keys a pack may hold are its kind's (kinds.ts); unknown
 * keys and wrong types are errors naming the file and line.
 */
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument, isMap, type Document, type Node as YamlNode } from 'yaml';
import { AuditInputError } from '../errors.js';

/** Built-in packs live in <package>/rules/probes (two levels above src/probes and dist/probes). */
export const BUILTIN_PROBE_PACK_DIR = fileURLToPath(new URL('../../rules/probes/', import.meta.url));

export function builtinProbePackNames(): string[] {
  if (!existsSync(BUILTIN_PROBE_PACK_DIR)) return [];
  return readdirSync(BUILTIN_PROBE_PACK_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** A pack name (rules/probes/NAME.yaml) or a .yaml path (relative to cwd) -> the file. */
export function probePackPath(token: string, cwd = process.cwd()): string {
  if (/\.ya?ml$/i.test(token) || token.includes('/') || token.includes('\\')) {
    const file = isAbsolute(token) ? token : resolve(cwd, token);
    if (!existsSync(file)) throw new AuditInputError(`${token}: probe pack file not found`, { file: token });
    return file;
  }
  const file = resolve(BUILTIN_PROBE_PACK_DIR, `${token}.yaml`);
  if (!existsSync(file)) throw new AuditInputError(`unknown probe pack '${token}' (built-in: ${builtinProbePackNames().join(', ') || 'none'}; or give a .yaml path)`);
  return file;
}

/** A parsed pack document: its plain value, and line numbers for errors. */
export class PackDocument {
  private constructor(
    readonly file: string,
    readonly value: Record<string, unknown>,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  static parse(text: string, file: string): PackDocument {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
    if (doc.errors.length > 0) {
      const e = doc.errors[0]!;
      throw new AuditInputError(`${file}:${lines.linePos(e.pos[0]).line}: invalid YAML (${e.message.split('\n')[0]})`, { file });
    }
    const value = doc.toJS() as unknown;
    const pack = new PackDocument(file, {}, doc, lines);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw pack.error([], 'a probe pack is a mapping with a `kind:`');
    return new PackDocument(file, value as Record<string, unknown>, doc, lines);
  }

  static async read(file: string): Promise<PackDocument> {
    return PackDocument.parse(await readFile(file, 'utf8'), file);
  }

  /** Error at `path` (at `key` of the mapping there, when given), naming file and line. */
  error(path: (string | number)[], message: string, key?: string): AuditInputError {
    const line = this.lineOf(path, key);
    const at = path.length > 0 ? `${path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i > 0 ? `.${p}` : p)).join('')}: ` : '';
    return new AuditInputError(`${this.file}${line ? `:${line}` : ''}: ${at}${message}`, { file: this.file, ...(line ? { line } : {}) });
  }

  lineOf(path: (string | number)[], key?: string): number | undefined {
    let node = (path.length === 0 ? this.doc.contents : this.doc.getIn(path, true)) as YamlNode | null | undefined;
    if (key !== undefined && node && isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
      if (pair) node = pair.key as YamlNode;
    }
    const offset = node?.range?.[0];
    return offset === undefined ? undefined : this.lines.linePos(offset).line;
  }

  /** Only `allowed` keys at `path`. */
  keys(path: (string | number)[], object: Record<string, unknown>, allowed: readonly string[]): void {
    for (const key of Object.keys(object)) {
      if (!allowed.includes(key)) throw this.error(path, `unknown key '${key}' (allowed: ${allowed.join(', ')})`, key);
    }
  }

  /** A non-empty list of distinct non-empty strings at `key` of the top mapping. */
  stringList(key: string, min: number): string[] {
    const v = this.value[key];
    if (!Array.isArray(v)) throw this.error([], `'${key}' must be a list of strings`, key);
    if (v.length < min) throw this.error([], `'${key}' needs at least ${min} entries, has ${v.length}`, key);
    const seen = new Set<string>();
    return v.map((s, i) => {
      if (typeof s !== 'string' || s.trim().length === 0) throw this.error([key, i], 'must be a non-empty string');
      if (seen.has(s)) throw this.error([key, i], `'${s}' appears twice`);
      seen.add(s);
      return s;
    });
  }

  /** A non-empty string at `key` of `object` (found at `path`). */
  string(path: (string | number)[], object: Record<string, unknown>, key: string): string {
    const v = object[key];
    if (typeof v !== 'string' || v.trim().length === 0) throw this.error(path, `'${key}' must be a non-empty string`, key);
    return v;
  }
}

/**
 * Every word and punctuation mark of a pack's texts (prompts, answers, pairs): what a word-level
 * vocabulary needs to read the pack without <unk> (tiny models of tests and fixtures).
 */
export async function probePackWords(token: string, cwd?: string): Promise<string[]> {
  const doc = await PackDocument.read(probePackPath(token, cwd));
  const texts: string[] = [];
  const collect = (v: unknown): void => {
    if (typeof v === 'string') texts.push(v);
    else if (Array.isArray(v)) v.forEach(collect);
    else if (v && typeof v === 'object') Object.values(v).forEach(collect);
  };
  for (const key of ['prompts', 'answers', 'pairs']) collect(doc.value[key]);
  const words = new Set<string>();
  for (const t of texts) for (const w of t.match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu) ?? []) words.add(w);
  return [...words].sort();
}
