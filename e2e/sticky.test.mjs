// The sticky dock: a live view outside the main one that keeps its process
// and state across live navigation, through the official client.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { start, connected, recordFrames, assertHealthy } from "./harness.mjs";

let app;
before(async () => {
  app = await start();
});
after(async () => {
  await app?.stop();
});

test("the sticky dock keeps its state while live navigation replaces the main view", async () => {
  const page = await app.page();
  const frames = recordFrames(page);
  await page.goto(`${app.base}/components`);
  await connected(page);
  await page.waitForSelector("#dock.phx-connected");
  assert.equal(await page.getAttribute("#dock", "data-phx-parent-id"), null);
  // The client ignores a click on an element still awaiting the reply to
  // its last event: the second click waits for the first one's answer.
  await page.click("#dock-pin");
  await page.waitForFunction(() => document.querySelector("#dock-pins").textContent === "1");
  await page.click("#dock-pin");
  await page.waitForFunction(() => document.querySelector("#dock-pins").textContent === "2");
  await page.click('#dock a[href="/feed"]');
  await page.waitForSelector("#posts");
  await connected(page);
  assert.equal(new URL(page.url()).pathname, "/feed");
  // No page load: the dock's channel was joined once and never left.
  const dockJoins = frames.filter((f) => f.direction === "sent" && f.topic === "lv:dock" && f.event === "phx_join");
  assert.equal(dockJoins.length, 1);
  assert.equal(await page.textContent("#dock-pins"), "2");
  // The dock is fixed to the bottom of the window: clicking it scrolls
  // nothing, so the endless feed above it loads no more posts and does not
  // move it between Playwright's check and its mouse click.
  const eventsSent = frames.filter((f) => f.direction === "sent" && f.event === "event").length;
  await page.click("#dock-pin");
  await page.waitForFunction(() => document.querySelector("#dock-pins").textContent === "3");
  await page.click('#dock a[href="/components"]');
  await page.waitForSelector("#cards");
  // The pin was the only event since: nothing scrolled the feed into
  // loading more posts.
  assert.equal(frames.filter((f) => f.direction === "sent" && f.event === "event").length, eventsSent + 1);
  assert.equal(await page.textContent("#dock-pins"), "3");
  assert.equal(
    frames.filter((f) => f.direction === "sent" && f.topic === "lv:dock" && f.event === "phx_join").length,
    1,
  );
  await assertHealthy(page);
  await page.context().close();
});
