/** Probe kinds (one table, kinds.ts), their metrics, and probe packs. */
export { accuracy, agreement, type Slice } from './tensor.js';
export { PROBE_KINDS, PROBE_KIND_NAMES, loadProbe, probeKindOf, validateProbe, probeItemSchema, type ProbeKindEntry, type ProbeVariant, type FieldSpec } from './kinds.js';
export { BUILTIN_PROBE_PACK_DIR, builtinProbePackNames, probePackPath, probePackWords, PackDocument } from './packs.js';
export {
  answerRows,
  contrastiveMargins,
  nextTokenAgreement,
  nextTokenReference,
  preferenceProbability,
  sampledHitRate,
  type NextTokenReference,
} from './text.js';
export type { ChatProbeModel, TopLogprob, LoadedProbe, ProbeLoadContext, ProbeModel, ProbeScore, ProbeSpec, TaskKind, TensorProbeInputs, TensorProbeModel, TextProbeModel, TextPrompt, TokenContinuation } from './types.js';
export { logSumExp } from '../rows.js';
