// /clock: updates pushed by the server's timer, applied by the client.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { start, connected } from "./harness.mjs";

let app;
before(async () => {
  app = await start();
});
after(async () => {
  await app?.stop();
});

test("the clock ticks without any user action", async () => {
  const page = await app.page();
  await page.goto(`${app.base}/clock`);
  await connected(page);
  const first = (await page.textContent("#clock")).trim();
  assert.match(first, /^\d\d:\d\d:\d\d$/);
  await page.waitForFunction(
    (shown) => document.querySelector("#clock").textContent.trim() !== shown,
    first,
    { timeout: 10_000 },
  );
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
