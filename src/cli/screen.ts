/**
 * `audit-dataset screen`: the audit's checks that need no training (content filters, row
 * attribution, gradient screen), in seconds, written in the audit's report formats marked as a
 * screen (`mode: "screen"`, verdict `screen`). Takes the same config and flags as `audit`.
 * Exit 0 (it judges nothing), 2 on bad input.
 */
import type { Argv } from 'yargs';
import { lockOutDir, writeAuditOutputs } from '../audit/outputs.js';
import { screenOnly } from '../audit/screenRun.js';
import { renderSummary } from '../report/index.js';
import { configFlags, configFromArgs } from './audit.js';
import type { Command } from './command.js';
import { progressRenderer } from './progress.js';

interface ScreenArgs extends Record<string, unknown> {
  config?: string;
  quiet: boolean;
}

export const screenCommand: Command<ScreenArgs> = {
  command: 'screen',
  describe: 'First look without training: content filters, row attribution and gradient screen, in the audit report formats (exit 0)',
  builder: (y: Argv) => {
    let out = y
      .option('config', { type: 'string', describe: 'audit.yaml (every key can also be given as a flag)' })
      .option('quiet', { type: 'boolean', default: false, describe: 'No progress output' });
    for (const [name, opt] of Object.entries(configFlags())) out = out.option(name, opt);
    return out.example('$0 screen --config audit.yaml', 'screen the data an audit.yaml describes, without training') as never;
  },
  handler: async (args) => {
    const config = await configFromArgs('screen', args);
    // The same output folder as an audit: one run writes it at a time (a second one refuses).
    const release = await lockOutDir(config.out);
    let report: Awaited<ReturnType<typeof screenOnly>>['report'];
    let written: string[];
    try {
      const renderer = progressRenderer();
      const result = await screenOnly(config, args.quiet ? {} : { onEvent: renderer });
      renderer.done();
      report = result.report;
      written = await writeAuditOutputs(report, result.excluded, config.out, config.formats);
    } finally {
      await release();
    }
    process.stdout.write(`${renderSummary(report)}\nreports: ${written.join(', ')}\n`);
    return 0;
  },
};
