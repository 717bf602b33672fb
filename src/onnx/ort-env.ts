/**
 * Runs before onnxruntime loads (import this module first wherever onnxruntime is used; ES imports
 * are evaluated in order). onnxruntime-node 1.30 otherwise keeps a telemetry database with a device
 * id and model graph names under ~/.cache/Microsoft/DeveloperTools/.onnxruntime/, leaves
 * mat-debug-<pid>.log in the temp folder, and can upload telemetry when a CA bundle is present.
 * The gate writes nothing outside its out/ folder and uses no network.
 */
process.env.ORT_DISABLE_TELEMETRY = '1';
export {};
