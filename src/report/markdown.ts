/** report.md and the short stdout summary. */
import { escapeMd, mdCode } from './escape.js';
import { fmt, fmtCi, fmtCount, fmtMs, fmtP, fmtPercent, fmtSigned, topReasons } from './format.js';
import type { AuditReport } from './schema.js';
import {
  dataFacts,
  extraRows,
  filterRows,
  filterTotals,
  modelFacts,
  policyWords,
  probeRow,
  reproView,
  SCREEN_EXPLANATION,
  screenFacts,
  attributionFacts,
  ATTRIBUTION_EXPLANATION,
  VERDICT_LABEL,
  positiveControlView,
  sequentialView,
  positiveControlExplanation,
  type Fact,
} from './view.js';

function table(header: string[], rows: string[][]): string[] {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

function factCell(f: Fact): string {
  return f.code ? mdCode(f.value, true) : escapeMd(f.value);
}

function factTable(facts: Fact[]): string[] {
  return table(
    ['Field', 'Value'],
    facts.map((f) => [escapeMd(f.label), factCell(f)]),
  );
}

const verdictMd = (v: 'pass' | 'fail'): string => (v === 'fail' ? '**FAIL**' : 'pass');

export function renderMarkdown(report: AuditReport): string {
  const out: string[] = [];
  out.push(`# audit-dataset: **${VERDICT_LABEL[report.verdict]}**`, '', escapeMd(report.summary), '');

  out.push('## Models', '', ...factTable(modelFacts(report)), '');

  out.push('## Probes', '');
  const rows = report.probes.map(probeRow);
  if (rows.length === 0) out.push('No probes ran.', '');
  else {
    out.push(
      ...table(
        ['Probe', 'Metric', 'Base', 'Teacher', 'Control mean [CI]', 'Student mean [CI]', 'Delta [CI]', 'p', 'Transfer ratio', 'MDE', 'Verdict'],
        rows.map((r) => [
          mdCode(r.name, true),
          escapeMd(r.metric),
          r.base,
          r.teacher,
          r.control.join(' '),
          r.student.join(' '),
          r.delta.join(' '),
          r.p,
          r.ratio,
          r.mde,
          verdictMd(r.verdict),
        ]),
      ),
      '',
    );
    for (const r of rows) {
      out.push(`- ${mdCode(r.name)} ${verdictMd(r.verdict)}: ${escapeMd(r.reason)}`);
      for (const n of r.notes) out.push(`  - ${escapeMd(n)}`);
    }
    out.push('', 'Delta = student mean - control mean. Transfer ratio = delta / (teacher - base). MDE = smallest delta these seeds detect with 80% power.', '');
    const extra = extraRows(report);
    if (extra.length > 0) {
      out.push(
        '### Secondary metrics',
        '',
        ...table(
          ['Probe', 'Metric', 'Base', 'Teacher', 'Control', 'Student'],
          extra.map((e) => [mdCode(e.probe, true), escapeMd(e.metric), e.base, e.teacher, e.control, e.student]),
        ),
        '',
      );
    }
  }

  const positive = positiveControlView(report);
  if (positive) {
    out.push(
      '## Positive control',
      '',
      escapeMd(positiveControlExplanation(report)),
      '',
      `Signal: ${escapeMd(positive.signal)}.`,
      '',
      ...table(['Probe', 'Positive-control students', 'Delta vs control [CI]', 'p', 'Transfer'], positive.rows.map(([name, ...rest]) => [mdCode(name, true), ...rest.map(escapeMd)])),
      '',
      escapeMd(positive.reason),
      '',
    );
  }

  const sequential = sequentialView(report);
  if (sequential) {
    out.push('## Seeds in stages', '', escapeMd(sequential.words), '', ...table(['Seeds', 'Alpha spent', 'Boundary (z)', 'Nominal alpha', 'Decision'], sequential.rows.map((r) => r.map(escapeMd))), '');
  }

  out.push('## Content filters', '');
  const totals = filterTotals(report);
  if (totals === null) out.push('Content filters were not run.', '');
  else {
    out.push(escapeMd(totals), 'Filters report what a conventional pipeline would catch; they do not gate the verdict.', '');
    const fr = filterRows(report);
    if (fr.length > 0) {
      out.push(
        ...table(
          ['Rule', 'Excluded', 'Top reasons', 'Example'],
          fr.map((f) => [
            mdCode(f.rule, true),
            f.excluded,
            escapeMd(f.reasons),
            f.example ? `line ${f.example.line}: ${mdCode(f.example.text, true)}` : '',
          ]),
        ),
        '',
      );
    }
  }

  out.push('## Data', '', ...factTable(dataFacts(report)), '');

  const service = report.reproducibility.service;
  if (service) {
    out.push(
      '## Fine-tuning service',
      '',
      escapeMd(`Students and controls were fine-tuned from ${service.model} at ${service.baseURL}; the teacher is ${service.teacherModel}. Planned training tokens: ${service.plannedTrainingTokens} (${service.tokenCount === 'tokenizer' ? "counted with the teacher folder's tokenizer" : 'estimated at ~4 characters per token'}).`),
      '',
      ...table(['Probe', 'Scored through chat completions as'], Object.entries(service.probeMethods).map(([name, method]) => [mdCode(name, true), escapeMd(method)])),
      '',
      ...table(['Arm', 'Seed', 'Job', 'Fine-tuned model', 'Trained tokens'], service.jobs.map((j) => [escapeMd(j.arm), String(j.seed), mdCode(j.jobId, true), mdCode(j.model, true), j.trainedTokens === null ? 'not reported' : String(j.trainedTokens)])),
      '',
    );
  }

  const screen = screenFacts(report);
  if (screen) {
    out.push('## Gradient screen', '', escapeMd(SCREEN_EXPLANATION), '', ...factTable(screen.facts), '');
    if (screen.perParameter.length > 0) {
      out.push(...table(['Parameter', 'Cosine'], screen.perParameter.map(([k, v]) => [mdCode(k, true), v])), '');
    }
  }

  const attribution = attributionFacts(report);
  if (attribution) {
    out.push('## Row attribution', '', escapeMd(ATTRIBUTION_EXPLANATION), '', ...factTable(attribution.facts), '');
    out.push(...table(['Line', 'Score'], attribution.top), '');
  }

  out.push('## Policy', '', ...policyWords(report).map(escapeMd).flatMap((l) => [l, '']));

  const r = reproView(report);
  out.push('## Reproducibility', '');
  if (r.inputs.length > 0) {
    out.push(...table(['Role', 'Path', 'SHA-256'], r.inputs.map((i) => [escapeMd(i.role), mdCode(i.path, true), mdCode(i.sha256, true)])), '');
  }
  out.push(`Seeds: ${escapeMd(r.seeds)}`, '');
  for (const [title, entries] of [
    ['Versions', r.versions],
    ['Training hyper-parameters', r.train],
    ['Configuration', r.config],
  ] as const) {
    if (entries.length === 0) continue;
    out.push(`**${title}**`, '', ...table(['Key', 'Value'], entries.map(([k, v]) => [mdCode(k, true), mdCode(v, true)])), '');
  }
  const run = report.run;
  out.push(
    `Run started ${escapeMd(run.startedAt)}, took ${fmtMs(run.durationMs)} (training ${fmtMs(run.trainingMs)}, ${fmtCount(run.steps)} steps${run.cachedRuns ? `; ${fmtCount(run.cachedRuns)} runs read from the run cache` : ''}). Report schema ${escapeMd(report.schemaVersion)}, ${escapeMd(report.tool.name)} ${escapeMd(report.tool.version)}.`,
    '',
  );
  return out.join('\n');
}

const MAX_SUMMARY_PROBES = 8;

/** Plain text for stdout, at most 15 lines: verdict, summary, one line per probe, filters, data. */
export function renderSummary(report: AuditReport): string {
  const lines: string[] = [];
  lines.push(`audit-dataset ${report.tool.version}: ${VERDICT_LABEL[report.verdict]}`);
  lines.push(oneLine(report.summary));
  // Failing probes first: they are what the reader acts on when the list is cut.
  const probes = [...report.probes].sort((a, b) => (a.verdict === b.verdict ? 0 : a.verdict === 'fail' ? -1 : 1));
  const shown = probes.length > MAX_SUMMARY_PROBES ? probes.slice(0, MAX_SUMMARY_PROBES - 1) : probes;
  for (const p of shown) {
    const ratio = p.transferRatio === null ? '' : `  ratio ${fmtPercent(p.transferRatio, 1)}`;
    lines.push(
      `  ${p.verdict === 'fail' ? 'FAIL' : 'pass'}  ${oneLine(p.name)}: delta ${fmtSigned(p.delta)} ${fmtCi(p.deltaCi)}  p ${fmtP(p.pValue)}${ratio}`,
    );
  }
  if (shown.length < probes.length) {
    const rest = probes.slice(shown.length);
    const failing = rest.filter((p) => p.verdict === 'fail').length;
    lines.push(`  ... ${rest.length} more probes (${failing} failing), see report.md`);
  }
  const f = report.filters;
  if (f) {
    const top = Object.entries(f.perRule)
      .map(([rule, s]) => [rule, s.excluded] as [string, number])
      .filter(([, n]) => n > 0);
    const byRule = topReasons(Object.fromEntries(top), 3)
      .map(([rule, n]) => `${rule} ${fmtCount(n)}`)
      .join(', ');
    lines.push(`filters: ${fmtCount(f.rowsExcluded)} of ${fmtCount(f.rowsIn)} rows excluded${byRule ? ` (${byRule})` : ''}`);
  } else lines.push('filters: not run');
  const c = report.data.candidate;
  const b = report.data.baseline;
  lines.push(
    `data: ${fmtCount(c.rowsUsed)} of ${fmtCount(c.rowsIn)} rows used; baseline ${b.source === 'given' ? 'given' : 'generated by base'} (${fmtCount(b.rows)} rows)`,
  );
  if (report.screen) {
    lines.push(`screen: gradient cosine ${fmt(report.screen.candidateCosine)} (baseline ${fmt(report.screen.baselineCosine)})`);
  }
  if (report.run.cachedRuns) lines.push(`run cache: ${fmtCount(report.run.cachedRuns)} probe run(s) read instead of trained (same weights as training them)`);
  return `${lines.join('\n')}\n`;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
