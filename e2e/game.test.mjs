// /game: window key events (one binding filtered by phx-key) and a server
// tick, with a seed that makes the game the same on every run.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { start, connected, recordFrames } from "./harness.mjs";

const WAIT = { timeout: 15_000 };
/// A tick so slow that the coin stays put during a test.
const STILL = "tick=60000";

let app;
before(async () => {
  app = await start();
});
after(async () => {
  await app?.stop();
});

async function openGame(query) {
  const page = await app.page();
  await page.goto(`${app.base}/game?${query}`);
  await connected(page);
  return page;
}

async function cell(page, which) {
  const [x, y] = (await page.getAttribute("#grid", `data-${which}`)).split(",").map(Number);
  return { x, y };
}

async function text(page, selector) {
  return (await page.textContent(selector)).trim();
}

/// Presses `key` and waits until the player stands at `expected`.
async function pressAndWait(page, key, expected) {
  await page.keyboard.press(key);
  await page.waitForFunction(
    (value) => document.querySelector("#grid").dataset.player === value,
    `${expected.x},${expected.y}`,
    WAIT,
  );
}

test("the dead render shows the grid, and bad parameters get a 400 that says why", async () => {
  const html = await (await fetch(`${app.base}/game?seed=1&${STILL}`)).text();
  assert.match(html, /data-player="5,5"/);
  assert.match(html, /<span class="cell player"><\/span>/);
  const tooFast = await fetch(`${app.base}/game?tick=1`);
  assert.equal(tooFast.status, 400);
  assert.match(await tooFast.text(), /\?tick= takes a period in milliseconds from 50 to 60000/);
  const badSeed = await fetch(`${app.base}/game?seed=abc`);
  assert.equal(badSeed.status, 400);
});

test("arrow keys and WASD move the player; other keys do nothing", async () => {
  const page = await openGame(`seed=1&${STILL}`);
  assert.deepEqual(await cell(page, "player"), { x: 5, y: 5 });
  await pressAndWait(page, "ArrowRight", { x: 6, y: 5 });
  await pressAndWait(page, "ArrowDown", { x: 6, y: 6 });
  await pressAndWait(page, "a", { x: 5, y: 6 });
  await pressAndWait(page, "w", { x: 5, y: 5 });
  await page.keyboard.press("x");
  await pressAndWait(page, "ArrowUp", { x: 5, y: 4 });
  assert.equal(await page.$$eval(".cell.player", (cells) => cells.length), 1);
  await page.context().close();
});

test("reaching the coin scores a point and a new coin appears", async () => {
  const page = await openGame(`seed=42&${STILL}`);
  assert.equal(await text(page, "#score"), "0");
  const coin = await cell(page, "coin");
  let player = await cell(page, "player");
  while (player.x !== coin.x || player.y !== coin.y) {
    let key;
    if (player.x < coin.x) [key, player] = ["ArrowRight", { x: player.x + 1, y: player.y }];
    else if (player.x > coin.x) [key, player] = ["ArrowLeft", { x: player.x - 1, y: player.y }];
    else if (player.y < coin.y) [key, player] = ["ArrowDown", { x: player.x, y: player.y + 1 }];
    else [key, player] = ["ArrowUp", { x: player.x, y: player.y - 1 }];
    await pressAndWait(page, key, player);
  }
  await page.waitForFunction(() => document.querySelector("#score").textContent.trim() === "1", null, WAIT);
  assert.notDeepEqual(await cell(page, "coin"), coin);
  await page.context().close();
});

test("the server's tick counts and moves the coin", async () => {
  const page = await openGame("seed=7&tick=100");
  const seen = [await cell(page, "coin")];
  await page.waitForFunction(() => Number(document.querySelector("#ticks").textContent) >= 5, null, WAIT);
  // Sample the coin over a few ticks: it moves.
  for (let i = 0; i < 3; i += 1) {
    const ticks = Number(await text(page, "#ticks"));
    await page.waitForFunction((ticks) => Number(document.querySelector("#ticks").textContent) > ticks, ticks, WAIT);
    seen.push(await cell(page, "coin"));
  }
  assert.ok(
    seen.slice(1).some((coin) => coin.x !== seen[0].x || coin.y !== seen[0].y),
    `the coin moved: ${JSON.stringify(seen)}`,
  );
  await page.context().close();
});

test("P pauses and resumes; the phx-key filter sends only that key to the pause binding", async () => {
  const page = await app.page();
  const frames = recordFrames(page);
  await page.goto(`${app.base}/game?seed=3&tick=100`);
  await connected(page);
  await page.waitForFunction(() => Number(document.querySelector("#ticks").textContent) >= 2, null, WAIT);
  await page.keyboard.press("ArrowLeft");
  await page.keyboard.press("p");
  await page.waitForFunction(() => document.querySelector("#state").textContent === "paused", null, WAIT);
  const paused = await text(page, "#ticks");
  await page.waitForTimeout(500);
  assert.equal(await text(page, "#ticks"), paused, "no tick counts while paused");
  await page.keyboard.press("p");
  await page.waitForFunction(() => document.querySelector("#state").textContent === "running", null, WAIT);
  await page.waitForFunction((paused) => Number(document.querySelector("#ticks").textContent) > Number(paused), paused, WAIT);

  const sent = frames.filter((frame) => frame.direction === "sent" && frame.event === "event");
  const pauses = sent.filter((frame) => frame.payload.event === "pause");
  assert.equal(pauses.length, 2, "one pause event per press of P");
  assert.ok(pauses.every((frame) => frame.payload.type === "keydown" && frame.payload.value.key === "p"));
  const keys = sent.filter((frame) => frame.payload.event === "key").map((frame) => frame.payload.value.key);
  assert.deepEqual(keys, ["ArrowLeft", "p", "p"], "the unfiltered binding gets every key");
  await page.context().close();
});

test("restart starts the same game again", async () => {
  const page = await openGame(`seed=9&${STILL}`);
  const coin = await cell(page, "coin");
  await pressAndWait(page, "ArrowRight", { x: 6, y: 5 });
  await page.click("#restart");
  await page.waitForFunction(() => document.querySelector("#grid").dataset.player === "5,5", null, WAIT);
  assert.deepEqual(await cell(page, "coin"), coin);
  await page.context().close();
});
