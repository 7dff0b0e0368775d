// /counter through the official LiveView client in Chromium.
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

async function count(page) {
  return (await page.textContent("#count")).trim();
}

async function clickAndWait(page, selector, expected) {
  await page.click(selector);
  await page.waitForFunction(
    (value) => document.querySelector("#count").textContent.trim() === value,
    expected,
    { timeout: 10_000 },
  );
}

test("the dead render shows the count before the socket connects", async () => {
  const response = await fetch(`${app.base}/counter`);
  assert.equal(response.status, 200);
  const html = await response.text();
  assert.match(html, /<span id="count">0<\/span>/);
  assert.match(html, /data-phx-main data-phx-session="[^"]+" data-phx-static="[^"]+"/);
});

test("clicks change the count through the server", async () => {
  const page = await app.page();
  await page.goto(`${app.base}/counter`);
  await connected(page);
  assert.equal(await count(page), "0");
  await clickAndWait(page, "#inc", "1");
  await clickAndWait(page, "#inc", "2");
  await clickAndWait(page, "#dec", "1");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("each tab has its own view process", async () => {
  const first = await app.page();
  const second = await app.page();
  await first.goto(`${app.base}/counter`);
  await second.goto(`${app.base}/counter`);
  await connected(first);
  await connected(second);
  await clickAndWait(first, "#inc", "1");
  assert.equal(await count(second), "0");
  await first.context().close();
  await second.context().close();
});

test("a crashed view rejoins and mounts again without a page reload", async () => {
  const page = await app.page();
  await page.goto(`${app.base}/counter`);
  await connected(page);
  await page.evaluate(() => {
    window.notReloaded = true;
  });
  await clickAndWait(page, "#inc", "1");
  await page.click("#crash");
  // The client shows the error, rejoins, and the fresh mount starts at 0.
  await clickAndWait(page, "#inc", "1");
  await page.waitForFunction(() => document.querySelector("#count").textContent.trim() === "1");
  assert.equal(await page.evaluate(() => window.notReloaded), true);
  await page.context().close();
});

test("a socket with a forged CSRF token is answered stale, not served", async () => {
  const page = await app.page();
  await page.goto(`${app.base}/counter`);
  await connected(page);
  const reloads = [];
  page.on("load", () => reloads.push(Date.now()));
  await page.evaluate(() => {
    document.querySelector("meta[name='csrf-token']").setAttribute("content", "forged");
  });
  // A fresh LiveSocket with the forged token: every join is refused as stale.
  const outcome = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const socket = new window.Phoenix.Socket("/live", { params: { _csrf_token: "forged" } });
        socket.connect();
        const main = document.querySelector("[data-phx-main]");
        const channel = socket.channel(`lv:${main.id}`, {
          session: main.getAttribute("data-phx-session"),
          static: main.getAttribute("data-phx-static"),
          url: window.location.href,
          params: { _csrf_token: "forged" },
        });
        channel
          .join()
          .receive("ok", () => resolve("ok"))
          .receive("error", (response) => resolve(response.reason));
      }),
  );
  assert.equal(outcome, "stale");
  await page.context().close();
});
