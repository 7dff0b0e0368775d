// /feed: infinite scroll on a stream through the official client in Chromium.
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

/// Scrolls down to the bottom every 300 ms until `read()` in the page
/// returns `expected` (the client throttles viewport events to one per
/// 500 ms).
async function scrollUntil(page, read, expected) {
  const deadline = Date.now() + 30_000;
  while ((await page.evaluate(read)) !== expected) {
    if (Date.now() > deadline) throw new Error(`scrolled for 30 s without reaching ${expected}`);
    // Up a little, then down to the bottom: the client only loads more on
    // a scroll downwards, and pruning the oldest posts can leave the page
    // already at its bottom.
    await page.evaluate(() => window.scrollBy(0, -window.innerHeight));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const ids = (page) => page.$$eval("#posts > li", (els) => els.map((el) => el.id));

test("scrolling to the bottom loads more posts, and the limit prunes the oldest", async () => {
  const page = await app.page();
  const frames = recordFrames(page);
  await page.setViewportSize({ width: 800, height: 600 });
  await page.goto(`${app.base}/feed`);
  await connected(page);
  assert.equal((await ids(page)).length, 20);
  for (let loaded = 40; loaded <= 100; loaded += 20) {
    // The client throttles viewport events (500 ms): keep scrolling down
    // until the next page has arrived.
    await scrollUntil(page, () => document.querySelector("#sent").textContent, String(loaded));
  }
  await page.waitForFunction(() => document.querySelector("#posts > li:last-child").id === "posts-100");
  const shown = await ids(page);
  // 100 posts were sent; the browser keeps the newest 60, in order.
  assert.equal(shown.length, 60);
  assert.equal(shown[0], "posts-41");
  assert.equal(shown.at(-1), "posts-100");
  // Each page was sent once, as a stream insert, never the posts before it.
  const pushes = frames.filter((f) => f.event === "phx_reply" && f.payload.response?.diff);
  for (const reply of pushes) {
    const text = JSON.stringify(reply.payload.response.diff);
    assert.ok(text.includes('"stream"'), text.slice(0, 200));
    assert.ok(text.length < 20 * 400, `a page's diff is small: ${text.length} bytes`);
  }
  await assertHealthy(page);
  await page.context().close();
});

test("publishing prepends a post, and deleting removes it", async () => {
  const page = await app.page();
  await page.goto(`${app.base}/feed`);
  await connected(page);
  await page.click("#publish");
  await page.waitForFunction(() => document.querySelector("#posts > li").id === "posts-1000001");
  assert.equal((await ids(page)).length, 21);
  await page.click("#posts-1000001 .delete");
  await page.waitForSelector("#posts-1000001", { state: "detached" });
  await page.click("#posts-3 .delete");
  await page.waitForSelector("#posts-3", { state: "detached" });
  const shown = await ids(page);
  assert.equal(shown.length, 19);
  assert.equal(shown[0], "posts-1");
  await assertHealthy(page);
  await page.context().close();
});

test("statistics load in the background: loading first, then the value, or the failure", async () => {
  const page = await app.page();
  await page.goto(`${app.base}/feed`);
  // The dead render and the join show the loading state.
  assert.match(await page.textContent("#stats"), /Loading statistics/);
  await connected(page);
  await page.waitForSelector("#stats .loaded");
  assert.match(await page.textContent("#stats .loaded"), /readers today/);
  await page.click("#break-stats");
  await page.waitForSelector("#stats .loading");
  await page.waitForSelector("#stats .error");
  assert.match(await page.textContent("#stats .error"), /the statistics service is down/);
  // The view lived through the failed task: the feed still works.
  await page.click("#publish");
  await page.waitForFunction(() => document.querySelector("#posts > li").id === "posts-1000001");
  await page.click("#reload-stats");
  await page.waitForSelector("#stats .loaded");
  await assertHealthy(page);
  await page.context().close();
});
