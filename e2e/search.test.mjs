// /search: a debounced phx-change form, results rendered by the server.
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

async function results(page) {
  return page.$$eval("#results li", (items) => items.map((item) => item.textContent.trim()));
}

test("typing narrows the results as the server filters them", async () => {
  const page = await app.page();
  await page.goto(`${app.base}/search`);
  await connected(page);
  assert.deepEqual(await results(page), []);
  await page.fill("input[name=q]", "ru");
  await page.waitForFunction(() => document.querySelector("#count").textContent.startsWith("2 "), null, {
    timeout: 10_000,
  });
  assert.deepEqual(await results(page), ["Ruby", "Rust"]);
  await page.fill("input[name=q]", "rust");
  await page.waitForFunction(() => document.querySelector("#count").textContent.startsWith("1 "), null, {
    timeout: 10_000,
  });
  assert.deepEqual(await results(page), ["Rust"]);
  await page.fill("input[name=q]", "");
  await page.waitForFunction(() => document.querySelector("#count").textContent.startsWith("0 "), null, {
    timeout: 10_000,
  });
  assert.deepEqual(await results(page), []);
  assert.equal(await page.inputValue("input[name=q]"), "", "the input keeps what the user typed");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("a query in the URL is searched in the dead render already", async () => {
  const response = await fetch(`${app.base}/search?q=scheme`);
  const html = await response.text();
  assert.match(html, /<li>Scheme<\/li>/);
});
