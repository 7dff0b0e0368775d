// Helpers for the showcase's /kanban page, shared by the tests that drive it.
import { connected } from "./harness.mjs";

export const WAIT = { timeout: 15_000 };

/// Opens /kanban in a page of its own and waits until its columns can drag.
export async function openBoard(app) {
  const page = await app.page();
  await page.goto(`${app.base}/kanban`);
  await connected(page);
  await page.waitForSelector("#column-todo[data-sortable=ready]", WAIT);
  await page.waitForSelector("#column-done[data-sortable=ready]", WAIT);
  return page;
}

/// The ids of the cards of `column` (`todo`, `doing`, `done`), in order.
export async function cards(page, column) {
  return page.$$eval(`#column-${column} > .card`, (items) => items.map((item) => item.id));
}

/// The card's title.
export async function title(page, card) {
  return (await page.textContent(`#${card} .title`)).trim();
}

/// Waits until `column` shows exactly `expected` (card ids, in order).
export async function waitForColumn(page, column, expected) {
  await page.waitForFunction(
    ([column, expected]) =>
      JSON.stringify([...document.querySelectorAll(`#column-${column} > .card`)].map((item) => item.id)) ===
      JSON.stringify(expected),
    [column, expected],
    WAIT,
  );
}

/// Drags `card` with the mouse and drops it on `column`: above the card
/// `before` when given, else below the column's last card.
export async function drag(page, card, column, before) {
  const from = await page.locator(`#${card} .title`).boundingBox();
  let to;
  if (before) {
    const box = await page.locator(`#${before}`).boundingBox();
    to = { x: box.x + box.width / 2, y: box.y + 4 };
  } else {
    const box = await page.locator(`#column-${column}`).boundingBox();
    // Below the last card: the list keeps room there to drop on.
    to = { x: box.x + box.width / 2, y: box.y + box.height - 12 };
  }
  const start = { x: from.x + 10, y: from.y + from.height / 2 };
  await page.mouse.move(start.x, start.y);
  await page.mouse.down();
  const steps = 20;
  for (let step = 1; step <= steps; step += 1) {
    await page.mouse.move(start.x + ((to.x - start.x) * step) / steps, start.y + ((to.y - start.y) * step) / steps);
    await page.waitForTimeout(15);
  }
  // A last nudge at the drop point, so the library settles the position.
  await page.mouse.move(to.x, to.y + 1);
  await page.waitForTimeout(50);
  await page.mouse.up();
}

/// Records, in the page, each time a card gets the class `flash`, in
/// `window.flashed` (card ids).
export async function watchFlashes(page) {
  await page.evaluate(() => {
    window.flashed = [];
    new MutationObserver((records) => {
      for (const record of records) {
        const element = record.target;
        if (element.classList?.contains("card") && element.classList.contains("flash")) {
          if (window.flashed.at(-1) !== element.id) window.flashed.push(element.id);
        }
      }
    }).observe(document.querySelector("#kanban"), { attributes: true, attributeFilter: ["class"], subtree: true });
  });
}
