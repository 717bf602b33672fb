/** audit-dataset as a library. */
export { AuditInputError, UnsupportedModelError } from './errors.js';
export type { ProgressEvent, ProgressListener } from './events.js';
export { readRows, readItems, textOf, completionOf, vectorOf, JsonlWriter, isBadRow } from './data/index.js';
export type { Row, BadRow, RowOrBad, ReadOptions, ReadStats, TextFields, RowText } from './data/index.js';
export { runFilters, filterFile, loadRules, numbersRule, bannedNumbersRule, parseNumberSequence, DEFAULT_RULES } from './filters/index.js';
export type { Rule, RuleKind, FilterReport, FilterOptions, FilterOutcome, FilterFileOptions, ExcludedRow } from './filters/index.js';
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
