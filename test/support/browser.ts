import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium: the tests never download a browser. Override with CHROMIUM_PATH. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Launches headless Chromium the way every browser test here does. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    // --disable-background-networking: the browser itself must not call out either (updates, safe browsing).
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}
