// /table: sort and page in the URL, patch links, history, push_patch.
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

async function firstName(page) {
  return (await page.textContent("#elements tbody tr:first-child .name")).trim();
}

async function waitForFirst(page, name) {
  await page.waitForFunction(
    (expected) => document.querySelector("#elements tbody tr:first-child .name")?.textContent.trim() === expected,
    name,
    { timeout: 10_000 },
  );
}

test("patch links sort and page without reloading, and history goes back", async () => {
  const page = await app.page();
  await page.goto(`${app.base}/table`);
  await connected(page);
  await page.evaluate(() => {
    window.notReloaded = true;
  });
  assert.equal(await firstName(page), "Hydrogen");

  await page.click("#by-name");
  await waitForFirst(page, "Aluminium");
  assert.match(page.url(), /sort=name&dir=asc&page=1/);

  await page.click("#next");
  await waitForFirst(page, "Chromium");
  assert.match(page.url(), /sort=name&dir=asc&page=2/);
  assert.equal((await page.textContent("#page")).trim(), "Page 2 of 5");

  await page.goBack();
  await waitForFirst(page, "Aluminium");
  assert.match(page.url(), /page=1/);

  await page.click("#by-name");
  await waitForFirst(page, "Zirconium");
  assert.match(page.url(), /dir=desc/);

  assert.equal(await page.evaluate(() => window.notReloaded), true);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("a server-side push_patch updates the URL", async () => {
  const page = await app.page();
  await page.goto(`${app.base}/table?sort=name&dir=asc&page=1`);
  await connected(page);
  await page.click("#last");
  await waitForFirst(page, "Sodium");
  await page.waitForFunction(() => window.location.search.includes("page=5"), null, { timeout: 10_000 });
  await page.context().close();
});

test("a URL with a page out of range is clamped", async () => {
  const response = await fetch(`${app.base}/table?page=99`);
  assert.match(await response.text(), /Page 5 of 5/);
});
