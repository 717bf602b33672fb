/** Every CLI command, one module each. */
import type { Command } from './command.js';
import { auditCommand } from './audit.js';
import { filterCommand } from './filter.js';
import { generateCommand } from './generate.js';
import { initCommand } from './init.js';
import { inspectCommand } from './inspect.js';
import { screenCommand } from './screen.js';

export const commands: Command<any>[] = [auditCommand, screenCommand, filterCommand, generateCommand, inspectCommand, initCommand];
