/** Model adapters. */
export { LogitsModel, type LogitsModelOptions } from './logits.js';
export { buildMlp, type MlpOptions } from './mlp.js';
