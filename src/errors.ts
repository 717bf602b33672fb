/**
 * Errors the user can act on. The CLI prints `message` as one line on stderr and exits 2.
 * The message names the file and line/row, or the graph node, that is wrong.
 */
export class AuditInputError extends Error {
  override readonly name = 'AuditInputError';
  constructor(message: string, readonly where?: { file?: string; line?: number; row?: number; node?: string }) {
    super(message);
  }
}

/** A model uses an op or attribute we cannot train through. Exit 2, naming op type and node. */
export class UnsupportedModelError extends AuditInputError {
  constructor(message: string, where?: { file?: string; node?: string }) {
    super(message, where);
  }
}

/** File-system failures that come from where the user pointed us (a path, a full disk), not from a bug. */
const USER_FS_CODES = new Set(['ENOENT', 'EACCES', 'EPERM', 'EEXIST', 'ENOTDIR', 'EISDIR', 'ENOSPC', 'EROFS', 'EDQUOT', 'ENAMETOOLONG', 'ELOOP', 'EMFILE']);

/**
 * `e`, raised while trying to `action` `file`, as the one-line AuditInputError it is when the
 * file system refused (e.g. "out/report.json: cannot write (EACCES)"); any other error unchanged.
 */
export function fsError(file: string, action: string, e: unknown): unknown {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && USER_FS_CODES.has(code)) return new AuditInputError(`${file}: cannot ${action} (${code})`, { file });
  return e;
}
