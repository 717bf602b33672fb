import type { Argv } from 'yargs';

/** A CLI command: yargs options plus a handler returning the exit code (0 ran/pass, 1 fail). */
export interface Command<A = Record<string, unknown>> {
  command: string;
  describe: string;
  builder: (y: Argv) => Argv<A>;
  handler: (args: A) => Promise<number>;
}
