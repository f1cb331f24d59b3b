import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { type Browser, chromium, type Page } from 'playwright-core';

/*
 * Real Chromium for the console's end-to-end suite: Debian's browser through playwright-core,
 * never a downloaded one (CI installs it with scripts/install-chromium.sh and sets CHROMIUM_BIN).
 */

/** Starts headless Chromium. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_BIN ?? '/usr/bin/chromium',
    // CI runs as root, where Chromium's sandbox cannot start.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

/** Everything a page reported that a working console never does: script errors, CSP violations, failed loads. */
export function watchForProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    const text = message.text();
    // A refused API call is logged by the browser as a failed resource load; the console shows those in words.
    if (
      message.type() === 'error' &&
      !/Failed to load resource: the server responded with a status of (4\d\d)/.test(text)
    )
      problems.push(`console ${message.type()}: ${text}`);
  });
  page.on('dialog', (dialog) => {
    problems.push(`a JavaScript dialog opened: ${dialog.message()}`);
    void dialog.dismiss();
  });
  return problems;
}

/** The serious and critical accessibility violations axe-core finds on the page as it is. */
export async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(
      (violation) =>
        `${violation.id} (${violation.impact}): ${violation.help} at ${violation.nodes
          .slice(0, 3)
          .map((node) => node.target.join(' '))
          .join(', ')}`,
    );
}

/**
 * Where the e2e run writes the console's screenshots: a temporary folder, so a test run leaves the
 * tree clean; `npm run docs:screenshots` writes them to docs/screenshots, committed with the docs.
 */
export const SCREENSHOTS_DIR = process.env.KEYWARD_SCREENSHOTS_DIR ?? join(tmpdir(), 'keyward-screenshots');

/** Saves a screenshot of the whole page under SCREENSHOTS_DIR. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS_DIR, `${name}.png`), fullPage: true });
}
