// Drives Agents Playground's personal chat like a user: create a poll, vote on the card, close.
// Options and buttons are Action.Execute: a click sends an adaptiveCard/action invoke and the
// Playground puts the card in the bot's answer (the voter's own view) in place of the old one.
// Prints one JSON line with what it saw; exits non-zero if a step could not be done.
//   PLAYGROUND_URL=http://localhost:56150 OUT_DIR=artifacts node poll_flow.mjs
import { openChat, openPage } from './browser.mjs';
import fs from 'node:fs';
import path from 'node:path';

const BASE = process.env.PLAYGROUND_URL || 'http://localhost:56150';
const OUT = process.env.OUT_DIR || 'artifacts';
const QUESTION = 'Lunch on Friday?';
const OFFER = `Tap an option to vote: ${QUESTION}`; // the text under a 1:1 poll, its options as quick replies
fs.mkdirSync(OUT, { recursive: true });

const { browser, page } = await openPage({ width: 1280, height: 900 });

const cards = () => page.locator('.ac-adaptiveCard');
const messages = () => page.getByRole('button', { name: 'Show more information', exact: true }); // one a message
const texts = () => page.locator('.fai-OutputCard'); // the bot's text messages (not the log panel)
// Suggested actions: plain buttons under the newest message (Fluent's buttons and the sidebar's are labelled).
const suggested = () => page.locator('button:not(.fui-Button):not([aria-label])');
const seen = {};
// What a person can press on a card: option rows (named by their aria-label) and buttons.
const pressable = (card) => card.getByRole('button').evaluateAll(
  (els) => els.map((e) => e.getAttribute('aria-label') || e.innerText.trim()));

try {
  await openChat(page, BASE, 'Personal Chat');
  await texts().filter({ hasText: "I'm Poll Bot" }).first().waitFor(); // the welcome, sent unasked: in before counting

  const box = page.locator('div[role="textbox"][contenteditable="true"]'); // the compose box
  await box.click();
  await box.pressSequentially(`poll ${QUESTION} | Pizza | Sushi | Tacos`);
  await page.getByRole('button', { name: 'Send Message', exact: true }).click();

  const card = cards().filter({ hasText: QUESTION }).first();
  await card.getByRole('button', { name: 'Pizza', exact: true }).waitFor();
  // The poll's last message is the quick-reply text: counting before it came would make the
  // "no new message after a vote" check below see it arrive.
  await texts().filter({ hasText: OFFER }).waitFor();
  await suggested().filter({ hasText: /^Tacos$/ }).waitFor();
  seen.offeredAfterPost = await suggested().allInnerTexts();
  seen.buttonsAfterPost = await pressable(card);
  seen.cardsAfterPost = await cards().count();
  seen.messagesAfterPost = await messages().count();
  const element = await card.elementHandle();

  await card.getByRole('button', { name: 'Pizza', exact: true }).click();
  await card.getByText('✓ Your vote').waitFor();
  await card.getByText('1 person voted', { exact: true }).waitFor();
  seen.sameElementAfterVote = await element.evaluate((e) => e.isConnected);
  seen.cardTextAfterVote = await card.innerText();
  seen.cardsAfterVote = await cards().count();
  seen.messagesAfterVote = await messages().count();
  await card.screenshot({ path: path.join(OUT, 'poll-card-open.png') });

  await card.getByRole('button', { name: 'Close poll', exact: true }).click();
  await card.getByRole('button', { name: 'Reopen poll', exact: true }).waitFor();
  seen.buttonsAfterClose = await pressable(card);
  seen.cardTextAfterClose = await card.innerText();
  seen.cardsAfterClose = await cards().count();
  await card.screenshot({ path: path.join(OUT, 'poll-card-closed.png') });
  seen.ok = true;
} catch (error) {
  seen.ok = false;
  seen.error = error.message;
  await page.screenshot({ path: path.join(OUT, 'failure.png'), fullPage: true }).catch(() => {});
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
process.exit(seen.ok ? 0 : 1);
