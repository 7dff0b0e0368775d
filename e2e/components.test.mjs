// /components: stateful components through the official client in Chromium.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { start, connected, recordFrames, until, assertHealthy } from "./harness.mjs";

let app;
before(async () => {
  app = await start();
});
after(async () => {
  await app?.stop();
});

const card = (n) => `#cards section.card:nth-of-type(${n})`;
const countOf = (page, n) => page.textContent(`${card(n)} .count`);

async function waitForCount(page, n, expected) {
  await page.waitForFunction(
    ([selector, expected]) => document.querySelector(selector)?.textContent === expected,
    [`${card(n)} .count`, expected],
  );
}

test("a click targets its own card, and only that card's diff is sent", async () => {
  const page = await app.page();
  const frames = recordFrames(page);
  await page.goto(`${app.base}/components`);
  await connected(page);
  // The client marks each component's root with its cid.
  const cids = await page.$$eval("#cards [data-phx-component]", (els) => els.map((el) => el.dataset.phxComponent));
  assert.deepEqual(cids, ["1", "2", "3"]);
  await page.click(`${card(2)} .inc`);
  await waitForCount(page, 2, "1");
  await page.click(`${card(2)} .inc`);
  await waitForCount(page, 2, "2");
  assert.equal(await countOf(page, 1), "0");
  assert.equal(await countOf(page, 3), "0");
  const sent = frames.filter((f) => f.direction === "sent" && f.event === "event");
  assert.ok(sent.every((f) => f.payload.cid === 2), JSON.stringify(sent.map((f) => f.payload)));
  const replies = frames.filter((f) => f.event === "phx_reply" && f.payload.response?.diff);
  const last = replies.at(-1).payload.response.diff;
  assert.deepEqual(Object.keys(last), ["c"]);
  assert.deepEqual(Object.keys(last.c), ["2"]);
  await assertHealthy(page);
  await page.context().close();
});

test("send_update from the view resets every card", async () => {
  const page = await app.page();
  await page.goto(`${app.base}/components`);
  await connected(page);
  await page.click(`${card(1)} .inc`);
  await waitForCount(page, 1, "1");
  await page.click(`${card(3)} .dec`);
  await waitForCount(page, 3, "-1");
  await page.click("#reset");
  await waitForCount(page, 1, "0");
  await waitForCount(page, 3, "0");
  await page.context().close();
});

test("a crashing card shows an error in its place; the others and the view go on; Retry mounts it again", async () => {
  const page = await app.page();
  await page.goto(`${app.base}/components`);
  await connected(page);
  await page.click(`${card(1)} .inc`);
  await waitForCount(page, 1, "1");
  await page.click(`${card(2)} .crash`);
  await page.waitForSelector("#cards .cinder-crashed");
  assert.match(await page.textContent("#cards .cinder-crashed"), /This part of the page crashed/);
  // The page did not reload or rejoin: the first card kept its count.
  assert.equal(await countOf(page, 1), "1");
  await page.click(`${card(1)} .inc`);
  await waitForCount(page, 1, "2");
  await page.click("#cards .cinder-crashed button");
  await page.waitForSelector("#cards .cinder-crashed", { state: "detached" });
  await waitForCount(page, 2, "0");
  await page.click(`${card(2)} .inc`);
  await waitForCount(page, 2, "1");
  await assertHealthy(page);
  await page.context().close();
});

test("removed cards are destroyed on the server; added ones mount fresh", async () => {
  const page = await app.page();
  const frames = recordFrames(page);
  await page.goto(`${app.base}/components`);
  await connected(page);
  await page.click(`${card(3)} .inc`);
  await waitForCount(page, 3, "1");
  await page.click("#remove");
  await page.waitForFunction(() => document.querySelectorAll("#cards section.card").length === 2);
  const destroyed = await until(
    () => frames.find((f) => f.event === "phx_reply" && f.payload.response?.cids),
    "the reply to cids_destroyed",
  );
  assert.deepEqual(destroyed.payload.response.cids, [3]);
  await page.click("#add");
  await page.waitForFunction(() => document.querySelectorAll("#cards section.card").length === 3);
  assert.equal(await countOf(page, 3), "0");
  assert.equal(await page.getAttribute(card(3), "data-phx-component"), "4");
  await page.click(`${card(3)} .inc`);
  await waitForCount(page, 3, "1");
  await assertHealthy(page);
  await page.context().close();
});

test("a flash put by a component shows in the view's layout", async () => {
  const page = await app.page();
  await page.goto(`${app.base}/components`);
  await connected(page);
  await page.click(`${card(1)} .inc`);
  await waitForCount(page, 1, "1");
  await page.click(`${card(1)} .share`);
  await page.waitForSelector("#flash .flash-info");
  assert.match(await page.textContent("#flash .flash-info"), /shared its count: 1/);
  await page.context().close();
});

test("the nested clock view ticks in its own process while the parent updates", async () => {
  const page = await app.page();
  const frames = recordFrames(page);
  await page.goto(`${app.base}/components`);
  await connected(page);
  const child = "#nested-clock";
  await page.waitForSelector(`${child}.phx-connected`);
  assert.ok(await page.getAttribute(child, "data-phx-parent-id"));
  const first = await page.textContent(`${child} #clock`);
  await page.click(`${card(1)} .inc`);
  await waitForCount(page, 1, "1");
  await page.waitForFunction(
    ([selector, first]) => document.querySelector(selector).textContent !== first,
    [`${child} #clock`, first],
  );
  // The child has its own channel; the parent's diffs never carry it.
  assert.ok(frames.some((f) => f.topic === "lv:nested-clock" && f.event === "diff"));
  const parentDiffs = frames.filter((f) => f.topic !== "lv:nested-clock" && f.event === "phx_reply");
  assert.ok(parentDiffs.every((f) => !JSON.stringify(f.payload).includes("UTC time")));
  await page.click(`${card(1)} .inc`);
  await waitForCount(page, 1, "2");
  assert.ok(await page.isVisible(`${child} #clock`));
  await assertHealthy(page);
  await page.context().close();
});
