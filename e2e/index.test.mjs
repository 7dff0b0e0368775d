// /: the index of the showcase, a link to each demo.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { start, connected } from "./harness.mjs";

const DEMOS = ["/counter", "/clock", "/search", "/table", "/form", "/chat", "/upload"];

let app;
before(async () => {
  app = await start();
});
after(async () => {
  await app?.stop();
});

async function links(page) {
  return page.$$eval("a[href]", (anchors) => anchors.map((anchor) => anchor.getAttribute("href")));
}

// The showcase's index (`DEMOS` in examples/showcase/src/main.rs) has no
// entry for /form, so this fails until the index lists it.
test("the index links to every demo", async () => {
  const page = await app.page();
  await page.goto(`${app.base}/`);
  const found = await links(page);
  for (const path of DEMOS) {
    assert.ok(found.includes(path), `the index links to ${path}: ${JSON.stringify(found)}`);
  }
  await page.context().close();
});

test("each link on the index leads to a live page that connects", async () => {
  const page = await app.page();
  await page.goto(`${app.base}/`);
  const found = await links(page);
  assert.ok(found.length > 0, "the index has links");
  for (const path of found) {
    await page.goto(`${app.base}/`);
    await Promise.all([page.waitForURL(`${app.base}${path}`, { timeout: 10_000 }), page.click(`a[href="${path}"]`)]);
    await connected(page);
    assert.equal(new URL(page.url()).pathname, path);
  }
  await page.context().close();
});
