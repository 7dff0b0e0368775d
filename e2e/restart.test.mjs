// A server restart: the page's socket drops, the client retries, and the
// view joins the new process with the tokens the old one signed (both runs
// share the secret).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { start, connected, recordFrames, replyTo, until } from "./harness.mjs";
import { count, clickAndWait } from "./counter-page.mjs";

const WAIT = { timeout: 30_000 };

let app;
before(async () => {
  app = await start();
});
after(async () => {
  await app?.stop();
});

test("after the server is killed and started again, the page rejoins on its own", async () => {
  const page = await app.page();
  const frames = recordFrames(page);
  await page.goto(`${app.base}/counter`);
  await connected(page);
  await page.evaluate(() => {
    window.notReloaded = true;
  });
  await clickAndWait(page, "#inc", "1");

  await app.kill();
  // The client notices that the socket dropped.
  await page.waitForSelector("[data-phx-main]:not(.phx-connected)", WAIT);
  await until(() => frames.closed.length >= 1, "the socket to close", WAIT.timeout);

  await app.respawn();
  await page.waitForSelector("[data-phx-main].phx-connected", WAIT);
  const joins = frames.filter((frame) => frame.direction === "sent" && frame.event === "phx_join");
  assert.ok(joins.length >= 2, "the view joined again");
  const rejoined = await until(() => replyTo(frames, joins.at(-1)), "the reply to the last join", WAIT.timeout);
  assert.equal(rejoined.payload.status, "ok", rejoined.raw);
  assert.equal(joins.at(-1).payload.session, joins[0].payload.session, "with the session token of the first run");

  // The new process mounted the view afresh, and it works.
  assert.equal(await count(page), "0");
  await clickAndWait(page, "#inc", "1");
  await clickAndWait(page, "#inc", "2");
  assert.equal(await page.evaluate(() => window.notReloaded), true, "without a page reload");
  await page.context().close();
});

test("a page opened after the restart connects as usual", async () => {
  const page = await app.page();
  await page.goto(`${app.base}/counter`);
  await connected(page);
  await clickAndWait(page, "#inc", "1");
  await page.context().close();
});
