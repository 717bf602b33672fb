/** Rows as every reader yields them, whatever the file format. */

/** One data row: its 1-based source line (JSONL, CSV) or row number (Parquet, JSON array). */
export interface Row {
  line: number;
  value: Record<string, unknown>;
  /** The source line as read (JSONL only), so writers can pass kept rows through unchanged. */
  raw?: string;
}

/** A row that could not be read, when `skipBadRows` turns errors into exclusions. */
export interface BadRow {
  bad: true;
  line: number;
  reason: string;
  raw?: string;
}

export type RowOrBad = Row | BadRow;

export function isBadRow(item: RowOrBad): item is BadRow {
  return (item as BadRow).bad === true;
}

export type DataFormat = 'jsonl' | 'csv' | 'parquet' | 'json';

/** Counters a reader fills in as it goes (pass your own object to see them). */
export interface ReadStats {
  rows: number;
  blankLines: number;
  badRows: number;
}

export interface ReadOptions {
  /** Turn a malformed row into a BadRow instead of throwing. File-level problems still throw. */
  skipBadRows?: boolean;
  /** Filled in while reading. */
  stats?: ReadStats;
  /** Force a format instead of choosing by extension. */
  format?: DataFormat;
  /** CSV: columns whose numeric-looking cells become numbers ('*' = all). Others stay strings. */
  numericColumns?: string[] | '*';
  /** CSV: columns kept verbatim (no JSON-array conversion), e.g. text fields like "[1, 2]". */
  stringColumns?: string[];
}

/**
 * A row's fields as an object without prototype, so a missing field named `constructor` or
 * `toString` reads as missing instead of as Object.prototype's function.
 */
export function rowObject(value: Record<string, unknown>): Record<string, unknown> {
  Object.setPrototypeOf(value, null);
  return value;
}

export function newReadStats(): ReadStats {
  return { rows: 0, blankLines: 0, badRows: 0 };
}
