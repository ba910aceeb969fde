/**
 * The rule of the suites that need something besides Node.js and the repository (a browser, Python's
 * readers), as for PostgreSQL: where it is missing they are skipped after one line saying what to install,
 * except under `CI=true`, where they run and fail with the same advice.
 */
export function itUnlessMissing(missing: string | undefined, what: string, advice: string): jest.It {
  if (!missing || process.env.CI === 'true') return it;
  process.stderr.write(`Skipping ${what}: ${missing} (${advice})\n`);
  return it.skip;
}
