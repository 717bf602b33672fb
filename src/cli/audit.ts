/**
 * `audit-dataset audit`: the gate. Every audit.yaml key is also a flag (`--train.epochs 3`,
 * `--policy.alpha 0.05`); flags override the file. Exit 0 pass, 1 fail, 2 bad input, 130 a service
 * audit interrupted by Ctrl-C (its running jobs cancelled).
 */
import type { Argv, Options } from 'yargs';
import { audit } from '../audit/audit.js';
import { lockOutDir, writeAuditOutputs } from '../audit/outputs.js';
import { exitCodeOf } from '../audit/positiveControl.js';
import path from 'node:path';
import { auditConfigSchema, loadAuditConfig, mergeConfig, readProbesFile, validateConfig, type AuditConfig } from '../config/index.js';
import type { TextAuditConfig } from '../config/schema.js';
import { ServiceBackend } from '../audit/serviceBackend.js';
import { readState, STATE_FILE } from '../audit/serviceState.js';
import { describePlan, planServiceAudit } from '../audit/serviceTask.js';
import { AuditInputError } from '../errors.js';
import { renderJson, renderSummary } from '../report/index.js';
import type { Command } from './command.js';
import { painter, paintVerdicts, progressRenderer, useColour, withOutputFlags, type OutputFlags } from './progress.js';

type SchemaNode = { type?: string; enum?: readonly unknown[]; items?: SchemaNode; description?: string; properties?: Record<string, SchemaNode>; default?: unknown };

/** One yargs option per leaf key of the config schema (nested keys in dot notation). */
export function configFlags(): Record<string, Options> {
  const flags: Record<string, Options> = {};
  const visit = (props: Record<string, SchemaNode>, prefix: string) => {
    for (const [key, node] of Object.entries(props)) {
      const name = `${prefix}${key}`;
      if (node.type === 'object' && node.properties) {
        visit(node.properties, `${name}.`);
        continue;
      }
      if (key === 'probes') {
        // A list of objects: as a flag it names a YAML/JSON file holding the list.
        flags[name] = { group: 'Audit:', type: 'string', describe: 'YAML or JSON file holding the probes list (overrides the config file\'s)' };
        continue;
      }
      const opt: Options = { group: prefix ? `${prefix.slice(0, -1)}:` : 'Audit:', ...(node.description ? { describe: node.description } : {}) };
      if (node.enum) Object.assign(opt, { choices: [...node.enum], type: 'string' });
      else if (node.type === 'integer' || node.type === 'number') opt.type = 'number';
      else if (node.type === 'boolean') opt.type = 'boolean';
      else if (node.type === 'array') Object.assign(opt, { type: 'array', ...(node.items?.type === 'integer' ? { number: true } : { string: true }) });
      else opt.type = 'string';
      if (node.default !== undefined && typeof node.default !== 'object') opt.describe = `${opt.describe ?? ''} (default ${String(node.default)})`.trim();
      flags[name] = opt;
    }
  };
  visit(auditConfigSchema.properties as unknown as Record<string, SchemaNode>, '');
  return flags;
}

/** The flags the user actually gave, as a nested config object. */
export function overridesFrom(args: Record<string, unknown>, flags: Record<string, Options>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(flags)) {
    const value = args[name];
    if (value === undefined) continue;
    const parts = name.split('.');
    let target = out;
    for (const p of parts.slice(0, -1)) target = (target[p] ??= {}) as Record<string, unknown>;
    target[parts[parts.length - 1]!] = value;
  }
  return out;
}

/** Ctrl-C during a service audit (128 + SIGINT, as shells report it): its running jobs were cancelled first. */
export const EXIT_INTERRUPTED = 130;

interface AuditArgs extends Record<string, unknown>, OutputFlags {
  config?: string;
  yes?: boolean;
  dryRun?: boolean;
  resume?: string;
}

/** The audit config of a command that takes audit.yaml and every key as a flag (`audit`, `screen`); flags override the file. */
export async function configFromArgs(command: string, args: Record<string, unknown> & { config?: string; resume?: string }): Promise<AuditConfig> {
  if (typeof args.resume === 'string') {
    // A killed service audit: the config its state.json recorded, flags laid over it; its files and jobs are reused.
    const file = path.join(args.resume, STATE_FILE);
    const state = await readState(file);
    if (!state?.config) throw new AuditInputError(`${file}: no service audit to resume here (state.json with its config)`, { file });
    return validateConfig(mergeConfig(state.config, { ...overridesFrom(args, configFlags()), out: path.resolve(args.resume) }), file);
  }
  if (!args.config && !args.teacher && !args.train) throw new AuditInputError(`${command}: give --config audit.yaml (or --teacher, --base, --data, ... as flags)`);
  const overrides = overridesFrom(args, configFlags());
  if (typeof overrides.probes === 'string') overrides.probes = await readProbesFile(overrides.probes);
  return loadAuditConfig({ ...(args.config ? { file: args.config } : {}), overrides });
}

export const auditCommand: Command<AuditArgs> = {
  command: 'audit',
  describe: 'Audit a teacher-made dataset: filters, probe students vs clean controls, statistics, pass/fail report',
  builder: (y: Argv) => {
    let out = withOutputFlags(
      y.option('config', { type: 'string', describe: 'audit.yaml (every key can also be given as a flag; `audit-dataset init` writes one)' }),
      'Print report.json on stdout (the summary and progress go to stderr)',
    );
    out = out
      .option('yes', { type: 'boolean', describe: 'train.backend openai: launch the plan\'s fine-tuning jobs (money and time are yours; see --dry-run)' })
      .option('dry-run', { type: 'boolean', describe: 'train.backend openai: write plan.json and the training files to --out, launch nothing' })
      .option('resume', { type: 'string', describe: 'an out/ folder of a killed service audit: run its recorded config again, reusing its uploaded files and jobs' });
    for (const [name, opt] of Object.entries(configFlags())) out = out.option(name, opt);
    return out
      .example('$0 audit --config audit.yaml', 'run the audit an audit.yaml describes; exit 0 pass, 1 fail, 2 bad input')
      .example('$0 audit --config audit.yaml --train.seeds 8 --out out/8-seeds', 'override keys with flags')
      .example('$0 audit --config audit.yaml --json --quiet > report.json', 'the report as JSON on stdout, nothing else')
      .epilogue(
        'Exit codes: 0 pass, 1 fail, 2 bad input (or a failed service job), 3 a bug in audit-dataset, 130 Ctrl-C. ' +
          'Ctrl-C during a train.backend openai audit cancels its running fine-tuning jobs, prints one line naming them and exits 130; ' +
          'a killed process leaves its jobs running, and audit --resume OUT picks them up.',
      ) as never;
  },
  handler: async (args) => {
    const config = await configFromArgs('audit', args);
    if (args.dryRun) {
      if (config.train.backend !== 'openai' || config.task.kind !== 'text') throw new AuditInputError('audit --dry-run: plans a train.backend openai audit (set train.backend: openai)');
      const { plan, written } = await planServiceAudit(config as TextAuditConfig, args.quiet ? () => {} : progressRenderer({ quiet: args.quiet }));
      if (args.json) process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
      else process.stdout.write(`${describePlan(plan).join('\n')}\nwritten (nothing launched): ${written.join(', ')}\n`);
      return 0;
    }
    // Ctrl-C stops a service audit and cancels its running jobs (a killed process leaves them for --resume).
    const abort = new AbortController();
    const onSigint = () => abort.abort();
    if (config.train.backend === 'openai') process.once('SIGINT', onSigint);
    // One audit per output folder at a time: a second one refuses instead of mixing files.
    const release = await lockOutDir(config.out);
    let result: Awaited<ReturnType<typeof audit>>;
    let written: string[];
    try {
      const renderer = progressRenderer({ quiet: args.quiet });
      const service = config.train.backend === 'openai' ? ServiceBackend.fromConfig(config, { yes: args.yes ?? false, onEvent: renderer, signal: abort.signal }) : undefined;
      try {
        result = await audit(config, { onEvent: renderer, yes: args.yes ?? false, signal: abort.signal, ...(service ? { backend: service } : {}) });
      } catch (e) {
        if (!abort.signal.aborted || !service) throw e;
        renderer.done();
        const ids = service.cancelled;
        process.stderr.write(
          `audit-dataset: interrupted (Ctrl-C): ${ids.length ? `cancelled ${ids.length} running fine-tuning job${ids.length === 1 ? '' : 's'} (${ids.join(', ')})` : 'no fine-tuning job was running'}; ${path.join(config.out, STATE_FILE)} keeps the uploaded files for audit --resume ${config.out}\n`,
        );
        return EXIT_INTERRUPTED;
      }
      renderer.done();
      written = await writeAuditOutputs(result.report, result.excluded, config.out, config.formats);
    } finally {
      process.off('SIGINT', onSigint);
      await release();
    }
    const { report } = result;
    // With --json stdout is the report alone; the summary moves to stderr (unless --quiet).
    const summaryStream = args.json ? process.stderr : process.stdout;
    if (args.json) process.stdout.write(renderJson(report));
    if (!(args.json && args.quiet)) {
      const summary = paintVerdicts(renderSummary(report), painter(useColour(summaryStream)));
      summaryStream.write(`${summary}\nreports: ${written.join(', ')}\n`);
    }
    return exitCodeOf(report.verdict, config.policy.onInconclusive);
  },
};
