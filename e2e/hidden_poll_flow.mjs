// Issue 11 in Agents Playground's group chat: the current user, Alex, posts a poll with hidden
// results and a closing time (`poll --hidden --closes=2h ...`) and votes by clicking an option.
// Alex created the poll, so Alex's own view shows the tallies; tests/test_e2e_playground.py then
// asks for another member's view, which must not.
//   PLAYGROUND_URL=http://localhost:56150 BOT_URL=http://127.0.0.1:3978/api/messages node hidden_poll_flow.mjs
import { postToBot, runFlow } from './browser.mjs';
import path from 'node:path';

const BASE = process.env.PLAYGROUND_URL || 'http://localhost:56150';
const BOT_URL = process.env.BOT_URL || 'http://127.0.0.1:3978/api/messages';
const ME = { id: 'user-id-0', name: 'Alex Wilber' }; // the Playground's current user
const QUESTION = 'Offsite venue?';

await runFlow('hidden', { width: 1280, height: 1200 }, async (page, seen, out) => {
  const cards = () => page.locator('.ac-adaptiveCard');
  const messages = () => page.getByRole('button', { name: 'Show more information', exact: true });
  await page.goto(BASE + '/');
  await page.getByRole('treeitem', { name: 'Group Chat', exact: true }).click();
  await page.getByText('Connected.', { exact: true }).first().waitFor();
  // `@Poll Bot poll ...` from Alex: sent to the bot directly, as Teams would with the @mention.
  await postToBot(BOT_URL, BASE, ME, `poll --hidden --closes=2h ${QUESTION} | Lisbon | Porto | Faro`);

  const card = cards().filter({ hasText: QUESTION }).first();
  await card.getByRole('button', { name: 'Porto', exact: true }).waitFor();
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
  await card.screenshot({ path: path.join(out, 'hidden-poll-own-view.png') });
});
