// Debian's chromium, headless, for driving Agents Playground (playwright cannot download browsers here).
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

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

// Opens one of the Playground's chats ('Personal Chat', 'Group Chat') and waits until it is connected.
export async function openChat(page, playgroundUrl, chat) {
  await page.goto(playgroundUrl + '/');
  await page.getByRole('treeitem', { name: chat, exact: true }).click();
  await page.getByText('Connected.', { exact: true }).first().waitFor();
}

// Runs a flow's steps on a fresh page and prints one JSON line with what it saw (`seen`); exits
// non-zero if a step could not be done, keeping a screenshot as OUT_DIR/<name>-failure.png.
export async function runFlow(name, viewport, steps) {
  const out = process.env.OUT_DIR || 'artifacts';
  fs.mkdirSync(out, { recursive: true });
  const { browser, page } = await openPage(viewport);
  const seen = {};
  try {
    await steps(page, seen, out);
    seen.ok = true;
  } catch (error) {
    seen.ok = false;
    seen.error = error.message;
    await page.screenshot({ path: path.join(out, `${name}-failure.png`), fullPage: true }).catch(() => {});
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(seen));
  process.exit(seen.ok ? 0 : 1);
}

// What Teams would post for a message from another member of the Playground's group chat: the
// Playground acts as one user, so messages from others go to the bot directly.
export async function postToBot(botUrl, playgroundUrl, from, text, mentions = []) {
  const tenant = '00000000-0000-0000-0000-0000000000001';
  const bot = { id: '00000000-0000-0000-0000-00000000000011', name: 'Test Bot' };
  const activity = {
    type: 'message', id: `e2e-${Date.now()}`, channelId: 'msteams', text: `<at>${bot.name}</at> ${text}`,
    serviceUrl: `${playgroundUrl}/_connector`, timestamp: new Date().toISOString(), from, recipient: bot,
    conversation: { id: 'group-chat-id', conversationType: 'groupChat', isGroup: true, tenantId: tenant },
    channelData: { tenant: { id: tenant } },
    entities: [{ type: 'mention', text: `<at>${bot.name}</at>`, mentioned: bot },
      ...mentions.map((person) => ({ type: 'mention', text: `<at>${person.name}</at>`, mentioned: person }))],
  };
  const response = await fetch(botUrl, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(activity) });
  if (!response.ok) throw new Error(`bot answered ${response.status}`);
}
