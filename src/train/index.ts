/** The training engine's public API. */
export { Trainer, type TrainerOptions, type Batch } from './trainer.js';
export { train, Batcher, type Dataset, type TrainLoopOptions, type TrainLoopResult } from './loop.js';
export { buildTrainingModel, type TrainingSpec, type TrainingIO, type TrainedParamIO } from './trainingGraph.js';
export { appendLoss, type LossSpec, type SliceRange, type TargetForm, type LossFragment } from './losses.js';
export { appendOptimizer, optimizerFeeds, type OptimizerSpec } from './optimizers.js';
export { learningRateAt, type ScheduleSpec } from './schedule.js';
export { Random } from '../random.js';
export { initLike } from './init.js';
export { trainableParams, readWeights, withWeights, cloneModel, loadModelProto, type Weights } from './weights.js';
export { sessionOptions, type SessionTuning } from './session.js';
