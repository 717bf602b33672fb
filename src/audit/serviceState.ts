/**
 * out/state.json of a service audit: every uploaded file and created job, written the moment the
 * service returns its id (temp file + rename, so a kill never leaves half a file). A run of the
 * same config finds them here and reuses them: a training file is keyed by the sha256 of its
 * bytes, a job by the sha256 of (training file, base model, hyperparameters, seed, suffix), so
 * nothing is uploaded or paid for twice. No secret is ever stored here (the key stays in the env).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ensureDir, fsError, writeWhole } from '../data/output-dir.js';
import { AuditInputError } from '../errors.js';
import type { JobStatus } from '../service/api.js';

export const STATE_FILE = 'state.json';
const STATE_VERSION = 1;

export interface StateFile {
  id: string;
  filename: string;
  bytes: number;
}

export interface StateJob {
  id: string;
  arm: string;
  seed: number;
  fileId: string;
  status: JobStatus;
  model: string | null;
  trainedTokens: number | null;
  error?: string;
}

export interface ServiceStateData {
  version: number;
  baseURL: string;
  /** The audit config that made these jobs (`audit --resume out/` runs it again). */
  config?: Record<string, unknown>;
  files: Record<string, StateFile>;
  jobs: Record<string, StateJob>;
}

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export class ServiceState {
  private chain: Promise<void> = Promise.resolve();

  private constructor(
    readonly file: string,
    readonly data: ServiceStateData,
  ) {}

  /** The state in `dir` (a new one when there is none); a state of another service is refused. */
  static async open(dir: string, baseURL: string): Promise<ServiceState> {
    const file = path.join(dir, STATE_FILE);
    const data = await readState(file);
    if (!data) return new ServiceState(file, { version: STATE_VERSION, baseURL, files: {}, jobs: {} });
    if (data.baseURL !== baseURL) {
      throw new AuditInputError(`${file}: the jobs there ran on ${data.baseURL}, not ${baseURL}; use another --out (or remove the file)`, { file });
    }
    return new ServiceState(file, data);
  }

  /** Applies `change` and writes the file (atomically; writes are serialised). */
  update(change: (data: ServiceStateData) => void): Promise<void> {
    change(this.data);
    const text = `${JSON.stringify(this.data, null, 2)}\n`;
    const write = async () => {
      await ensureDir(path.dirname(this.file));
      try {
        await writeWhole(this.file, text);
      } catch (e) {
        throw fsError(e, this.file, 'write the service state');
      }
    };
    const next = this.chain.then(write);
    this.chain = next.catch(() => {});
    return next;
  }
}

/** state.json of `file`, or undefined when there is none; a corrupt one is a one-line error. */
export async function readState(file: string): Promise<ServiceStateData | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fsError(e, file, 'read the service state');
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new AuditInputError(`${file}: not valid JSON (a service audit's state file)`, { file });
  }
  const d = data as Partial<ServiceStateData> | null;
  if (!d || typeof d !== 'object' || d.version !== STATE_VERSION || typeof d.baseURL !== 'string' || typeof d.files !== 'object' || typeof d.jobs !== 'object' || !d.files || !d.jobs) {
    throw new AuditInputError(`${file}: not a version ${STATE_VERSION} service state (version, baseURL, files, jobs)`, { file });
  }
  return d as ServiceStateData;
}
