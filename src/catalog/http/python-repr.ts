/** Python's reprs, because Tiled's messages and text formats embed them. */

/** `repr(float)`: 1.0 not 1, 1e-07 not 1e-7, 1e+16 where JS would still write digits. */
export function pyFloat(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (Number.isInteger(value) && Math.abs(value) < 1e16) return `${value}.0`;
  let text = String(value);
  if (Math.abs(value) >= 1e16 && !text.includes('e')) text = value.toExponential().replace(/\.?0+e/, 'e');
  // Python pads the exponent to two digits (1e-05); most values have no exponent, so skip the regex for them.
  return text.includes('e') ? text.replace(/e([+-])(\d)$/, 'e$10$2') : text;
}

/** `repr(tuple)`: (5,) for one element. */
export function pyTuple(items: readonly (number | string)[]): string {
  return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
}

/** `repr(str)` for simple strings. */
export function pyStr(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
