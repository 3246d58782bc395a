// Debian's chromium, headless, for driving Agents Playground (playwright cannot download browsers here).
import { chromium } from 'playwright-core';

export async function openPage(viewport) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--disable-quic', '--no-first-run'],
  });
  const context = await browser.newContext({ viewport });
  // The UI asks a CDN for fonts; this machine has no route there, so fail those requests at once.
  await context.route(/^https?:\/\/(?!(localhost|127\.0\.0\.1)[:/])/, (route) => route.abort());
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  return { browser, page };
}
