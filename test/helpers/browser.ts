import { existsSync } from 'node:fs';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';
import { itUnlessMissing } from './optional-suite';

/**
 * Env contract for browser-driven tests (the same as PostgreSQL's, test/helpers/postgres.ts):
 * - `TILED_TEST_CHROMIUM`: the Chromium or Chrome executable to drive. Unset, the first of Debian's
 *   `/usr/bin/chromium` and the Chromium `npx playwright-core install chromium` downloads that exists.
 * - `CI=true` makes a missing browser fail the suite; elsewhere the browser tests are skipped with one line.
 */
export const CHROMIUM_ENV = 'TILED_TEST_CHROMIUM';
const DEBIAN_CHROMIUM = '/usr/bin/chromium';

function chromiumCandidates(): string[] {
  const chosen = process.env[CHROMIUM_ENV];
  return chosen ? [chosen] : [DEBIAN_CHROMIUM, chromium.executablePath()];
}

/** The browser executable the tests will drive, or undefined when none is installed. */
export function findChromium(): string | undefined {
  return chromiumCandidates().find((path) => existsSync(path));
}

const HOW_TO_INSTALL =
  `set ${CHROMIUM_ENV} to a Chromium or Chrome executable, or install one: ` +
  '"apt-get install chromium" (Debian) or "npx playwright-core install --no-shell chromium" (anywhere)';

function missingMessage(): string {
  return `Chromium not found at ${chromiumCandidates().join(' or ')}`;
}

/**
 * The browser of one suite: `it` is jest's `it` where browser tests must run, and `it.skip` (after one
 * line on stderr saying what to install) where no browser is installed and CI is not set. Chromium is
 * launched by the first test that opens a page, so a suite's other tests never need one.
 */
export class SuiteBrowser {
  readonly it: jest.It;
  private launched?: Promise<Browser>;

  constructor() {
    this.it = itUnlessMissing(findChromium() ? undefined : missingMessage(), 'browser tests', HOW_TO_INSTALL);
  }

  async newContext(): Promise<BrowserContext> {
    return (await this.browser()).newContext();
  }

  async newPage(): Promise<Page> {
    return (await this.browser()).newPage();
  }

  async close(): Promise<void> {
    await (await this.launched?.catch(() => undefined))?.close();
  }

  private browser(): Promise<Browser> {
    this.launched ??= launchBrowser();
    return this.launched;
  }
}

/** A headless Chromium with everything that phones home switched off (suites use SuiteBrowser, which skips or fails as the env says). */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) {
    const why = process.env.CI === 'true' ? 'CI=true, so the browser tests cannot be skipped' : 'browser tests need one';
    throw new Error(`${missingMessage()}: ${why}; ${HOW_TO_INSTALL}`);
  }
  return chromium.launch({
    executablePath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Sign in at the test OpenID provider's dev sign-in page, then accept its consent page ("Continue"). */
export async function signInAtProviderPage(page: Page, login: string): Promise<void> {
  await page.waitForSelector('input[name="login"]');
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', 'any password');
  await page.click('button[type="submit"]');
  await page.waitForSelector('button[type="submit"]');
  await page.click('button[type="submit"]');
}
