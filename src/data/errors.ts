import { AuditInputError } from '../errors.js';

/** `file:line: message` — one line, naming where the input is wrong. */
export function rowError(file: string, line: number, message: string): AuditInputError {
  return new AuditInputError(`${file}:${line}: ${message}`, { file, line });
}

export function fileError(file: string, message: string): AuditInputError {
  return new AuditInputError(`${file}: ${message}`, { file });
}
