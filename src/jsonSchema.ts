/**
 * Small builders over TypeBox for the project's published shapes (audit.yaml, report.json): each
 * shape is declared once as a JSON Schema value whose TypeScript type is derived from it
 * (`Static<typeof X>`), so the type, the validator and docs/*.schema.json cannot drift apart.
 */
import { Type, type ObjectOptions, type Static, type TObject, type TProperties, type TSchema, type TUnsafe } from '@sinclair/typebox';

/** A string-keyed map of T, written as `additionalProperties` (the form the docs always used). */
export function MapOf<T extends TSchema>(value: T, options: { description?: string } = {}): TUnsafe<Record<string, Static<T>>> {
  return Type.Unsafe<Record<string, Static<T>>>({ type: 'object', ...options, additionalProperties: value });
}

/**
 * A number in memory that report.json may carry as null: JSON has no NaN or Infinity, so the
 * writer turns those into null (src/report/json.ts roundNumber).
 */
export function WireNumber(options: { description?: string; minimum?: number; maximum?: number } = {}): TUnsafe<number> {
  const { description = 'A metric value; null stands for a non-finite number, which JSON cannot carry.', ...bounds } = options;
  if (Object.keys(bounds).length === 0) return Type.Unsafe<number>({ description, type: ['number', 'null'] });
  return Type.Unsafe<number>({ description, oneOf: [{ type: 'number', ...bounds }, { type: 'null' }] });
}

/** A two-number interval [low, high] (each possibly null on the wire). */
export function Interval(options: { description?: string } = {}): TUnsafe<[number, number]> {
  const end = WireNumber();
  return Type.Unsafe<[number, number]>({ ...options, type: 'array', prefixItems: [end, end], minItems: 2, maxItems: 2 });
}

/** The plain JSON Schema document of a TypeBox schema (TypeBox's symbol keys dropped). */
export function jsonSchemaOf(schema: TSchema): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

/** One of a fixed list of values, written as `enum` (validation errors then list the choices). */
export function Enum<const T extends readonly (string | number)[]>(values: T, options: { description?: string; default?: T[number] } = {}): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ ...options, enum: [...values] });
}

/**
 * An object section: unknown keys are errors, and keys with a `default` may be left out of the
 * file but are always present after validation (ajv fills them), so the derived type has them.
 */
export function Section<P extends TProperties>(properties: P, options: ObjectOptions = {}): TObject<P> {
  const schema = Type.Object(properties, { additionalProperties: false, ...options });
  const plain = schema as { required?: string[] };
  const required = (plain.required ?? []).filter((key) => !('default' in properties[key]!));
  if (required.length > 0) plain.required = required;
  else delete plain.required;
  return schema;
}
