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
