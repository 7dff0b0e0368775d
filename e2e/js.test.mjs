// JS commands written in Rust (`cinder::js::JS`), run by the official
// client on /kanban: show and hide with transitions, focus moved and
// restored, toggle with an attribute, a class toggled that survives server
// patches, a dispatched DOM event, and pushes with values.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { start, recordFrames, until } from "./harness.mjs";
import { WAIT, openBoard, cards, title, waitForColumn, watchFlashes } from "./kanban-page.mjs";

let app;
before(async () => {
  app = await start();
});
after(async () => {
  await app?.stop();
});

async function visible(page, selector) {
  return page.$eval(selector, (element) => element.checkVisibility());
}

async function waitForVisible(page, selector, shown) {
  await page.waitForFunction(
    ([selector, shown]) => document.querySelector(selector).checkVisibility() === shown,
    [selector, shown],
    WAIT,
  );
}

async function focused(page) {
  return page.evaluate(() => document.activeElement?.id);
}

test("the commands render as escaped JSON in the dead render", async () => {
  const html = await (await fetch(`${app.base}/kanban`)).text();
  assert.match(
    html,
    /phx-click="\[\[&quot;push&quot;,\{&quot;event&quot;:&quot;add&quot;,&quot;value&quot;:\{&quot;to&quot;:&quot;todo&quot;\}\}\]\]"/,
  );
  assert.match(html, /phx-click="\[\[&quot;toggle_class&quot;,\{&quot;names&quot;:\[&quot;starred&quot;\],&quot;to&quot;:\{&quot;closest&quot;:&quot;.card&quot;\}\}\]\]"/);
});

test("show with a transition opens the panel and focuses its field; submit pushes and hides; focus comes back", async () => {
  const page = await openBoard(app);
  assert.equal(await visible(page, "#new-card"), false);
  await page.click("#new-card-toggle");
  await waitForVisible(page, "#new-card", true);
  assert.equal(await page.getAttribute("#new-card-toggle", "aria-expanded"), "true");
  await page.waitForFunction(() => document.activeElement?.id === "new-card-title", null, WAIT);

  const before = await cards(page, "done");
  await page.keyboard.type("Ship the JS commands");
  await page.selectOption("#new-card-column", "done");
  await page.click("#new-card-add");
  await waitForVisible(page, "#new-card", false);
  await page.waitForFunction(
    (count) => document.querySelectorAll("#column-done > .card").length === count,
    before.length + 1,
    WAIT,
  );
  const added = (await cards(page, "done")).at(-1);
  assert.equal(await title(page, added), "Ship the JS commands");
  assert.equal(await page.getAttribute("#new-card-toggle", "aria-expanded"), "false");
  // pop_focus returned focus to the button that opened the panel.
  assert.equal(await focused(page), "new-card-toggle");
  await page.context().close();
});

test("the panel's Cancel hides it without a push", async () => {
  const page = await app.page();
  const frames = recordFrames(page);
  await page.goto(`${app.base}/kanban`);
  await page.waitForSelector("#column-todo[data-sortable=ready]", WAIT);
  await page.click("#new-card-toggle");
  await waitForVisible(page, "#new-card", true);
  await page.click("#new-card-cancel");
  await waitForVisible(page, "#new-card", false);
  assert.equal(await focused(page), "new-card-toggle");
  const pushed = frames.filter((frame) => frame.direction === "sent" && frame.event === "event");
  assert.deepEqual(pushed, [], "client-only commands send nothing");
  await page.context().close();
});

test("an empty title is refused by the server with a message", async () => {
  const page = await openBoard(app);
  await page.click("#new-card-toggle");
  await waitForVisible(page, "#new-card", true);
  await page.click("#new-card-add");
  await page.waitForSelector("#board-error", WAIT);
  assert.equal((await page.textContent("#board-error")).trim(), "The card was not added: write a title for the card first.");
  await page.context().close();
});

test("toggle shows and hides the help and flips aria-expanded", async () => {
  const page = await openBoard(app);
  assert.equal(await visible(page, "#kanban-help"), false);
  await page.click("#help-toggle");
  await waitForVisible(page, "#kanban-help", true);
  assert.equal(await page.getAttribute("#help-toggle", "aria-expanded"), "true");
  await page.click("#help-toggle");
  await waitForVisible(page, "#kanban-help", false);
  assert.equal(await page.getAttribute("#help-toggle", "aria-expanded"), "false");
  await page.context().close();
});

test("a push with a value adds a card to that column, in every tab", async () => {
  const page = await app.page();
  const frames = recordFrames(page);
  await page.goto(`${app.base}/kanban`);
  await page.waitForSelector("#column-doing[data-sortable=ready]", WAIT);
  const other = await openBoard(app);
  const doing = await cards(page, "doing");
  await page.click('#column-doing >> xpath=.. >> button.quick-add');
  const sent = await until(
    () => frames.find((frame) => frame.direction === "sent" && frame.event === "event" && frame.payload.event === "add"),
    "the add event",
  );
  assert.equal(sent.payload.type, "click");
  assert.equal(sent.payload.value.to, "doing");
  await page.waitForFunction((count) => document.querySelectorAll("#column-doing > .card").length === count, doing.length + 1, WAIT);
  const added = (await cards(page, "doing")).at(-1);
  assert.equal(await title(page, added), `Card ${added.replace("card-", "")}`);
  await waitForColumn(other, "doing", [...doing, added]);
  await page.context().close();
  await other.context().close();
});

test("a class toggled by a command stays on through server patches", async () => {
  const page = await openBoard(app);
  const [card] = await cards(page, "todo");
  await page.click(`#${card} .star`);
  await page.waitForSelector(`#${card}.starred`, WAIT);
  // Another change re-renders the column the card is in.
  const todo = await cards(page, "todo");
  await page.click('#column-todo >> xpath=.. >> button.quick-add');
  await page.waitForFunction((count) => document.querySelectorAll("#column-todo > .card").length === count, todo.length + 1, WAIT);
  assert.equal(await page.$eval(`#${card}`, (element) => element.classList.contains("starred")), true);
  await page.click(`#${card} .star`);
  await page.waitForFunction((card) => !document.getElementById(card).classList.contains("starred"), card, WAIT);
  await page.context().close();
});

test("dispatch sends a DOM event that the hook answers", async () => {
  const page = await openBoard(app);
  await watchFlashes(page);
  const [card] = await cards(page, "done");
  const detail = page.evaluate(
    (card) =>
      new Promise((resolve) =>
        document.getElementById(card).addEventListener("kanban:flash", (event) => resolve(event.detail.dispatcher?.className), {
          once: true,
        }),
      ),
    card,
  );
  await page.click(`#${card} .flag`);
  assert.equal(await detail, "flag", "the event carries the element that dispatched it");
  await page.waitForFunction((card) => window.flashed.includes(card), card, WAIT);
  await page.context().close();
});
