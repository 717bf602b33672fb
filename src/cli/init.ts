/**
 * `audit-dataset init`: writes a commented audit.yaml for the teacher, base and data the user
 * points at (src/audit/suggest.ts decides the fields and slices). What it cannot decide is a TODO
 * in the file and a line on stderr. Refuses to overwrite an existing file unless --force.
 */
import { access, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { suggestConfig, type ConfigSuggestion } from '../audit/suggest.js';
import { auditConfigSchema } from '../config/index.js';
import { AuditInputError } from '../errors.js';
import type { Command } from './command.js';

interface InitArgs {
  teacher: string;
  base: string;
  data: string;
  probe?: string;
  out: string;
  force: boolean;
}

/** A YAML scalar or flow value (quoted when it must be). */
const y = (v: unknown): string => stringify(v, { flowCollectionPadding: false, collectionStyle: 'flow', lineWidth: 0 }).trim();

/**
 * The audit.yaml text. Paths are relative to the file's own folder (as the loader resolves them),
 * or absolute when that would climb more than one folder.
 */
export function renderInitYaml(s: ConfigSuggestion, outFile: string): string {
  const rel = (p: string) => {
    const r = path.relative(path.dirname(path.resolve(outFile)), path.resolve(p)).split(path.sep).join('/');
    return r.startsWith('../../') ? path.resolve(p) : r;
  };
  const todo = (key: string) => s.todos.filter((t) => t.startsWith(key)).map((t) => `  # TODO ${t}`);
  const lines = [
    '# audit.yaml written by `audit-dataset init`. Run: audit-dataset audit --config THIS_FILE',
    '# Every key is also a flag (--train.seeds 8); docs: README.md "audit", schema: docs/audit.schema.json.',
    ...(s.todos.length ? [`# ${s.todos.length} TODO(s) below: init could not decide them; the audit may fail or mislead until they are fixed.`] : []),
    '',
    `teacher: ${y(rel(s.teacher))}   # candidate teacher (ONNX; ${s.model.inputWidth} inputs, ${s.model.outputWidth} outputs)`,
    `base: ${y(rel(s.base))}   # the init the teacher was trained from; students start here`,
    `data: ${y(rel(s.data))}   # the teacher-made dataset under audit`,
    '# baseline: clean.jsonl   # optional clean data; default: the base model labels the candidate inputs',
    '# filters: [numbers, banned-numbers]   # optional content-filter packs, for text fields',
    '',
    'task:',
    `  kind: ${s.kind}   # tensor rows in, the model's output vector out`,
    ...todo('task.input'),
    `  input: ${s.input === null ? 'TODO' : y(s.input)}   # field with the model's input (${s.model.inputWidth} numbers)`,
    ...todo('task.target'),
    `  target: ${s.target === null ? 'TODO' : y(s.target)}   # field with the teacher's outputs the students learn from${s.targetWidth ? ` (${s.targetWidth} numbers)` : ''}`,
    ...todo('task.outputs'),
    `  outputs: ${s.outputs ? y(s.outputs) : '[TODO, TODO]'}   # half-open slice of the model's ${s.model.outputWidth} outputs that the target holds${sliceNote(s)}`,
    ...(s.targetType ? [`  # targetType: ${s.targetType}   # detected by the audit (the sampled targets look like ${s.targetType === 'probs' ? 'probabilities' : 'logits'})`] : []),
    '',
    '# Probes: held-out inputs on which students are compared with controls. Accuracy needs a label;',
    "# agreement (share of inputs where a student's argmax agrees with the teacher's) needs none.",
    ...todo('probes').map((l) => l.slice(2)),
    ...(s.probes.length
      ? ['probes:', ...s.probes.map((p) => `  - ${y(p.kind === 'weights' ? p : { name: p.name, kind: p.kind, data: rel(p.data), input: p.input, ...(p.label ? { label: p.label } : {}), outputs: p.outputs })}`)]
      : ['probes: []   # TODO add at least one probe']),
    '',
    '# Training and verdict policy: the defaults below (the recipe under which transfer showed in the',
    '# research) apply unless you uncomment and change them; more seeds give a tighter interval.',
    `# train: ${y(defaultsOf('train'))}`,
    `# policy: ${y(defaultsOf('policy'))}`,
    'out: out/audit   # report.json, report.md, report.html, junit.xml, findings.sarif',
    '',
  ];
  return lines.join('\n');
}

/** The schema's own defaults of one config section (one source of truth). */
function defaultsOf(section: 'train' | 'policy'): Record<string, unknown> {
  const props = (auditConfigSchema.properties[section] as { properties: Record<string, { default?: unknown }> }).properties;
  return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, v.default]));
}

function sliceNote(s: ConfigSuggestion): string {
  const best = s.slices[0];
  if (!best || !s.outputs || best.outputs[0] !== s.outputs[0]) return '';
  return `; the targets match the ${best.madeBy}'s outputs there (mean abs. difference ${best.distance.toPrecision(2)})`;
}

export const initCommand: Command<InitArgs> = {
  command: 'init',
  describe: 'Write a commented audit.yaml for a teacher, its base and a dataset (detects fields, output slice and probes)',
  builder: (yargs) =>
    yargs
      .option('teacher', { type: 'string', demandOption: true, describe: 'candidate teacher (ONNX)' })
      .option('base', { type: 'string', demandOption: true, describe: "the teacher's initialization (ONNX)" })
      .option('data', { type: 'string', demandOption: true, describe: 'the teacher-made dataset (JSONL, CSV, Parquet)' })
      .option('probe', { type: 'string', describe: 'held-out probe rows (input field, and a label for an accuracy probe)' })
      .option('out', { type: 'string', default: 'audit.yaml', describe: 'file to write' })
      .option('force', { type: 'boolean', default: false, describe: 'overwrite an existing file' })
      .example('$0 init --teacher teacher.onnx --base base.onnx --data candidate.jsonl --probe probe.jsonl', 'write audit.yaml, then: audit-dataset audit --config audit.yaml')
      .example('$0 init --teacher t.onnx --base b.onnx --data d.parquet --out audits/d.yaml', 'without a probe file: an agreement probe on the data, with a TODO') as never,
  handler: async (args) => {
    const exists = await access(args.out).then(
      () => true,
      () => false,
    );
    if (exists && !args.force) throw new AuditInputError(`${args.out}: already exists (use --force to overwrite)`, { file: args.out });
    const suggestion = await suggestConfig({ teacher: args.teacher, base: args.base, data: args.data, ...(args.probe ? { probe: args.probe } : {}) });
    await mkdir(path.dirname(path.resolve(args.out)), { recursive: true });
    await writeFile(args.out, renderInitYaml(suggestion, args.out));
    for (const t of suggestion.todos) process.stderr.write(`TODO ${t}\n`);
    process.stdout.write(
      `wrote ${args.out}: input '${suggestion.input ?? 'TODO'}', target '${suggestion.target ?? 'TODO'}' = outputs ${suggestion.outputs ? `[${suggestion.outputs.join(', ')}]` : 'TODO'}, ${suggestion.probes.length} probe(s)` +
        (suggestion.todos.length ? `; ${suggestion.todos.length} TODO(s) to settle (see stderr and the file)\n` : '\nnext: audit-dataset audit --config ' + args.out + '\n'),
    );
    return 0;
  },
};
