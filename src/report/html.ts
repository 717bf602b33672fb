/** report.html: one self-contained page (inline CSS and SVG, no script), the Markdown's content plus a chart per probe. */
import { renderProbeChart } from './chart.js';
import { escapeHtml as esc } from './escape.js';
import { fmtCount, fmtMs } from './format.js';
import type { AuditReport, Verdict } from './schema.js';
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

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1f2328;background:#f6f8fa}
main{max-width:1120px;margin:0 auto;padding:0 20px 40px}
.banner{margin:0 -20px 24px;padding:22px 20px;color:#fff}
.banner.pass{background:#1a7f37}.banner.fail{background:#b42318}.banner.inconclusive{background:#9a6700}.banner.screen{background:#0969da}
.banner h1{margin:0 0 6px;font-size:26px}.banner p{margin:0;font-size:16px}
section{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:14px 18px;margin:0 0 18px}
h2{margin:0 0 10px;font-size:19px}h3{margin:18px 0 6px;font-size:16px}
table{border-collapse:collapse;font-size:13px;margin:6px 0 10px}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f3f6}td.num{text-align:right;font-variant-numeric:tabular-nums}
.ci{white-space:nowrap;color:#57606a}
.scroll{overflow-x:auto}
code{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f0f3f6;padding:1px 4px;border-radius:4px}
code.name{white-space:nowrap}code.long{overflow-wrap:anywhere}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:700;color:#fff}
.badge.pass{background:#1a7f37}.badge.fail{background:#b42318}
.probe{border-top:1px solid #d0d7de;padding-top:6px;margin-top:12px}
.probe .metric{color:#57606a;margin:0 0 4px}
.chart{max-width:100%;height:auto;display:block}
.chart text{font:12px system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;fill:#1f2328}
.chart text.ref{font-weight:700}.chart text.lane{font-weight:600}
.note{color:#57606a;font-size:13px}
ul{margin:4px 0 8px;padding-left:22px}
`;

function badge(v: Verdict): string {
  return `<span class="badge ${v}">${VERDICT_LABEL[v]}</span>`;
}

function factsTable(facts: Fact[]): string {
  const rows = facts.map((f) => `<tr><th scope="row">${esc(f.label)}</th><td>${f.code ? `<code class="long">${esc(f.value)}</code>` : esc(f.value)}</td></tr>`);
  return `<table class="facts"><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

/** cells: [html, numeric?]; header and cell contents must already be escaped. */
function table(header: string[], rows: [string, boolean?][][], cls = ''): string {
  const head = `<thead><tr>${header.map((h) => `<th scope="col">${h}</th>`).join('')}</tr></thead>`;
  const body = rows.map((r) => `<tr>${r.map(([c, num]) => `<td${num ? ' class="num"' : ''}>${c}</td>`).join('')}</tr>`);
  return `<div class="scroll"><table${cls ? ` class="${cls}"` : ''}>${head}<tbody>\n${body.join('\n')}\n</tbody></table></div>`;
}

/** The value, then its interval kept on one line; the cell may wrap between the two. */
function valueCi([value, ci]: [string, string]): string {
  return `${esc(value)} <span class="ci">${esc(ci)}</span>`;
}

function sequentialSection(report: AuditReport): string {
  const s = sequentialView(report);
  if (!s) return '';
  return [
    '<section id="sequential">',
    '<h2>Seeds in stages</h2>',
    `<p>${esc(s.words)}</p>`,
    table(['Seeds', 'Alpha spent', 'Boundary (z)', 'Nominal alpha', 'Decision'], s.rows.map((r) => r.map((c, i) => [esc(c), i < 4] as [string, boolean]))),
    '</section>',
  ].join('\n');
}

function positiveControlSection(report: AuditReport): string {
  const positive = positiveControlView(report);
  if (!positive) return '';
  return [
    '<section id="positive-control">',
    '<h2>Positive control</h2>',
    `<p class="note">${esc(positiveControlExplanation(report))}</p>`,
    `<p>Signal: ${esc(positive.signal)}.</p>`,
    table(
      ['Probe', 'Positive-control students', 'Delta vs control [CI]', 'p', 'Transfer'],
      positive.rows.map(([name, mean, delta, p, transfer]) => [[`<code>${esc(name)}</code>`], [esc(mean), true], [esc(delta), true], [esc(p), true], [esc(transfer)]]),
    ),
    `<p>${esc(positive.reason)}</p>`,
    '</section>',
  ].join('\n');
}

function probesSection(report: AuditReport): string {
  if (report.probes.length === 0) return '<section><h2>Probes</h2><p>No probes ran.</p></section>';
  const rows = report.probes.map(probeRow);
  const summary = table(
    ['Probe', 'Metric', 'Base', 'Teacher', 'Control mean [CI]', 'Student mean [CI]', 'Delta [CI]', 'p', 'Transfer ratio', 'MDE', 'Verdict'],
    rows.map((r) => [
      [`<code class="name">${esc(r.name)}</code>`],
      [esc(r.metric)],
      [esc(r.base), true],
      [esc(r.teacher), true],
      [valueCi(r.control), true],
      [valueCi(r.student), true],
      [valueCi(r.delta), true],
      [esc(r.p), true],
      [esc(r.ratio), true],
      [esc(r.mde), true],
      [badge(r.verdict)],
    ]),
    'probes',
  );
  const details = report.probes.map((p, i) => {
    const r = rows[i]!;
    return [
      `<div class="probe">`,
      `<h3><code>${esc(r.name)}</code> ${badge(r.verdict)}</h3>`,
      `<p class="metric">${esc(r.metric)}</p>`,
      renderProbeChart(p),
      `<p><strong>${VERDICT_LABEL[r.verdict]}:</strong> ${esc(r.reason)}</p>`,
      `<ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`,
      `</div>`,
    ].join('\n');
  });
  const extra = extraRows(report);
  const extraTable =
    extra.length === 0
      ? ''
      : `<h3>Secondary metrics</h3>\n${table(
          ['Probe', 'Metric', 'Base', 'Teacher', 'Control', 'Student'],
          extra.map((e) => [[`<code class="name">${esc(e.probe)}</code>`], [esc(e.metric)], [esc(e.base), true], [esc(e.teacher), true], [esc(e.control), true], [esc(e.student), true]]),
        )}`;
  return [
    '<section id="probes">',
    '<h2>Probes</h2>',
    summary,
    '<p class="note">Delta = student mean - control mean. Transfer ratio = delta / (teacher - base). MDE = smallest delta these seeds detect with 80% power.</p>',
    extraTable,
    ...details,
    '<p class="note">Charts: open markers are single runs (one per seed); the filled marker and bar are the mean and its confidence interval. Control students train on the clean baseline, students on the candidate data, cross-init students on the candidate data from a fresh initialization.</p>',
    '</section>',
  ].join('\n');
}

function filtersSection(report: AuditReport): string {
  const totals = filterTotals(report);
  if (totals === null) return '<section><h2>Content filters</h2><p>Content filters were not run.</p></section>';
  const rows = filterRows(report);
  return [
    '<section id="filters">',
    '<h2>Content filters</h2>',
    `<p>${esc(totals)} <span class="note">Filters report what a conventional pipeline would catch; they do not gate the verdict.</span></p>`,
    rows.length === 0
      ? ''
      : table(
          ['Rule', 'Excluded', 'Top reasons', 'Example'],
          rows.map((f) => [
            [`<code class="name">${esc(f.rule)}</code>`],
            [esc(f.excluded), true],
            [esc(f.reasons)],
            [f.example ? `line ${f.example.line}: <code class="long">${esc(f.example.text)}</code>` : ''],
          ]),
        ),
    '</section>',
  ].join('\n');
}

/** A section explained by one note: its facts, then an optional detail table. */
function explainedSection(id: string, title: string, note: string, facts: Fact[], detail: string): string {
  return [`<section id="${id}">`, `<h2>${esc(title)}</h2>`, `<p class="note">${esc(note)}</p>`, factsTable(facts), detail, '</section>'].join('\n');
}

function screenSection(report: AuditReport): string {
  const s = screenFacts(report);
  if (!s) return '';
  const perParameter = s.perParameter.map(([k, v]) => [[`<code class="name">${esc(k)}</code>`], [esc(v), true]] as [string, boolean?][]);
  return explainedSection('screen', 'Gradient screen', SCREEN_EXPLANATION, s.facts, perParameter.length === 0 ? '' : table(['Parameter', 'Cosine'], perParameter));
}

function attributionSection(report: AuditReport): string {
  const a = attributionFacts(report);
  if (!a) return '';
  return explainedSection('attribution', 'Row attribution', ATTRIBUTION_EXPLANATION, a.facts, table(['Line', 'Score'], a.top.map(([line, score]) => [[esc(line), true], [esc(score), true]])));
}

function reproSection(report: AuditReport): string {
  const r = reproView(report);
  const kv = (title: string, entries: [string, string][]): string =>
    entries.length === 0 ? '' : `<h3>${esc(title)}</h3>\n${table(['Key', 'Value'], entries.map(([k, v]) => [[`<code>${esc(k)}</code>`], [`<code class="long">${esc(v)}</code>`]]))}`;
  const run = report.run;
  return [
    '<section id="reproducibility">',
    '<h2>Reproducibility</h2>',
    r.inputs.length === 0
      ? ''
      : table(['Role', 'Path', 'SHA-256'], r.inputs.map((i) => [[esc(i.role)], [`<code class="long">${esc(i.path)}</code>`], [`<code class="long">${esc(i.sha256)}</code>`]])),
    `<p>Seeds: ${esc(r.seeds)}</p>`,
    kv('Versions', r.versions),
    kv('Training hyper-parameters', r.train),
    kv('Configuration', r.config),
    `<p class="note">Run started ${esc(run.startedAt)}, took ${esc(fmtMs(run.durationMs))} (training ${esc(fmtMs(run.trainingMs))}, ${esc(fmtCount(run.steps))} steps${run.cachedRuns ? `; ${esc(fmtCount(run.cachedRuns))} runs read from the run cache` : ''}). Report schema ${esc(report.schemaVersion)}, ${esc(report.tool.name)} ${esc(report.tool.version)}.</p>`,
    '</section>',
  ].join('\n');
}

export function renderHtml(report: AuditReport): string {
  const v = report.verdict;
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>audit-dataset: ${VERDICT_LABEL[v]}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    '<main>',
    `<header class="banner ${v}" role="status"><h1>audit-dataset: ${VERDICT_LABEL[v]}</h1><p>${esc(report.summary)}</p></header>`,
    `<section id="models"><h2>Models</h2>\n${factsTable(modelFacts(report))}\n</section>`,
    probesSection(report),
    positiveControlSection(report),
    sequentialSection(report),
    filtersSection(report),
    `<section id="data"><h2>Data</h2>\n${factsTable(dataFacts(report))}\n</section>`,
    screenSection(report),
    attributionSection(report),
    `<section id="policy"><h2>Policy</h2>\n${policyWords(report)
      .map((l) => `<p>${esc(l)}</p>`)
      .join('\n')}\n</section>`,
    reproSection(report),
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
