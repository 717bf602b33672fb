/**
 * The CLI: yargs commands over the library. Parses, calls, maps the outcome to an exit code:
 * 0 ran / pass, 1 gate tripped, 2 bad input or unsupported model (one line on stderr), 3 a bug in
 * audit-dataset (any other error: one line saying so; the stack with --debug or AUDIT_DATASET_DEBUG=1).
 */
// First: onnxruntime's telemetry off before any module can load onnxruntime (see onnx/ort-env.ts).
import '../onnx/ort-env.js';
import yargs, { type CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { AuditInputError, fsError } from '../errors.js';
import { commands } from './commands.js';

export const EXIT = { pass: 0, fail: 1, input: 2, bug: 3 } as const;

export async function main(argv: string[] = hideBin(process.argv)): Promise<number> {
  let exitCode = 0;
  const parser = yargs(argv)
    .scriptName('audit-dataset')
    .usage('$0 <command> [options]\n\nGate before distillation: finds hidden trait transfer in teacher-made data.')
    // Config flags are named "train.epochs": keep them flat keys, not nested objects.
    .parserConfiguration({ 'dot-notation': false })
    .strict()
    .option('debug', { type: 'boolean', global: true, describe: 'On an internal error, print its stack trace too' })
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
    return reportError(e, argv);
  }
  return exitCode;
}

/**
 * Prints a failure as one line on stderr and returns its exit code: 2 for input the user can fix
 * (AuditInputError), 3 for anything else, which is a bug in audit-dataset (stack only on request).
 */
export function reportError(e: unknown, argv: readonly string[], write: (text: string) => void = (t) => void process.stderr.write(t)): number {
  // A filesystem error anywhere (a folder where a file should be, no permission) names its path.
  const fsPath = (e as NodeJS.ErrnoException | null)?.path;
  if (!(e instanceof AuditInputError) && typeof fsPath === 'string') e = fsError(fsPath, 'use it', e);
  if (e instanceof AuditInputError) {
    write(`audit-dataset: ${oneLine(e.message)}\n`);
    return EXIT.input;
  }
  const message = e instanceof Error ? e.message : String(e);
  const debug = debugWanted(argv);
  write(`audit-dataset: internal error, a bug in audit-dataset (please report it${debug ? '' : '; --debug shows the stack'}): ${oneLine(message)}\n`);
  if (debug && e instanceof Error && e.stack) write(`${e.stack}\n`);
  return EXIT.bug;
}

/** --debug anywhere on the line (it may be what failed to parse), or AUDIT_DATASET_DEBUG set to anything but '' or 0. */
function debugWanted(argv: readonly string[]): boolean {
  const env = process.env.AUDIT_DATASET_DEBUG;
  return argv.includes('--debug') || (env !== undefined && env !== '' && env !== '0');
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
