// /form: live validation per touched field, submit, and a flash that
// clears when clicked.
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

test("errors follow what the user typed, and only for touched fields", async () => {
  const page = await app.page();
  await page.goto(`${app.base}/form`);
  await connected(page);
  await page.fill("input[name='user[name]']", "A");
  await page.waitForSelector("#name-error", { timeout: 10_000 });
  assert.equal(await page.$("#email-error"), null, "the email field was not touched yet");
  await page.fill("input[name='user[name]']", "Ada");
  await page.waitForSelector("#name-error", { state: "detached", timeout: 10_000 });
  await page.fill("input[name='user[email]']", "ada");
  await page.waitForSelector("#email-error", { timeout: 10_000 });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("a valid submit shows a flash that clears when clicked", async () => {
  const page = await app.page();
  await page.goto(`${app.base}/form`);
  await connected(page);
  await page.fill("input[name='user[name]']", "Ada");
  await page.fill("input[name='user[email]']", "ada@example.com");
  await page.fill("input[name='user[password]']", "correct horse");
  await page.click("button[type=submit]");
  await page.waitForSelector(".flash-info", { timeout: 10_000 });
  assert.equal((await page.textContent(".flash-info")).trim(), "Welcome, Ada!");
  assert.equal((await page.textContent("#members")).trim(), "1 signed up");
  assert.equal(await page.inputValue("input[name='user[name]']"), "", "the form is reset");
  await page.click(".flash-info");
  await page.waitForSelector(".flash-info", { state: "detached", timeout: 10_000 });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("an invalid submit shows every error", async () => {
  const page = await app.page();
  await page.goto(`${app.base}/form`);
  await connected(page);
  await page.click("button[type=submit]");
  await page.waitForSelector("#password-error", { timeout: 10_000 });
  assert.notEqual(await page.$("#name-error"), null);
  assert.notEqual(await page.$("#email-error"), null);
  assert.equal(await page.$(".flash-info"), null);
  await page.context().close();
});
