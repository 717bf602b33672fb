/**
 * The CLI: yargs commands over the library. Parses, calls, maps the outcome to an exit code:
 * 0 ran / pass, 1 gate tripped, 2 bad input or unsupported model (one line on stderr).
 */
// First: onnxruntime's telemetry off before any module can load onnxruntime (see onnx/ort-env.ts).
import '../onnx/ort-env.js';
import yargs, { type CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { fsError } from '../data/output-dir.js';
import { AuditInputError } from '../errors.js';
import { commands } from './commands.js';

export async function main(argv: string[] = hideBin(process.argv)): Promise<number> {
  let exitCode = 0;
  const parser = yargs(argv)
    .scriptName('audit-dataset')
    .usage('$0 <command> [options]\n\nGate before distillation: finds hidden trait transfer in teacher-made data.')
    // Config flags are named "train.epochs": keep them flat keys, not nested objects.
    .parserConfiguration({ 'dot-notation': false })
    .strict()
    .demandCommand(1, 'name a command: see --help')
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((msg, err) => {
      throw err ?? new AuditInputError(msg);
    });
  for (const command of commands) {
    const inner = command.handler;
    parser.command({
      ...command,
      handler: async (args) => {
        exitCode = (await inner(args as never)) ?? 0;
      },
    } as CommandModule);
  }
  try {
    await parser.parseAsync();
  } catch (e) {
    process.stderr.write(`audit-dataset: ${oneLine(e)}\n`);
    if (process.env.AUDIT_DATASET_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    return 2;
  }
  return exitCode;
}

function oneLine(e: unknown): string {
  // A filesystem error anywhere (a folder where a file should be, no permission) names its path.
  const path = (e as NodeJS.ErrnoException | null)?.path;
  if (!(e instanceof AuditInputError) && typeof path === 'string') e = fsError(e, path, 'use it');
  const text = e instanceof AuditInputError ? e.message : e instanceof Error ? `internal error: ${e.message}` : String(e);
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
