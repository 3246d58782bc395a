// Drives Agents Playground's group chat: a request from another member arrives, the current user
// (an approver) approves it on the card, and the same card turns to Approved with no buttons.
// The Playground acts as one user only, so the request is posted to the bot directly as Megan.
//   PLAYGROUND_URL=http://localhost:56150 BOT_URL=http://127.0.0.1:3978/api/messages node approval_flow.mjs
import { openPage } from './browser.mjs';
import fs from 'node:fs';
import path from 'node:path';

const BASE = process.env.PLAYGROUND_URL || 'http://localhost:56150';
const BOT_URL = process.env.BOT_URL || 'http://127.0.0.1:3978/api/messages';
const OUT = process.env.OUT_DIR || 'artifacts';
const TENANT = '00000000-0000-0000-0000-0000000000001';
const BOT = { id: '00000000-0000-0000-0000-00000000000011', name: 'Test Bot' };
const ME = { id: 'user-id-0', name: 'Alex Wilber' }; // the Playground's current user
fs.mkdirSync(OUT, { recursive: true });

const { browser, page } = await openPage({ width: 1280, height: 1000 });
const seen = {};

async function requestFromMegan() {
  const text = `<at>${BOT.name}</at> approval New laptops | Three 14-inch laptops <at>${ME.name}</at>`;
  const activity = {
    type: 'message', id: `e2e-${Date.now()}`, channelId: 'msteams', text,
    serviceUrl: `${BASE}/_connector`, timestamp: new Date().toISOString(),
    from: { id: 'user-id-1', name: 'Megan Bowen' }, recipient: BOT,
    conversation: { id: 'group-chat-id', conversationType: 'groupChat', isGroup: true, tenantId: TENANT },
    channelData: { tenant: { id: TENANT } },
    entities: [
      { type: 'mention', text: `<at>${BOT.name}</at>`, mentioned: BOT },
      { type: 'mention', text: `<at>${ME.name}</at>`, mentioned: ME },
    ],
  };
  const response = await fetch(BOT_URL, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(activity) });
  if (!response.ok) throw new Error(`bot answered ${response.status}`);
}

try {
  await page.goto(BASE + '/');
  await page.getByRole('treeitem', { name: 'Group Chat', exact: true }).click();
  await page.getByText('Connected.', { exact: true }).first().waitFor();
  await requestFromMegan();

  const card = page.locator('.ac-adaptiveCard').filter({ has: page.getByText('New laptops', { exact: true }) }).first();
  await card.getByText('⏳ APPROVAL · PENDING', { exact: true }).waitFor();
  seen.cardsBefore = await page.locator('.ac-adaptiveCard').count();
  const element = await card.elementHandle();
  await card.screenshot({ path: path.join(OUT, 'approval-pending.png') });

  await card.getByRole('button', { name: 'Approve', exact: true }).click();
  await card.getByRole('button', { name: 'Confirm approval', exact: true }).click();
  await card.getByText('✅ APPROVAL · APPROVED', { exact: true }).waitFor();
  seen.sameElement = await element.evaluate((e) => e.isConnected);
  seen.buttonsAfter = await card.getByRole('button').count();
  seen.textAfter = await card.innerText();
  seen.cardsAfter = await page.locator('.ac-adaptiveCard').count();
  await card.screenshot({ path: path.join(OUT, 'approval-approved.png') });
  seen.ok = true;
} catch (error) {
  seen.ok = false;
  seen.error = error.message;
  await page.screenshot({ path: path.join(OUT, 'approval-failure.png'), fullPage: true }).catch(() => {});
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
process.exit(seen.ok ? 0 : 1);
