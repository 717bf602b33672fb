/** audit-dataset as a library. */
export { AuditInputError, UnsupportedModelError } from './errors.js';
export type { ProgressEvent, ProgressListener } from './events.js';
