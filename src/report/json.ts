/**
 * report.json writer. Keys come out in the order schema.ts declares them (not in whatever order the
 * orchestrator happened to build the object), maps are sorted by key, and non-integer numbers are
 * rounded to 6 significant digits, so two runs with the same seeds differ only in the `run` block.
 */
import { AuditReportSchema, type AuditReport } from './schema.js';

/** How to order one value: a declared object, a string-keyed map, an array, or free-form JSON. */
export type Shape = { obj: readonly (readonly [string, Shape])[] } | { map: Shape } | { arr: Shape } | 'leaf' | 'open';

const leaf = 'leaf' as const;
const open = 'open' as const;

/** A JSON Schema node, as far as ordering needs to see it. */
interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
}

/** The ordering Shape of a JSON Schema: objects keep their declared key order; maps sort. */
export function shapeOfSchema(schema: SchemaNode): Shape {
  const union = schema.anyOf ?? schema.oneOf;
  if (union) {
    const structured = union.find((s) => s.type === 'object' || s.type === 'array');
    return structured ? shapeOfSchema(structured) : leaf;
  }
  if (schema.type === 'object') {
    if (schema.properties) return { obj: Object.entries(schema.properties).map(([key, sub]) => [key, shapeOfSchema(sub)] as const) };
    if (typeof schema.additionalProperties === 'object') return { map: shapeOfSchema(schema.additionalProperties) };
    return open;
  }
  if (schema.type === 'array') return { arr: schema.items ? shapeOfSchema(schema.items) : leaf };
  return leaf;
}

/** The AuditReport's order, key by key, read from its one declaration (schema.ts). */
export const REPORT_SHAPE: Shape = shapeOfSchema(AuditReportSchema as SchemaNode);

/**
 * Non-integers to 6 significant digits; integers (counts, seeds, parameter totals) stay exact.
 * JSON has no NaN/Infinity, so those become null rather than a silently different number.
 */
export function roundNumber(x: number): number | null {
  if (!Number.isFinite(x)) return null;
  if (Number.isInteger(x)) return x === 0 ? 0 : x;
  const r = Number(x.toPrecision(6));
  return r === 0 ? 0 : r; // no "-0"
}

const byKey = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A plain JSON value with keys inserted in output order and numbers rounded. */
export function canonicalize(value: unknown, shape: Shape): unknown {
  if (typeof value === 'number') return roundNumber(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const item = typeof shape === 'object' && 'arr' in shape ? shape.arr : open;
    return value.map((v) => canonicalize(v, item));
  }
  const record = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  if (typeof shape === 'object' && 'obj' in shape) {
    const declared = new Set<string>();
    for (const [key, sub] of shape.obj) {
      declared.add(key);
      if (record[key] !== undefined) out[key] = canonicalize(record[key], sub);
    }
    // Keys the shape does not know (a newer producer) still come out, sorted, after the declared ones.
    for (const key of Object.keys(record).filter((k) => !declared.has(k)).sort(byKey)) {
      out[key] = canonicalize(record[key], open);
    }
    return out;
  }
  const sub = typeof shape === 'object' && 'map' in shape ? shape.map : open;
  for (const key of Object.keys(record).sort(byKey)) out[key] = canonicalize(record[key], sub);
  return out;
}

/** report.json text: declared key order, 2-space indent, trailing newline. */
export function renderJson(report: AuditReport): string {
  return `${JSON.stringify(canonicalize(report, REPORT_SHAPE), null, 2)}\n`;
}
