import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (apt-get install chromium); playwright-core downloads no browser of its own. */
export const CHROMIUM = '/usr/bin/chromium';

/** Whether the editor tests can run; when not, they say so and skip. */
export function hasChromium(): boolean {
  if (existsSync(CHROMIUM)) return true;
  console.log('      skipped: no Chromium (apt-get install chromium)');
  return false;
}

/** Headless Chromium; the flags keep it off the network this machine does not have. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
