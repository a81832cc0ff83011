/**
 * A headless Chromium for browser tests, driven by playwright-core: Debian's `chromium` package (`.ci/run`
 * installs it; no browser download), with a log of every request the page makes and every console error.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium`);
  // --no-sandbox: CI and the developers' machines run as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}

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
