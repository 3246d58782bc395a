// Universal Actions in Agents Playground's group chat. Megan posts a poll (sent to the bot directly:
// the Playground acts as one user). The current user, Alex, clicks an option: the Playground sends an
// adaptiveCard/action invoke and puts the card in the bot's answer, Alex's own view, in place.
// (tests/test_e2e_playground.py then asks for other members' views as Teams' refresh would.)
//   PLAYGROUND_URL=http://localhost:56150 BOT_URL=http://127.0.0.1:3978/api/messages node universal_flow.mjs
import { openChat, postToBot, runFlow } from './browser.mjs';
import path from 'node:path';

const BASE = process.env.PLAYGROUND_URL || 'http://localhost:56150';
const BOT_URL = process.env.BOT_URL || 'http://127.0.0.1:3978/api/messages';
const MEGAN = { id: 'user-id-1', name: 'Megan Bowen' };
const QUESTION = 'Team lunch on Friday?';
const LONG_OPTION = 'Deep dive on the new customer onboarding flow and what it means for support';

await runFlow('universal', { width: 1280, height: 1000 }, async (page, seen, out) => {
  const cards = () => page.locator('.ac-adaptiveCard');
  const messages = () => page.getByRole('button', { name: 'Show more information', exact: true });
  await openChat(page, BASE, 'Group Chat');
  await postToBot(BOT_URL, BASE, MEGAN, `poll ${QUESTION} | Pizza | Sushi | ${LONG_OPTION}`);

  const card = cards().filter({ hasText: QUESTION }).first();
  await card.getByRole('button', { name: 'Sushi', exact: true }).waitFor();
  seen.cardsBefore = await cards().count();
  seen.messagesBefore = await messages().count();
  seen.sharedText = await card.innerText();
  // Every state the card element goes through from the click on: the answer's view arrives, then
  // the shared card's update (the Playground never refreshes it back to a personal view).
  await card.evaluate((element) => {
    window.cardStates = [element.innerText];
    new MutationObserver(() => window.cardStates.push(element.innerText))
      .observe(element, { subtree: true, childList: true, characterData: true });
  });
  const element = await card.elementHandle();
  await card.screenshot({ path: path.join(out, 'universal-shared.png') });

  await card.getByRole('button', { name: 'Sushi', exact: true }).click();
  await card.getByText(/^1 of \d+ members voted$/).waitFor(); // the Playground's group chat has a roster
  await page.waitForFunction(() => window.cardStates.some((text) => text.includes('✓ Your vote')));
  seen.sameElement = await element.evaluate((e) => e.isConnected);
  seen.ownView = await page.evaluate(() => window.cardStates.find((text) => text.includes('✓ Your vote')));
  seen.cardsAfter = await cards().count();
  seen.messagesAfter = await messages().count();
  await card.screenshot({ path: path.join(out, 'universal-voted.png') });
});
