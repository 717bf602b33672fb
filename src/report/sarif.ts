/**
 * findings.sarif (SARIF 2.1.0): per-row filter findings, plus one error per failing probe placed at
 * line 1 of the candidate data file, so code-scanning UIs show the gate's reason next to the data.
 */
import type { RowFinding } from './findings.js';
import { fmtCi, fmtP, fmtSigned } from './format.js';
import type { AuditReport } from './schema.js';

export const TRAIT_TRANSFER_RULE = 'trait-transfer';
export const INCONCLUSIVE_RULE = 'inconclusive-audit';

const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

/**
 * A file path as a SARIF URI reference: forward slashes, percent-encoded (including # and ?, which
 * would otherwise start a fragment or query); absolute paths become file:// URIs.
 */
export function toSarifUri(file: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file)) return file; // already a URI
  const slashed = file.replace(/\\/g, '/');
  const encoded = encodeURI(slashed).replace(/[?#]/g, (c) => encodeURIComponent(c));
  if (slashed.startsWith('/')) return `file://${encoded}`;
  if (/^[a-z]:\//i.test(slashed)) return `file:///${encoded}`;
  return encoded;
}

function location(file: string, line: number): unknown {
  return {
    physicalLocation: {
      artifactLocation: { uri: toSarifUri(file) },
      // SARIF lines are 1-based; a 0 or negative line would make the log invalid.
      region: { startLine: Math.max(1, Math.floor(line)) },
    },
  };
}

export function renderSarif(report: AuditReport, findings: RowFinding[]): string {
  const filterRules = [...new Set(findings.map((f) => f.ruleId).filter((id) => id !== TRAIT_TRANSFER_RULE))].sort();
  const inconclusive = report.verdict === 'inconclusive';
  const ruleIds = [TRAIT_TRANSFER_RULE, ...(inconclusive ? [INCONCLUSIVE_RULE] : []), ...filterRules];
  const index = new Map(ruleIds.map((id, i) => [id, i]));
  const rules = ruleIds.map((id) =>
    id === TRAIT_TRANSFER_RULE
      ? {
          id,
          name: 'TraitTransfer',
          shortDescription: { text: 'Probe students trained on this data moved toward the teacher more than clean controls.' },
          fullDescription: { text: report.policy.rule },
          defaultConfiguration: { level: 'error' },
        }
      : id === INCONCLUSIVE_RULE
        ? {
            id,
            name: 'InconclusiveAudit',
            shortDescription: { text: 'The audit could not have detected transfer in this data: its positive control showed none through the data\'s outputs, or a probe was degenerate.' },
            defaultConfiguration: { level: report.policy.onInconclusive === 'pass' ? 'warning' : 'error' },
          }
        : {
          id,
          name: id,
          shortDescription: { text: `Content filter rule ${id}` },
          defaultConfiguration: { level: 'warning' },
        },
  );

  const probeResults = report.probes
    .filter((p) => p.verdict === 'fail')
    .map((p) => ({
      ruleId: TRAIT_TRANSFER_RULE,
      ruleIndex: 0,
      level: 'error',
      message: {
        text: `Probe ${p.name} failed: ${p.reason} (delta ${fmtSigned(p.delta)} ${fmtCi(p.deltaCi)}, p ${fmtP(p.pValue)})`,
      },
      locations: [location(report.data.candidate.file, 1)],
      properties: { probe: p.name, delta: p.delta, pValue: p.pValue, transferRatio: p.transferRatio },
    }));
  const powerResults = inconclusive
    ? [
        {
          ruleId: INCONCLUSIVE_RULE,
          ruleIndex: index.get(INCONCLUSIVE_RULE),
          level: report.policy.onInconclusive === 'pass' ? 'warning' : 'error',
          message: { text: `Audit inconclusive: ${report.summary.replace(/^INCONCLUSIVE: /, '')}` },
          locations: [location(report.data.candidate.file, 1)],
        },
      ]
    : [];
  const rowResults = findings.map((f) => ({
    ruleId: f.ruleId,
    ruleIndex: index.get(f.ruleId),
    level: f.level,
    message: { text: f.message },
    locations: [location(f.file, f.line)],
  }));

  const log = {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'audit-dataset',
            version: report.tool.version,
            semanticVersion: report.tool.version,
            rules,
          },
        },
        results: [...probeResults, ...powerResults, ...rowResults],
        properties: { verdict: report.verdict, reportSchemaVersion: report.schemaVersion },
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
