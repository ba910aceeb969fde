/**
 * Durations as Tiled (pydantic `timedelta`) accepts them, plus plain seconds and words:
 * `900`, `"900"`, `"PT15M"`, `"P7D"`, `"01:00:00"`, `"1 day, 02:00:00"`, `"15 minutes"`, `"7 days"`.
 * Returns whole seconds, or undefined when the text is not a duration.
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.round(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text));

  const iso = /^p(?:(\d+(?:\.\d+)?)w)?(?:(\d+(?:\.\d+)?)d)?(?:t(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?)?$/.exec(text);
  if (iso && text !== 'p' && !text.endsWith('t')) {
    const [, w, d, h, m, s] = iso.map((part) => Number(part ?? 0));
    return Math.round(w * 604800 + d * 86400 + h * 3600 + m * 60 + s);
  }

  const clock = /^(?:(\d+)\s*days?,?\s*)?(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(text);
  if (clock) {
    const [, d, h, m, s] = clock.map((part) => Number(part ?? 0));
    return Math.round(d * 86400 + h * 3600 + m * 60 + s);
  }

  const words = /^(\d+(?:\.\d+)?)\s*(seconds?|secs?|s|minutes?|mins?|m|hours?|h|days?|d|weeks?|w)$/.exec(text);
  if (words) {
    const unit = words[2][0];
    const factor = unit === 's' ? 1 : unit === 'm' ? 60 : unit === 'h' ? 3600 : unit === 'd' ? 86400 : 604800;
    return Math.round(Number(words[1]) * factor);
  }
  return undefined;
}
