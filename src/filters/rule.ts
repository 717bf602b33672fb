/** A content-filter rule: reasons to exclude a row's text (empty = keep). */
import type { Row } from '../data/types.js';

export type RuleKind = 'numbers' | 'banned-numbers' | 'keywords' | 'regex' | 'pii' | 'length' | 'charset' | 'dedup';

export const RULE_KINDS: readonly RuleKind[] = ['numbers', 'banned-numbers', 'keywords', 'regex', 'pii', 'length', 'charset', 'dedup'];

export interface Rule {
  name: string;
  kind: RuleKind;
  /**
   * Stateful rules (dedup) remember what they keep. The engine runs them last and only on rows
   * every stateless rule kept, so a copy of a rejected row is not counted twice.
   */
  stateful?: boolean;
  check(text: string, row: Row): readonly string[];
}

/** Shared "keep" answer: rules return it instead of allocating an empty array per row. */
export const KEEP: readonly string[] = Object.freeze([]);
