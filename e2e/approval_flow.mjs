// Drives Agents Playground's group chat: a request from another member arrives, the current user
// (an approver) approves it on the card, and the same card turns to Approved with no buttons.
// The Playground acts as one user only, so the request is posted to the bot directly as Megan.
//   PLAYGROUND_URL=http://localhost:56150 BOT_URL=http://127.0.0.1:3978/api/messages node approval_flow.mjs
import { openChat, postToBot, runFlow } from './browser.mjs';
import path from 'node:path';

const BASE = process.env.PLAYGROUND_URL || 'http://localhost:56150';
const BOT_URL = process.env.BOT_URL || 'http://127.0.0.1:3978/api/messages';
const ME = { id: 'user-id-0', name: 'Alex Wilber' }; // the Playground's current user
const MEGAN = { id: 'user-id-1', name: 'Megan Bowen' };

await runFlow('approval', { width: 1280, height: 1000 }, async (page, seen, out) => {
  await openChat(page, BASE, 'Group Chat');
  await postToBot(BOT_URL, BASE, MEGAN, `approval New laptops | Three 14-inch laptops <at>${ME.name}</at>`, [ME]);

  const card = page.locator('.ac-adaptiveCard').filter({ has: page.getByText('New laptops', { exact: true }) }).first();
  await card.getByText('⏳ APPROVAL · PENDING', { exact: true }).waitFor();
  seen.cardsBefore = await page.locator('.ac-adaptiveCard').count();
  const element = await card.elementHandle();
  await card.screenshot({ path: path.join(out, 'approval-pending.png') });

  await card.getByRole('button', { name: 'Approve', exact: true }).click();
  await card.getByRole('button', { name: 'Confirm approval', exact: true }).click();
  await card.getByText('✅ APPROVAL · APPROVED', { exact: true }).waitFor();
  seen.sameElement = await element.evaluate((e) => e.isConnected);
  seen.buttonsAfter = await card.getByRole('button').count();
  seen.textAfter = await card.innerText();
  seen.cardsAfter = await page.locator('.ac-adaptiveCard').count();
  await card.screenshot({ path: path.join(out, 'approval-approved.png') });
});
