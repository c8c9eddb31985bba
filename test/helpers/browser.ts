// A real browser for the page tests: Debian's Chromium (never a download), headless, in a
// fresh profile, with a page that collects its script errors and console errors.
import type { BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { tempDir } from './paths.js';

export async function openBrowser(height: number): Promise<{ browser: BrowserContext; page: Page; errors: string[] }> {
  // Playwright takes the fresh profile folder as launchPersistentContext's argument rather
  // than as --user-data-dir.
  const browser = await chromium.launchPersistentContext(tempDir('percept-chromium-'), {
    executablePath: '/usr/bin/chromium',
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
    viewport: { width: 1360, height },
  });
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  return { browser, page, errors };
}
