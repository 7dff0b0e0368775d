// /kanban: drag and drop through a JS hook around SortableJS, the hook's
// pushEvent and its reply, push_event to the hook, and one board shared by
// every tab through a server process and PubSub.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { start, recordFrames, until, replyTo } from "./harness.mjs";
import { WAIT, openBoard, cards, title, waitForColumn, drag, watchFlashes } from "./kanban-page.mjs";

let app;
before(async () => {
  app = await start();
});
after(async () => {
  await app?.stop();
});

test("the dead render shows the board and the hooks module loads", async () => {
  const response = await fetch(`${app.base}/kanban`);
  assert.equal(response.status, 200);
  const html = await response.text();
  assert.match(html, /import hooks from "\/showcase\/hooks.js";/);
  for (const column of ["todo", "doing", "done"]) {
    assert.match(html, new RegExp(`<ul id="column-${column}" class="cards" phx-hook="Kanban" data-column="${column}">`));
  }
  const hooks = await fetch(`${app.base}/showcase/hooks.js`);
  assert.equal(hooks.status, 200);
  assert.match(hooks.headers.get("content-type"), /text\/javascript/);
  const sortable = await fetch(`${app.base}/showcase/sortable.esm.js`);
  assert.equal(sortable.status, 200);
  assert.match(await sortable.text(), /export default Sortable/);
});

test("a card dragged in one tab moves in the other tab and stays after a reload", async () => {
  const ann = await openBoard(app);
  const bob = await openBoard(app);
  const [card] = await cards(ann, "todo");
  const name = await title(ann, card);
  const todo = (await cards(ann, "todo")).filter((id) => id !== card);
  const doing = [...(await cards(ann, "doing")), card];

  await drag(ann, card, "doing");
  await waitForColumn(ann, "doing", doing);
  await waitForColumn(bob, "doing", doing);
  await waitForColumn(bob, "todo", todo);
  assert.equal(await title(bob, card), name);

  await bob.reload();
  await waitForColumn(bob, "doing", doing);
  await waitForColumn(bob, "todo", todo);
  await ann.context().close();
  await bob.context().close();
});

test("the hook's pushEvent gets the server's reply, and push_event reaches its handleEvent", async () => {
  const page = await (async () => {
    const page = await app.page();
    const frames = recordFrames(page);
    page.frames = frames;
    return page;
  })();
  await page.goto(`${app.base}/kanban`);
  await page.waitForSelector("#column-done[data-sortable=ready]", WAIT);
  await watchFlashes(page);
  const done = await cards(page, "done");
  const [card] = await cards(page, "doing");
  const name = await title(page, card);

  // To the top of Done.
  await drag(page, card, "done", done[0]);
  await waitForColumn(page, "done", [card, ...done]);

  const move = await until(
    () => page.frames.find((frame) => frame.direction === "sent" && frame.event === "event" && frame.payload.event === "move"),
    "the hook's move event",
  );
  assert.equal(move.payload.type, "hook");
  assert.deepEqual(move.payload.value, { card: card.replace("card-", ""), to: "done", index: 0 });
  const reply = await until(() => replyTo(page.frames, move), "the reply to the move");
  assert.equal(reply.payload.status, "ok");
  assert.deepEqual(reply.payload.response.diff.r, {
    ok: true,
    card: Number(card.replace("card-", "")),
    title: name,
    column: "done",
    column_title: "Done",
    index: 0,
  });
  // The hook's reply callback shows where the card went.
  await page.waitForFunction(
    (text) => document.querySelector("#kanban-status").textContent === text,
    `Moved “${name}” to Done, position 1.`,
    WAIT,
  );
  // push_event("card-moved") came with the reply; the hook flashed the card.
  assert.deepEqual(reply.payload.response.diff.e, [["card-moved", { card: Number(card.replace("card-", "")) }]]);
  await page.waitForFunction((card) => window.flashed.includes(card), card, WAIT);
  await page.context().close();
});

test("a card dragged within a column changes its place there", async () => {
  const page = await openBoard(app);
  const other = await openBoard(app);
  const todo = await cards(page, "todo");
  assert.ok(todo.length >= 2, `Todo has at least two cards: ${todo}`);
  const last = todo.at(-1);
  await drag(page, last, "todo", todo[0]);
  const expected = [last, ...todo.slice(0, -1)];
  await waitForColumn(page, "todo", expected);
  await waitForColumn(other, "todo", expected);
  await page.context().close();
  await other.context().close();
});

test("only the tab that moved a card flashes it", async () => {
  const mover = await openBoard(app);
  const watcher = await openBoard(app);
  await watchFlashes(mover);
  await watchFlashes(watcher);
  const [card] = await cards(mover, "done");
  const todo = [...(await cards(mover, "todo")), card];
  await drag(mover, card, "todo");
  await waitForColumn(watcher, "todo", todo);
  await mover.waitForFunction((card) => window.flashed.includes(card), card, WAIT);
  assert.deepEqual(await watcher.evaluate(() => window.flashed), []);
  await mover.context().close();
  await watcher.context().close();
});
