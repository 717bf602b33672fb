/**
 * The JSON Schemas the project publishes in docs/, each generated from its one declaration.
 * `npm run schemas` writes them; test/config/published.test.ts fails when a committed file is stale.
 */
import { jsonSchemaOf } from '../jsonSchema.js';
import { AuditReportSchema } from '../report/schema.js';
import { auditConfigSchema } from './schema.js';

/** Repository-relative path -> the schema it holds. */
export const PUBLISHED_SCHEMAS = {
  'docs/audit.schema.json': auditConfigSchema,
  'docs/report.schema.json': AuditReportSchema,
} as const;

/** A schema file's text: 2-space JSON with a trailing newline. */
export function schemaFileText(path: keyof typeof PUBLISHED_SCHEMAS): string {
  return `${JSON.stringify(jsonSchemaOf(PUBLISHED_SCHEMAS[path]), null, 2)}\n`;
}
