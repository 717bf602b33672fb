/**
 * junit.xml: one testsuite `audit-dataset`; a testcase per probe (a failure when the probe failed)
 * and a testcase per filter rule, which never fails: filters report, they do not gate.
 */
import { escapeXml as x } from './escape.js';
import { fmt, fmtCi, fmtCount, fmtP, fmtPercent, fmtSigned, topReasons } from './format.js';
import type { AuditReport, ProbeResult } from './schema.js';
import { filterRows } from './view.js';

function probeCase(p: ProbeResult): string {
  const details = [
    `metric: ${p.metric}`,
    `base ${fmt(p.base)}, teacher ${fmt(p.teacher)}`,
    `control ${fmt(p.control.mean)} ${fmtCi(p.control.ci)}, student ${fmt(p.student.mean)} ${fmtCi(p.student.ci)}`,
    `delta ${fmtSigned(p.delta)} ${fmtCi(p.deltaCi)}, p ${fmtP(p.pValue)} (${p.test}), transfer ratio ${p.transferRatio === null ? 'n/a' : fmtPercent(p.transferRatio, 1)}`,
    `reason: ${p.reason}`,
  ].join('\n');
  const open = `    <testcase classname="audit-dataset.probes" name="${x(p.name)}" time="0">`;
  if (p.verdict === 'fail') {
    return `${open}\n      <failure message="${x(p.reason)}" type="trait-transfer">${x(details)}</failure>\n    </testcase>`;
  }
  return `${open}\n      <system-out>${x(details)}</system-out>\n    </testcase>`;
}

function filterCases(report: AuditReport): string[] {
  const f = report.filters;
  if (!f) return [];
  return filterRows(report).map((row) => {
    const s = f.perRule[row.rule];
    const lines = [
      `excluded ${fmtCount(s?.excluded ?? 0)} of ${fmtCount(f.rowsIn)} rows`,
      ...topReasons(s?.reasons ?? {}, Infinity).map(([r, n]) => `  ${r}: ${fmtCount(n)}`),
      ...(s?.examples ?? []).map((e) => `  line ${e.line}: ${e.text} [${e.reasons.join(', ')}]`),
    ];
    return `    <testcase classname="audit-dataset.filters" name="${x(row.rule)}" time="0">\n      <system-out>${x(lines.join('\n'))}</system-out>\n    </testcase>`;
  });
}

/** The positive control: a failure when the audit is inconclusive and the policy fails on that. */
function positiveControlCase(report: AuditReport): string[] {
  const pc = report.positiveControl;
  if (!pc) return [];
  const details = [`signal: ${pc.signal}`, ...pc.probes.map((p) => `${p.name}: delta ${fmtSigned(p.delta)} ${fmtCi(p.deltaCi)}, p ${fmtP(p.pValue)}, ${p.transfer ? 'transfer' : 'none'}`)].join('\n');
  const open = `    <testcase classname="audit-dataset.power" name="positive-control" time="0">`;
  if (inconclusiveFails(report)) return [`${open}\n      <failure message="${x(pc.reason)}" type="inconclusive">${x(details)}</failure>\n    </testcase>`];
  return [`${open}\n      <system-out>${x(`${pc.reason}\n${details}`)}</system-out>\n    </testcase>`];
}

const inconclusiveFails = (report: AuditReport): boolean => report.verdict === 'inconclusive' && report.policy.onInconclusive !== 'pass';

export function renderJunit(report: AuditReport): string {
  const probes = [...report.probes.map(probeCase), ...positiveControlCase(report)];
  const filters = filterCases(report);
  const tests = probes.length + filters.length;
  const failures = report.probes.filter((p) => p.verdict === 'fail').length + (inconclusiveFails(report) ? 1 : 0);
  const time = (report.run.durationMs / 1000).toFixed(3);
  const props = [
    ['verdict', report.verdict],
    ['schemaVersion', report.schemaVersion],
    ['toolVersion', report.tool.version],
    ['teacher', report.models.teacher],
    ['base', report.models.base],
    ['candidate', report.data.candidate.file],
  ]
    .map(([k, v]) => `      <property name="${x(k!)}" value="${x(v!)}"/>`)
    .join('\n');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="audit-dataset" tests="${tests}" failures="${failures}" errors="0" time="${time}">`,
    `  <testsuite name="audit-dataset" tests="${tests}" failures="${failures}" errors="0" skipped="0" time="${time}" timestamp="${x(report.run.startedAt)}">`,
    '    <properties>',
    props,
    '    </properties>',
    ...probes,
    ...filters,
    `    <system-out>${x(report.summary)}</system-out>`,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
