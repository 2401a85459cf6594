/**
 * Small checks of JSON shapes, for messages that arrive as `unknown` (the chat comm's):
 * each `Check` says whether a value fits, and `pickChecked` keeps the known fields of a
 * `{type, …}` message whose fields all pass.
 */

/** A JSON object. */
export type Json = Record<string, unknown>;

/** Whether a value has the expected shape. */
export type Check = (value: unknown) => boolean;

export const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
export const isString: Check = v => typeof v === 'string';
export const isBoolean: Check = v => typeof v === 'boolean';
export const isNumber: Check = v => typeof v === 'number' && Number.isFinite(v);
export const isInteger: Check = v => Number.isInteger(v);

/** One of `values` exactly. */
export const oneOf =
  (...values: string[]): Check =>
  v =>
    values.includes(v as string);

/** Absent, `null`, or passing `check`. */
export const optional =
  (check: Check): Check =>
  v =>
    v === undefined || v === null || check(v);

/** Absent, or passing `check`: unlike `optional`, `null` is refused (for fields the
 * kernel types as "may be left out", never as "may be null"). */
export const absentOr =
  (check: Check): Check =>
  v =>
    v === undefined || check(v);

/** An array whose items all pass `check`. */
export const arrayOf =
  (check: Check): Check =>
  v =>
    Array.isArray(v) && v.every(check);

/** An object whose `fields` all pass their checks (other keys are allowed). */
export const shape =
  (fields: Record<string, Check>): Check =>
  v =>
    isObject(v) && Object.entries(fields).every(([key, ok]) => ok(v[key]));

/**
 * `data` cut down to its `type` and the fields `shapes[type]` names (those present),
 * when that type is known and every field passes; else `null`.
 */
export function pickChecked(
  shapes: Record<string, Record<string, Check>>,
  data: unknown
): Json | null {
  if (!isObject(data) || typeof data.type !== 'string') {
    return null;
  }
  const fields = Object.prototype.hasOwnProperty.call(shapes, data.type)
    ? shapes[data.type]
    : undefined;
  if (!fields || !shape(fields)(data)) {
    return null;
  }
  const picked: Json = { type: data.type };
  for (const key of Object.keys(fields)) {
    if (data[key] !== undefined) {
      picked[key] = data[key];
    }
  }
  return picked;
}
