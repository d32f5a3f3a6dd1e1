import type { Browser, Page } from 'playwright-core';
import type { Core } from '../../src/main/core/app-core';
import { createCore } from '../../src/main/handlers';
import { startHarness, type HarnessServer } from '../../src/harness/server';
import { launchChromium } from './browser';
import { OUT } from './build';

export interface AppUnderTest {
  core: Core;
  harness: HarnessServer;
  browser: Browser;
  page: Page;
  close(): Promise<void>;
}

/** The app as a user sees it: the built renderer in Chromium, on the browser harness, on a given data dir. */
export async function openApp(dataDir: string, viewport = { width: 1280, height: 800 }): Promise<AppUnderTest> {
  const core = createCore({ dataDir, runtime: 'harness' });
  const harness = await startHarness({ core, rendererDir: `${OUT}/renderer` });
  const { browser, close } = await launchChromium();
  const page = await browser.newPage({ viewport, locale: 'fr-FR', timezoneId: 'Europe/Paris' });
  await page.goto(harness.url);
  return {
    core,
    harness,
    browser,
    page,
    async close() {
      await close();
      await harness.close();
      await core.close();
    },
  };
}
