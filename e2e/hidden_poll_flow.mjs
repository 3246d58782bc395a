// Issue 11 in Agents Playground's group chat: the current user, Alex, asks for the poll form, makes
// a poll with hidden results and a closing time in it, posts it and votes by clicking an option.
// Alex created the poll, so Alex's own view shows the tallies; tests/test_e2e_playground.py then
// asks for another member's view, which must not.
//   PLAYGROUND_URL=http://localhost:56150 BOT_URL=http://127.0.0.1:3978/api/messages node hidden_poll_flow.mjs
import { openChat, postToBot, runFlow } from './browser.mjs';
import path from 'node:path';

const BASE = process.env.PLAYGROUND_URL || 'http://localhost:56150';
const BOT_URL = process.env.BOT_URL || 'http://127.0.0.1:3978/api/messages';
const ME = { id: 'user-id-0', name: 'Alex Wilber' }; // the Playground's current user
const QUESTION = 'Offsite venue?';
const tomorrow = new Date(Date.now() + 24 * 3600 * 1000).toISOString().slice(0, 10);

await runFlow('hidden', { width: 1280, height: 1200 }, async (page, seen, out) => {
  const cards = () => page.locator('.ac-adaptiveCard');
  const messages = () => page.getByRole('button', { name: 'Show more information', exact: true });
  await openChat(page, BASE, 'Group Chat');
  // `@Poll Bot poll` from Alex: sent to the bot directly, as Teams would with the @mention.
  await postToBot(BOT_URL, BASE, ME, 'poll');
  // By CSS, not by role: while a picker's popup is open, the rest of the page is hidden from the
  // accessibility tree, and a role-based locator would find no form at all.
  const form = cards().filter({ has: page.locator('button', { hasText: 'Post poll' }) }).first();
  await form.waitFor();
  const formElement = await form.elementHandle(); // once posted, the form has no button left to find it by
  // The toggle first: the first toggle change makes the renderer draw the card again, a moment
  // later, emptying every input. A placeholder question shows when that has happened.
  const question = form.getByRole('textbox', { name: 'Question' });
  await question.fill('…');
  await form.getByRole('checkbox', { name: /^Hide the results/ }).check();
  await page.waitForFunction((input) => input.value === '', await question.elementHandle());
  await question.fill(QUESTION);
  await form.getByRole('textbox', { name: /^Options, one per line/ }).fill('Lisbon\nPorto\nFaro');
  // Tab, not Enter: leaving the field makes the picker read the typed date; Enter would open its popup.
  const date = form.getByPlaceholder('Select a date...');
  await date.fill(tomorrow);
  await date.press('Tab');
  await form.locator('[placeholder="Select a date..."][aria-expanded="false"]').waitFor();
  await form.getByPlaceholder('Select a time...').fill('17:00');
  await page.keyboard.press('Escape');
  const values = await formElement.evaluate((e) => [...e.querySelectorAll('input, textarea')].map((i) => i.value));
  if (!values.includes(QUESTION) || values.includes('')) throw new Error(`form not filled: ${values}`);
  await form.locator('button', { hasText: 'Post poll' }).click();
  await page.waitForFunction((element) => element.innerText.includes('✅ Poll posted'), formElement);

  const porto = page.getByRole('button', { name: 'Porto', exact: true });
  const card = cards().filter({ hasText: QUESTION }).filter({ has: porto }).first();
  await card.waitFor();
  seen.sharedText = await card.innerText();
  seen.cardsBefore = await cards().count();
  seen.messagesBefore = await messages().count();
  const element = await card.elementHandle();
  // Every state the card element goes through: Alex's own view (the invoke's answer), then the
  // shared card's update, which the Playground never refreshes back to a personal view.
  await card.evaluate((el) => {
    window.cardStates = [];
    new MutationObserver(() => window.cardStates.push(el.innerText))
      .observe(el, { subtree: true, childList: true, characterData: true });
  });

  await card.getByRole('button', { name: 'Porto', exact: true }).click();
  await page.waitForFunction(() => window.cardStates.some((text) => text.includes('✓ Your vote')));
  seen.sameElement = await element.evaluate((e) => e.isConnected);
  seen.ownView = await page.evaluate(() => window.cardStates.find((text) => text.includes('✓ Your vote')));
  seen.cardsAfter = await cards().count();
  seen.messagesAfter = await messages().count();
  seen.closesOn = tomorrow;
  seen.timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone; // the browser's, which the Playground sends
  await card.screenshot({ path: path.join(out, 'hidden-poll-own-view.png') });
});
