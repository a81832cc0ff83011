/**
 * Browser tests: the headless Chromium of `scripts/browser.ts`, and a log of every request a page makes and
 * every console error.
 */
import type { Page } from 'playwright-core';

export { launchBrowser } from '../../scripts/browser.js';

export interface PageLog {
  /** Every URL the page requested. */
  requests: string[];
  /** Console errors and uncaught page errors, in order. */
  errors: string[];
}

export function recordPage(page: Page): PageLog {
  const log: PageLog = { requests: [], errors: [] };
  page.on('request', (request) => log.requests.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') log.errors.push(message.text());
  });
  page.on('pageerror', (error) => log.errors.push(`pageerror: ${error.message}`));
  return log;
}
