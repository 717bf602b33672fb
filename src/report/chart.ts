/**
 * Inline SVG strip chart of one probe: the metric on a horizontal axis, base and teacher as
 * labelled vertical lines, one lane per student kind (control, student, cross-init) with each run
 * as a dot and the mean with its CI as a bar. Colours are Okabe-Ito, and each kind also has its own
 * marker shape, so the chart reads without colour.
 */
import { escapeHtml as esc } from './escape.js';
import { fmt, fmtCi } from './format.js';
import type { ProbeResult, RunStats } from './schema.js';

export const PALETTE = {
  control: '#0072B2', // blue
  student: '#D55E00', // vermillion
  crossInit: '#CC79A7', // reddish purple
  teacher: '#E69F00', // orange
  base: '#555555',
  axis: '#333333',
  grid: '#e4e4e4',
} as const;

type Shape = 'circle' | 'diamond' | 'triangle';

interface Lane {
  label: string;
  stats: RunStats;
  colour: string;
  shape: Shape;
}

const WIDTH = 760;
const LEFT = 120;
const RIGHT = 24;
const TOP = 50;
const LANE = 44;
const BOTTOM = 44;

/** Round-number tick step near range/target: 1, 2 or 5 times a power of ten. */
export function niceStep(range: number, target = 6): number {
  const raw = range / target;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const m = raw / pow;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * pow;
}

/** Axis domain covering every value drawn, padded, never empty. */
export function domain(values: number[]): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [0, 1];
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (hi - lo < 1e-12) {
    const pad = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 0.5;
    lo -= pad;
    hi += pad;
  }
  const pad = (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

const n2 = (x: number): string => String(Math.round(x * 10) / 10);

/** cls: "run" for one seed's run, "mean" for the mean (a browser test counts them). */
function marker(shape: Shape, x: number, y: number, r: number, fill: string, stroke: string, cls: 'run' | 'mean'): string {
  const common = `fill="${fill}" stroke="${stroke}" stroke-width="1.5" class="${cls}"`;
  if (shape === 'circle') return `<circle cx="${n2(x)}" cy="${n2(y)}" r="${n2(r)}" ${common}/>`;
  const pts =
    shape === 'diamond'
      ? [
          [x, y - r * 1.3],
          [x + r * 1.3, y],
          [x, y + r * 1.3],
          [x - r * 1.3, y],
        ]
      : [
          [x, y - r * 1.3],
          [x + r * 1.2, y + r * 0.9],
          [x - r * 1.2, y + r * 0.9],
        ];
  return `<polygon points="${pts.map(([a, b]) => `${n2(a ?? 0)},${n2(b ?? 0)}`).join(' ')}" ${common}/>`;
}

export function renderProbeChart(p: ProbeResult): string {
  const lanes: Lane[] = [
    { label: 'control', stats: p.control, colour: PALETTE.control, shape: 'circle' },
    { label: 'student', stats: p.student, colour: PALETTE.student, shape: 'diamond' },
  ];
  if (p.crossInit) lanes.push({ label: 'cross-init', stats: p.crossInit, colour: PALETTE.crossInit, shape: 'triangle' });

  const height = TOP + lanes.length * LANE + BOTTOM;
  const all = [p.base, p.teacher, ...lanes.flatMap((l) => [l.stats.mean, ...l.stats.ci, ...l.stats.runs])];
  const [lo, hi] = domain(all);
  const x = (v: number): number => LEFT + ((v - lo) / (hi - lo)) * (WIDTH - LEFT - RIGHT);
  const plotBottom = TOP + lanes.length * LANE;
  const parts: string[] = [];

  // Grid and axis ticks.
  const step = niceStep(hi - lo);
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    const v = Math.abs(t) < step * 1e-9 ? 0 : t;
    const tx = n2(x(v));
    parts.push(`<line x1="${tx}" y1="${TOP}" x2="${tx}" y2="${plotBottom}" stroke="${PALETTE.grid}"/>`);
    parts.push(`<line x1="${tx}" y1="${plotBottom}" x2="${tx}" y2="${plotBottom + 5}" stroke="${PALETTE.axis}"/>`);
    parts.push(`<text x="${tx}" y="${plotBottom + 18}" text-anchor="middle" class="tick">${esc(fmt(Number(v.toPrecision(10))))}</text>`);
  }
  parts.push(`<line x1="${LEFT}" y1="${plotBottom}" x2="${WIDTH - RIGHT}" y2="${plotBottom}" stroke="${PALETTE.axis}"/>`);
  parts.push(`<text x="${n2((LEFT + WIDTH - RIGHT) / 2)}" y="${height - 6}" text-anchor="middle" class="axis-label">${esc(p.metric)}</text>`);

  // Base and teacher reference lines; labels on two rows so close values do not overlap.
  const refs = [
    { label: `base ${fmt(p.base)}`, v: p.base, colour: PALETTE.base, dash: ' stroke-dasharray="5 4"', row: 0 },
    { label: `teacher ${fmt(p.teacher)}`, v: p.teacher, colour: PALETTE.teacher, dash: '', row: 1 },
  ];
  for (const r of refs) {
    const rx = x(r.v);
    const anchor = rx > WIDTH - RIGHT - 60 ? 'end' : rx < LEFT + 60 ? 'start' : 'middle';
    const ly = r.row === 0 ? TOP - 26 : TOP - 8;
    parts.push(`<line x1="${n2(rx)}" y1="${ly + 4}" x2="${n2(rx)}" y2="${plotBottom}" stroke="${r.colour}" stroke-width="2.5"${r.dash}/>`);
    parts.push(`<text x="${n2(rx)}" y="${ly}" text-anchor="${anchor}" class="ref" fill="${r.colour === PALETTE.teacher ? '#8a5a00' : r.colour}">${esc(r.label)}</text>`);
  }

  lanes.forEach((lane, i) => {
    const cy = TOP + i * LANE + LANE / 2;
    const s = lane.stats;
    parts.push(`<text x="${LEFT - 10}" y="${n2(cy + 4)}" text-anchor="end" class="lane">${esc(lane.label)}</text>`);
    // Runs: open markers above the lane centre; a small deterministic vertical offset separates ties.
    s.runs.forEach((v, k) => {
      const dy = ((k % 3) - 1) * 3.5;
      parts.push(marker(lane.shape, x(v), cy - 9 + dy, 4, 'white', lane.colour, 'run'));
    });
    // Mean and CI below the runs.
    const my = cy + 10;
    const [c0, c1] = [x(s.ci[0]), x(s.ci[1])];
    parts.push(`<line x1="${n2(c0)}" y1="${n2(my)}" x2="${n2(c1)}" y2="${n2(my)}" stroke="${lane.colour}" stroke-width="2.5"/>`);
    for (const c of [c0, c1]) {
      parts.push(`<line x1="${n2(c)}" y1="${n2(my - 5)}" x2="${n2(c)}" y2="${n2(my + 5)}" stroke="${lane.colour}" stroke-width="2"/>`);
    }
    parts.push(marker(lane.shape, x(s.mean), my, 5, lane.colour, lane.colour, 'mean'));
  });

  const desc = `${p.name}: base ${fmt(p.base)}, teacher ${fmt(p.teacher)}, ${lanes
    .map((l) => `${l.label} mean ${fmt(l.stats.mean)} ${fmtCi(l.stats.ci)} over ${l.stats.runs.length} runs`)
    .join(', ')}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-label="${esc(desc)}">`,
    `<title>${esc(desc)}</title>`,
    ...parts,
    '</svg>',
  ].join('\n');
}
