/** audit-dataset as a library. */
// First: switch onnxruntime's telemetry off before anything can load onnxruntime (see onnx/ort-env.ts).
import './onnx/ort-env.js';
export { AuditInputError, UnsupportedModelError } from './errors.js';
export type { ProgressEvent, ProgressListener } from './events.js';
export { readRows, readItems, textOf, completionOf, vectorOf, JsonlWriter, isBadRow } from './data/index.js';
export type { Row, BadRow, RowOrBad, ReadOptions, ReadStats, TextFields, RowText } from './data/index.js';
export { runFilters, filterFile, loadRules, numbersRule, bannedNumbersRule, parseNumberSequence, DEFAULT_RULES } from './filters/index.js';
export type { Rule, RuleKind, FilterReport, FilterOptions, FilterOutcome, FilterFileOptions } from './filters/index.js';
export { EXCLUSION_KINDS, type ExcludedRow, type ExclusionKind } from './data/index.js';
export { buildGradients, gradientPath, unsupportedOps, RULES } from './autodiff/index.js';
export type { GradientMap, GradientRequest, GradientRule, RuleContext, Shape, ShapeMap, UnsupportedOp } from './autodiff/index.js';
export { readModel, writeModel, encodeModel, decodeModel, writeModelWithExternalData } from './onnx/io.js';
export { inferShapes, inferShapesAndTypes } from './onnx/shapes.js';
export { fingerprint, compareArchitectures } from './onnx/fingerprint.js';
export type { Fingerprint, ArchitectureComparison } from './onnx/fingerprint.js';
export { Trainer, train, buildTrainingModel, appendLoss, appendOptimizer, optimizerFeeds, learningRateAt, Random, initLike, trainableParams, readWeights, withWeights } from './train/index.js';
export type { TrainerOptions, Batch, Dataset, TrainLoopOptions, TrainLoopResult, TrainingSpec, TrainingIO, LossSpec, OptimizerSpec, ScheduleSpec, Weights, SessionTuning } from './train/index.js';
export { LogitsModel, buildMlp } from './models/index.js';
export type { LogitsModelOptions, MlpOptions } from './models/index.js';
export { audit, type AuditOptions, type AuditResult } from './audit/audit.js';
export { writeAuditOutputs, findingsOf } from './audit/outputs.js';
export { LocalOnnxBackend } from './audit/localBackend.js';
export type { TrainerBackend, StudentJob, StudentResult, StudentData } from './audit/backend.js';
/** @deprecated the same type as ExcludedRow (one shape for filter and audit). */
export type { ExcludedRow as AuditExcludedRow } from './data/index.js';
export { loadAuditConfig, validateConfig, auditConfigSchema } from './config/index.js';
export { AuditReportSchema, REPORT_FORMATS } from './report/index.js';
export { PolicySchema } from './stats/index.js';
export type { AuditConfig, TaskConfig, ProbeConfig, TrainConfig, PolicyConfig, ReportFormat } from './config/index.js';
export { evaluateProbe, overallVerdict, welchTest, permutationTest, summarizeRuns, minimumDetectableEffect, POLICY_RULE } from './stats/index.js';
export type { Policy, ProbeRuns } from './stats/index.js';
export { writeReports, renderJson, renderMarkdown, renderSummary, renderHtml, renderJunit, renderSarif, REPORT_SCHEMA_VERSION } from './report/index.js';
export type { AuditReport, ProbeResult, RunStats, FilterSummary, GradientScreen, RowFinding } from './report/index.js';
