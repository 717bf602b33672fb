/** One flagged row of a dataset, as SARIF reports it (filter findings, attributed rows). */
export interface RowFinding {
  /** Path or URI of the data file, as the user gave it. */
  file: string;
  /** 1-based line (JSONL) or row (CSV/Parquet) number. */
  line: number;
  /** Filter rule name, or another rule id such as `trait-transfer`. */
  ruleId: string;
  message: string;
  level: 'note' | 'warning' | 'error';
}
