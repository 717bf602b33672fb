/**
 * Renders library progress events for a person: a single rewritten status line on a TTY, plain
 * lines (stages and each finished training run) under CI or when piped. Writes to stderr so
 * stdout stays the summary.
 */
import type { ProgressEvent, ProgressListener } from '../events.js';

export function progressRenderer(stream: NodeJS.WriteStream = process.stderr, interactive = Boolean(stream.isTTY) && !process.env.CI): ProgressListener & { done(): void } {
  let statusShown = false;
  const clear = () => {
    if (statusShown) stream.write('\r\x1b[2K');
    statusShown = false;
  };
  const line = (text: string) => {
    clear();
    stream.write(`${text}\n`);
  };
  const status = (text: string) => {
    stream.write(`\r\x1b[2K${text.slice(0, (stream.columns ?? 100) - 1)}`);
    statusShown = true;
  };
  const listener = (e: ProgressEvent) => {
    switch (e.kind) {
      case 'stage':
        line(`[${e.stage}] ${e.message}`);
        break;
      case 'warning':
        line(`warning [${e.stage}] ${e.message}`);
        break;
      case 'info':
        line(`[${e.stage}] ${e.message}`);
        break;
      case 'progress':
        if (e.stage === 'train') {
          // One line per finished run: enough to follow a CI log, few enough to read.
          if (interactive) status(`[train] ${bar(e.done, e.total)} ${e.done}/${e.total} ${e.message ?? ''}`);
          else if (e.message) line(`[train] ${e.done + 1}/${e.total} ${e.message}`);
        } else if (interactive) {
          status(`[${e.stage}] ${e.done}/${e.total} ${e.message ?? ''}`);
        }
        break;
    }
  };
  return Object.assign(listener, { done: clear });
}

function bar(done: number, total: number, width = 20): string {
  const filled = total > 0 ? Math.round((done / total) * width) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}
