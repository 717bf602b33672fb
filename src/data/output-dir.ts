/**
 * Output folders that a failed or concurrent run cannot leave half-written or mixed:
 * - files are written under temporary names and renamed into place only when all are complete;
 * - an input that IS one of the outputs, or lies inside the output folder, is refused before
 *   anything is opened for writing;
 * - a lock file keeps a second run out of a folder another live run is writing.
 * Filesystem problems become one-line input errors naming the path.
 */
import { realpathSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AuditInputError } from '../errors.js';

/** `path: what went wrong (CODE)` for a filesystem error; other errors pass through. */
export function fsError(e: unknown, file: string, doing: string): Error {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (!code) return e as Error;
  const why: Record<string, string> = {
    ENOTDIR: 'a path component is a file, not a folder',
    EEXIST: 'exists and is not a folder',
    EISDIR: 'is a folder, not a file',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENOENT: 'no such file or folder',
    ENOSPC: 'no space left on the device',
    EROFS: 'read-only file system',
  };
  return new AuditInputError(`${file}: cannot ${doing}: ${why[code] ?? 'filesystem error'} (${code})`, { file });
}

/** Creates `dir` (and parents); a file in the way is a clear error. */
export async function ensureDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    const s = await stat(dir);
    if (!s.isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'EEXIST' });
  } catch (e) {
    throw fsError(e, dir, 'use it as the output folder');
  }
}

/** Real path of `p` (symlinks followed), or of its nearest existing ancestor joined with the rest. */
export function realPathOf(p: string): string {
  const abs = path.resolve(p);
  try {
    return realpathSync(abs);
  } catch {
    const parent = path.dirname(abs);
    return parent === abs ? abs : path.join(realPathOf(parent), path.basename(abs));
  }
}

/** True when `inner` is `outer` or lies below it, compared by path segments. */
export function isInside(inner: string, outer: string): boolean {
  const rel = path.relative(outer, inner);
  return rel === '' || (!rel.startsWith(`..${path.sep}`) && rel !== '..' && !path.isAbsolute(rel));
}

/** Refuses an input that is one of the outputs or sits inside the output folder. */
export function refuseInputInOutputs(inputs: readonly string[], outDir: string, outputs: readonly string[]): void {
  const out = realPathOf(outDir);
  for (const input of inputs) {
    const real = realPathOf(input);
    for (const o of outputs) {
      if (realPathOf(path.join(outDir, o)) === real) throw new AuditInputError(`${input}: the input is also the output ${path.join(outDir, o)}; write to another folder`, { file: input });
    }
    if (isInside(real, out)) throw new AuditInputError(`${input}: the input lies inside the output folder ${outDir}; write to another folder`, { file: input });
  }
}

/**
 * `file` written whole or not at all: a uniquely named temporary file beside it, renamed over it.
 * A crash leaves the previous file (or none), and two writers of one file at once each rename a
 * complete file. Errors pass through as thrown (callers name what they were writing).
 */
export async function writeWhole(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** A set of files written under temporary names in `dir`, renamed into place together by commit(). */
export class StagedFiles {
  private readonly staged = new Map<string, string>();
  private readonly tag = `${process.pid}-${Date.now().toString(36)}`;
  constructor(readonly dir: string) {}

  /** Temporary path standing for `name` until commit. */
  path(name: string): string {
    let tmp = this.staged.get(name);
    if (!tmp) {
      tmp = path.join(this.dir, `.${name}.${this.tag}.tmp`);
      this.staged.set(name, tmp);
    }
    return tmp;
  }

  async write(name: string, content: string | Uint8Array): Promise<void> {
    const file = this.path(name);
    try {
      await writeFile(file, content);
    } catch (e) {
      throw fsError(e, path.join(this.dir, name), 'write');
    }
  }

  /** Renames every staged file to its final name (in the order staged); returns the final paths. */
  async commit(): Promise<string[]> {
    const done: string[] = [];
    for (const [name, tmp] of this.staged) {
      const final = path.join(this.dir, name);
      try {
        await rename(tmp, final);
      } catch (e) {
        throw fsError(e, final, 'write');
      }
      done.push(final);
    }
    this.staged.clear();
    return done;
  }

  /** Removes whatever was staged (after a failure): the folder keeps its previous files only. */
  async discard(): Promise<void> {
    await Promise.all([...this.staged.values()].map((f) => rm(f, { force: true })));
    this.staged.clear();
  }
}

export const LOCK_FILE = '.audit-dataset.lock';

/**
 * Takes `dir`'s lock (created exclusively, holding this pid) or refuses: another live run is
 * writing there. A lock left by a process that no longer exists is taken over.
 */
export async function lockDir(dir: string): Promise<() => Promise<void>> {
  await ensureDir(dir);
  const lock = path.join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lock, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return async () => {
        await rm(lock, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw fsError(e, lock, 'create the lock file');
      const pid = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new AuditInputError(`${dir}: another audit (pid ${pid}) is writing this folder (lock ${lock}); wait for it or choose another --out`, { file: dir });
      }
      if (pid === process.pid) throw new AuditInputError(`${dir}: this process is already writing this folder (lock ${lock})`, { file: dir });
      await rm(lock, { force: true });
    }
  }
  throw new AuditInputError(`${dir}: cannot take the lock ${lock}`, { file: dir });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
