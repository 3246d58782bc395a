// Issue 11 in Agents Playground's group chat: the current user, Alex, types `poll`, fills in the
// creation form with hidden results and a closing time, posts it and votes by clicking an option.
// Alex created the poll, so Alex's own view shows the tallies; tests/test_e2e_playground.py then
// asks for another member's view, which must not.
//   PLAYGROUND_URL=http://localhost:56150 node hidden_poll_flow.mjs
import { runFlow } from './browser.mjs';
import path from 'node:path';

const BASE = process.env.PLAYGROUND_URL || 'http://localhost:56150';
const QUESTION = 'Offsite venue?';
const tomorrow = new Date(Date.now() + 24 * 3600 * 1000).toISOString().slice(0, 10);

await runFlow('hidden', { width: 1280, height: 1200 }, async (page, seen, out) => {
  const cards = () => page.locator('.ac-adaptiveCard');
  const messages = () => page.getByRole('button', { name: 'Show more information', exact: true });
  await page.goto(BASE + '/');
  await page.getByRole('treeitem', { name: 'Group Chat', exact: true }).click();
  await page.getByText('Connected.', { exact: true }).first().waitFor();

  const box = page.locator('div[role="textbox"][contenteditable="true"]');
  await box.click();
  await box.pressSequentially('poll');
  await page.getByRole('button', { name: 'Send Message', exact: true }).click();
  const form = cards().filter({ has: page.getByRole('button', { name: 'Post poll', exact: true }) }).first();
  await form.waitFor();
  await form.getByRole('textbox', { name: 'Question' }).fill(QUESTION);
  await form.getByRole('textbox', { name: /^Options, one per line/ }).fill('Lisbon\nPorto\nFaro');
  await form.getByRole('checkbox', { name: /^Hide the results/ }).check();
  await form.locator('input[type="date"]').fill(tomorrow);
  await form.locator('input[type="time"]').fill('17:00');
  await form.getByRole('button', { name: 'Post poll', exact: true }).click();
  await form.getByText('✅ Poll posted', { exact: true }).waitFor();

  const card = cards().filter({ hasText: QUESTION }).filter({ has: page.getByRole('button', { name: 'Porto', exact: true }) }).first();
  await card.waitFor();
  seen.sharedText = await card.innerText();
  seen.cardsBefore = await cards().count();
  seen.messagesBefore = await messages().count();
  const element = await card.elementHandle();

  await card.getByRole('button', { name: 'Porto', exact: true }).click();
  await card.getByText('✓ Your vote').waitFor();
  seen.sameElement = await element.evaluate((e) => e.isConnected);
  seen.ownView = await card.innerText();
  seen.cardsAfter = await cards().count();
  seen.messagesAfter = await messages().count();
  seen.closesOn = tomorrow;
  await card.screenshot({ path: path.join(out, 'hidden-poll-own-view.png') });
});
