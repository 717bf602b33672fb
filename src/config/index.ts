export { auditConfigSchema, type AuditConfig, type TaskConfig, type ProbeConfig, type TrainConfig, type PolicyConfig, type ReportFormat } from './schema.js';
export { loadAuditConfig, validateConfig, readConfigFile, readProbesFile, mergeConfig } from './load.js';
