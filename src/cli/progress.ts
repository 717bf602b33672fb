/**
 * How the CLI talks to a person or a machine. Progress and warnings go to stderr, so stdout holds
 * only the result (a summary, or with --json the report itself). On a TTY progress is one
 * rewritten status line (stage, run i/n, epoch, ETA from the runs finished so far); under CI=true
 * or when piped, plain lines (each stage, each training run as it starts). NO_COLOR and
 * FORCE_COLOR are respected as Node's own tty colour detection does (FORCE_COLOR wins).
 */
import type { Argv } from 'yargs';
import type { ProgressEvent, ProgressListener } from '../events.js';

export interface OutputFlags {
  json: boolean;
  quiet: boolean;
}

/** The --json and --quiet flags, for any command that prints a result and progress. */
export function withOutputFlags<T>(y: Argv<T>, json: string): Argv<T & OutputFlags> {
  return y
    .option('json', { type: 'boolean', default: false, describe: json })
    .option('quiet', { type: 'boolean', default: false, describe: 'No progress on stderr (warnings and errors still print)' }) as Argv<T & OutputFlags>;
}

type Env = Record<string, string | undefined>;

/** True when CI is set to anything but "", "0" or "false" (CI=true is what every CI service sets). */
export function isCi(env: Env = process.env): boolean {
  const ci = env.CI?.trim().toLowerCase();
  return ci !== undefined && ci !== '' && ci !== '0' && ci !== 'false';
}

/** Colour on this stream? FORCE_COLOR (non-zero) forces it, NO_COLOR (non-empty) turns it off, else a TTY that is not "dumb". */
export function useColour(stream: { isTTY?: boolean }, env: Env = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return !['0', 'false'].includes(force.trim().toLowerCase());
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

const SGR = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;
export type Paint = (style: keyof typeof SGR, text: string) => string;

export function painter(colour: boolean): Paint {
  return colour ? (style, text) => `\x1b[${SGR[style]}m${text}\x1b[0m` : (_style, text) => text;
}

/** Highlights the verdict words of a summary line (PASS green, FAIL red, INCONCLUSIVE yellow). */
export function paintVerdicts(text: string, paint: Paint): string {
  return text.replace(/\b(PASS|FAIL|INCONCLUSIVE)\b/g, (w) => paint(w === 'PASS' ? 'green' : w === 'FAIL' ? 'red' : 'yellow', paint('bold', w)));
}

/** "1:05" or "42 s": short enough for a status line. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

export interface RendererOptions {
  stream?: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  /** A rewritten status line (TTY, not CI) rather than plain lines. */
  interactive?: boolean;
  colour?: boolean;
  /** Only warnings (--quiet). */
  quiet?: boolean;
  /** Clock, for tests. */
  now?: () => number;
}

export type ProgressRenderer = ProgressListener & { done(): void };

/** Renders library progress events on stderr (see the module comment). */
export function progressRenderer(options: RendererOptions = {}): ProgressRenderer {
  const stream = options.stream ?? process.stderr;
  const interactive = options.interactive ?? (Boolean(stream.isTTY) && !isCi());
  const paint = painter(options.colour ?? useColour(stream));
  const now = options.now ?? (() => performance.now());
  let statusShown = false;
  // The training runs: started when the first one starts; the ETA extrapolates the finished ones.
  let runs: { done: number; total: number; label: string; startedAt: number; lastDoneAt: number } | null = null;
  let epoch = '';

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
  const tag = (stage: string) => paint('dim', `[${stage}]`);
  // Mean time of the finished runs times the runs left, less the time the current run has had.
  const eta = (): string => {
    if (!runs || runs.done === 0) return 'ETA after the first run';
    const perRun = (runs.lastDoneAt - runs.startedAt) / runs.done;
    return `ETA ${formatDuration(Math.max(0, perRun * (runs.total - runs.done) - (now() - runs.lastDoneAt)))}`;
  };
  const runStatus = () => {
    if (!runs) return;
    // The ETA before the labels: a narrow terminal cuts the end of the line.
    const parts = [`${tag('train')} ${bar(runs.done, runs.total)} run ${Math.min(runs.done + 1, runs.total)}/${runs.total}`, eta(), runs.label, epoch];
    status(parts.filter(Boolean).join(' · '));
  };

  const listener = (e: ProgressEvent) => {
    if (e.kind === 'warning') return line(`${paint('yellow', 'warning')} ${tag(e.stage)} ${e.message}`);
    if (options.quiet) return;
    switch (e.kind) {
      case 'stage':
      case 'info':
        line(`${tag(e.stage)} ${e.message}`);
        return;
      case 'progress':
        if (e.stage === 'train') {
          if (!runs) runs = { done: 0, total: e.total, label: '', startedAt: now(), lastDoneAt: now() };
          if (e.done > runs.done) runs.lastDoneAt = now();
          runs.done = e.done;
          runs.total = e.total;
          runs.label = e.message ?? '';
          epoch = '';
          if (e.done >= e.total) {
            // The last event: every run finished.
            if (interactive) clear();
            line(`${tag('train')} ${e.total} runs in ${formatDuration(now() - runs.startedAt)}`);
            runs = null;
          } else if (interactive) runStatus();
          else line(`${tag('train')} run ${e.done + 1}/${e.total}: ${runs.label} (${eta()})`);
        } else if (runs && interactive) {
          // A run's own epochs (stage = the run's label).
          epoch = `epoch ${e.done}/${e.total}`;
          runStatus();
        } else if (interactive) {
          status(`${tag(e.stage)} ${e.done}/${e.total} ${e.message ?? ''}`);
        }
        return;
    }
  };
  return Object.assign(listener, { done: clear });
}

function bar(done: number, total: number, width = 20): string {
  const filled = total > 0 ? Math.round((done / total) * width) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}
