/** Dataset readers and writers. */
export type { Row, BadRow, RowOrBad, ReadOptions, ReadStats, DataFormat } from './types.js';
export { isBadRow, newReadStats } from './types.js';
export { readItems, readItemBatches, readRows, formatOf } from './read.js';
export { textOf, completionOf, type TextFields, type RowText } from './text.js';
export { vectorOf } from './vector.js';
export { JsonlWriter } from './jsonl-writer.js';
export { planColumns } from './columns.js';
export { EXCLUSION_KINDS, excludedLine, type ExcludedRow, type ExclusionKind } from './excluded.js';
