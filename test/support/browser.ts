import { chromium, type Browser } from 'playwright-core';
import { inject } from 'vitest';

/**
 * The Chromium binary the browser tests launch: `CHROMIUM_PATH` when set, else the headless Chromium that the
 * `@sparticuz/chromium` dev dependency ships inside its npm package. global-setup.ts unpacks it once per run.
 * Nothing is downloaded and nothing is needed from the machine.
 */
export async function resolveChromiumPath(): Promise<string> {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  const { default: packaged } = await import('@sparticuz/chromium');
  return packaged.executablePath();
}

/** Launches headless Chromium the way every browser test here does. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: inject('chromiumPath'),
    // --disable-background-networking: the browser itself must not call out either (updates, safe browsing).
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-zygote'],
  });
}
