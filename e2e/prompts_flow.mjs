// Drives the quick replies (Teams suggested actions) of Agents Playground's personal chat: the welcome,
// the answer to a message that is not a command, "New poll" opening the form, and a vote by tapping
// a poll's option under its card. Prints one JSON line with what it saw; exits non-zero on failure.
//   PLAYGROUND_URL=http://localhost:56150 OUT_DIR=artifacts node prompts_flow.mjs
//
// How the Playground (0.2.28) renders a message's suggested actions: a row of plain <button>s (no
// aria-label, not Fluent's .fui-Button) in a <div> placed right after the last message of the list,
// outside every message; only the newest message's actions are shown, and they are gone once one
// is clicked or the user sends anything. A click sends the action's title as the user's message.
import { openChat, openPage } from './browser.mjs';
import fs from 'node:fs';
import path from 'node:path';

const BASE = process.env.PLAYGROUND_URL || 'http://localhost:56150';
const OUT = process.env.OUT_DIR || 'artifacts';
const QUESTION = 'Lunch on Friday?';
const WELCOME = "I'm Poll Bot";
const NOT_UNDERSTOOD = "I didn't catch that.";
const OFFER = `Tap an option to vote: ${QUESTION}`;
fs.mkdirSync(OUT, { recursive: true });

const { browser, page } = await openPage({ width: 1280, height: 900 });

const cards = () => page.locator('.ac-adaptiveCard');
const texts = () => page.locator('.fai-OutputCard'); // the bot's text messages (not the log panel)
const messages = () => page.getByRole('button', { name: 'Show more information', exact: true }); // one a message
const SUGGESTED = 'button:not(.fui-Button):not([aria-label])'; // Fluent buttons and the sidebar's are labelled
const suggested = () => page.locator(SUGGESTED);
const suggestion = (title) => suggested().filter({ hasText: new RegExp(`^${title}$`) });
const seen = {};

/** The text of each message in the chat, oldest first (user messages have no class or role to find them by:
 *  a message is the child of the list holding every "Message header", and the log panel has none). */
async function messageTexts() {
  return page.locator('[aria-label="Message header"]').first().evaluate((header) => {
    const headers = [...document.querySelectorAll('[aria-label="Message header"]')];
    let row = header;
    while (row.parentElement && !headers.every((h) => row.parentElement.contains(h))) row = row.parentElement;
    return [...row.parentElement.children].filter((c) => c.querySelector('[aria-label="Message header"]'))
      .map((c) => c.innerText.trim());
  });
}

/** Waits until suggested actions are shown right under the message that contains `text`; their titles. */
async function actionsUnder(text) {
  await page.waitForFunction(([selector, wanted]) => {
    const first = document.querySelector(selector);
    const message = first?.parentElement?.previousElementSibling;
    return Boolean(message && message.innerText.includes(wanted));
  }, [SUGGESTED, text]);
  return suggested().allInnerTexts();
}

try {
  await openChat(page, BASE, 'Personal Chat');

  // The Playground sends installationUpdate add on load: the bot says hello once, with the menu.
  await texts().filter({ hasText: WELCOME }).first().waitFor();
  seen.welcomeActions = await actionsUnder(WELCOME);

  const box = page.locator('div[role="textbox"][contenteditable="true"]'); // the compose box
  await box.click();
  await box.pressSequentially('hello');
  await page.getByRole('button', { name: 'Send Message', exact: true }).click();
  const answer = texts().filter({ hasText: NOT_UNDERSTOOD });
  await answer.first().waitFor();
  seen.answerText = await answer.first().innerText();
  seen.answerActions = await actionsUnder(NOT_UNDERSTOOD);
  seen.answers = await answer.count();
  seen.welcomes = await texts().filter({ hasText: WELCOME }).count();
  seen.welcomeText = await texts().filter({ hasText: WELCOME }).first().innerText();
  await page.screenshot({ path: path.join(OUT, 'prompts-answer.png') });

  seen.messagesBeforeNewPoll = await messages().count();
  seen.cardsBeforeNewPoll = await cards().count();
  await suggestion('New poll').click();
  await cards().filter({ has: page.getByRole('button', { name: 'Post poll', exact: true }) }).waitFor();
  // By place (it is the only new card): once posted, the form has no button left to find it by.
  const form = cards().nth(seen.cardsBeforeNewPoll);
  seen.formText = await form.innerText();
  seen.actionsAfterNewPoll = await suggested().allInnerTexts();
  seen.cardsAfterNewPoll = await cards().count();
  seen.messagesAfterNewPoll = await messages().count(); // the user's "New poll" and the form
  seen.sentByNewPoll = (await messageTexts()).at(-2);

  // Post a poll from that form: the card, then a text whose quick replies are its options.
  await form.getByRole('textbox', { name: 'Question' }).fill(QUESTION);
  await form.getByRole('textbox', { name: /^Options, one per line/ }).fill('Pizza\nSushi\nTacos');
  await form.getByRole('button', { name: 'Post poll', exact: true }).click();
  await form.getByText('✅ Poll posted', { exact: true }).waitFor();
  const card = cards().filter({ hasText: QUESTION }).filter({ has: page.getByRole('button', { name: 'Close poll' }) });
  await card.waitFor();
  await texts().filter({ hasText: OFFER }).waitFor();
  seen.pollActions = await actionsUnder(OFFER);
  seen.cardsBeforeVote = await cards().count();
  seen.messagesBeforeVote = await messages().count();
  const element = await card.elementHandle();
  await page.screenshot({ path: path.join(OUT, 'prompts-poll.png') });

  await suggestion('Pizza').click();
  await card.getByText('1 person voted', { exact: true }).waitFor();
  await texts().filter({ hasText: 'Your vote: Pizza.' }).waitFor(); // the one-line confirmation
  seen.sameElementAfterVote = await element.evaluate((e) => e.isConnected);
  seen.cardTextAfterVote = await card.innerText();
  seen.cardsAfterVote = await cards().count();
  seen.messagesAfterVote = await messages().count(); // the user's "Pizza" and the confirmation
  seen.tapAfterVote = (await messageTexts()).at(-2);
  seen.lastMessageAfterVote = (await messageTexts()).at(-1);
  seen.actionsAfterVote = await suggested().allInnerTexts();
  await page.screenshot({ path: path.join(OUT, 'prompts-voted.png') });
  seen.ok = true;
} catch (error) {
  seen.ok = false;
  seen.error = error.message;
  await page.screenshot({ path: path.join(OUT, 'prompts-failure.png'), fullPage: true }).catch(() => {});
} finally {
  await browser.close();
}
console.log(JSON.stringify(seen));
process.exit(seen.ok ? 0 : 1);
