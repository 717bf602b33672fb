/** onnxruntime-node, loaded only after telemetry is switched off (see ort-env.ts). Import onnxruntime from here. */
import './ort-env.js';
export * from 'onnxruntime-node';
