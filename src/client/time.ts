const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, y: 365 * 86400 };

/**
 * Tiled's `parse_time_string`: all digits → seconds; otherwise `<int><unit>` (s, m, h, d, y)
 * matched at the start of the string, so `10m30s` is 600 as in Tiled.
 */
export function parseTimeString(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`Could not parse ${value} as a number and a unit like '5m'`);
    return value;
  }
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const match = /^(\d+)([smhdy])/.exec(text);
  if (!match) throw new Error(`Could not parse ${value} as a number and a unit like '5m'`);
  return Number(match[1]) * UNITS[match[2]];
}

/**
 * A server datetime (msgpack Timestamp → Date, or an ISO string; Tiled sends naive strings for
 * values read back from SQLite, which are UTC) as `YYYY-MM-DDTHH:MM:SS` in UTC, or `-`.
 */
export function formatUtc(value: unknown): string {
  const date = toDate(value);
  return date ? date.toISOString().slice(0, 19) : '-';
}

export function toDate(value: unknown): Date | null {
  if (value instanceof Date) return value;
  if (typeof value === 'string' && value) {
    const hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(value);
    const date = new Date(hasZone ? value : `${value}Z`);
    return Number.isNaN(date.getTime()) ? null : date;
  }
  return null;
}
