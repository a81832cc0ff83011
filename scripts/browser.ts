/**
 * Headless Chromium for the browser tests and `npm run screenshot`: Debian's `chromium` package driven by
 * playwright-core (no browser download; `.ci/run` installs it). `CHROMIUM_PATH` points elsewhere.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium`);
  // --no-sandbox: CI and the developers' machines run as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}
