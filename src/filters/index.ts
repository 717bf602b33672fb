/** Content filters: rules, rule packs, the streaming engine. */
export type { Rule, RuleKind } from './rule.js';
export { KEEP, RULE_KINDS } from './rule.js';
export { numbersRule, numberSequenceReasons, parseNumberSequence, type NumbersOptions } from './numbers.js';
export { bannedNumbersRule, STUDY_BANNED_NUMBERS } from './banned-numbers.js';
export { keywordsRule, type KeywordsOptions } from './keywords.js';
export { regexRule, type RegexPattern } from './regex.js';
export { piiRule, findPii, luhnValid, PII_TYPES, type PiiType } from './pii.js';
export { lengthRule, countTokens, type LengthOptions } from './length.js';
export { charsetRule, type CharsetOptions } from './charset.js';
export { dedupRule, type DedupOptions } from './dedup.js';
export { MinHasher, LshIndex, shingleHashes, estimatedJaccard } from './minhash.js';
export { loadRules, loadPackFile, parsePack, builtinPackNames, BUILTIN_PACK_DIR } from './packs.js';
export { runFilters, type FilterReport, type FilterOptions, type RuleStats, type ExcludedRow, type Sink } from './engine.js';
export { filterFile, DEFAULT_RULES, type FilterFileOptions, type FilterOutcome, type FilterFileReport } from './filter-file.js';
