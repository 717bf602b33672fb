/** Every CLI command, one module each. */
import type { Command } from './command.js';

export const commands: Command<any>[] = [];
