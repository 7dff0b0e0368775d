// /counter through the official LiveView client in Chromium.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { start, connected, recordFrames, replyTo, until } from "./harness.mjs";
import { count, clickAndWait } from "./counter-page.mjs";

let app;
before(async () => {
  app = await start();
});
after(async () => {
  await app?.stop();
});

test("the dead render shows the count before the socket connects", async () => {
  const response = await fetch(`${app.base}/counter`);
  assert.equal(response.status, 200);
  const html = await response.text();
  assert.match(html, /<span id="count">0<\/span>/);
  // The static token carries only a flash the dead render showed: empty here.
  assert.match(html, /data-phx-main data-phx-session="[^"]+" data-phx-static=""/);
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

/// The key of the dynamic that holds the count in a rendered tree: the one
/// right after the static that opens `<span id="count">`.
function countKey(rendered) {
  const index = rendered.s.findIndex((text) => text.endsWith('<span id="count">'));
  assert.notEqual(index, -1, `no static opens the count in ${JSON.stringify(rendered.s)}`);
  return String(index);
}

test("the reply to a click carries only the new count", async () => {
  const page = await app.page();
  const frames = recordFrames(page);
  await page.goto(`${app.base}/counter`);
  await connected(page);

  const join = await until(
    () => frames.find((frame) => frame.direction === "sent" && frame.event === "phx_join"),
    "the join",
  );
  const joined = await until(() => replyTo(frames, join), "the reply to the join");
  assert.equal(joined.payload.status, "ok");
  const rendered = joined.payload.response.rendered;
  const key = countKey(rendered);
  assert.equal(rendered[key], "0", "the join renders the count 0 in that dynamic");

  await clickAndWait(page, "#inc", "1");
  const click = await until(
    () => frames.find((frame) => frame.direction === "sent" && frame.event === "event" && frame.payload.event === "inc"),
    "the click event",
  );
  assert.equal(click.topic, join.topic);
  const reply = await until(() => replyTo(frames, click), "the reply to the click");
  assert.equal(reply.payload.status, "ok");
  const diff = reply.payload.response.diff;
  assert.deepEqual(Object.keys(diff), [key], `only the count changes: ${reply.raw}`);
  assert.equal("s" in diff, false, "no statics are sent again");
  assert.deepEqual(reply.payload.response, { diff: { [key]: "1" } }, reply.raw);
  // Nothing else was pushed to the view in between: the count came in the reply.
  const pushed = frames.filter(
    (frame) => frame.direction === "received" && frame.topic === join.topic && frame.event === "diff",
  );
  assert.deepEqual(pushed, []);
  await page.context().close();
});

/// Records, in the page, the class list of the main view's element after
/// each change, in `window.mainClasses`.
async function watchMainClasses(page) {
  await page.evaluate(() => {
    const main = document.querySelector("[data-phx-main]");
    window.mainClasses = [main.className];
    new MutationObserver(() => window.mainClasses.push(main.className)).observe(main, {
      attributes: true,
      attributeFilter: ["class"],
    });
  });
}

async function mainClasses(page) {
  return page.evaluate(() => window.mainClasses);
}

test("a crash in one tab's view leaves another tab's view alone", async () => {
  const first = await app.page();
  const second = await app.page();
  const firstFrames = recordFrames(first);
  const secondFrames = recordFrames(second);
  await first.goto(`${app.base}/counter`);
  await second.goto(`${app.base}/counter`);
  await connected(first);
  await connected(second);
  await clickAndWait(first, "#inc", "1");
  await clickAndWait(second, "#inc", "1");
  await watchMainClasses(first);
  await watchMainClasses(second);

  await first.click("#crash");
  // The first view crashes: the server says so and the client joins again.
  await until(
    () => firstFrames.find((frame) => frame.direction === "received" && frame.event === "phx_error"),
    "the crash to reach the first tab",
  );
  const joins = () => firstFrames.filter((frame) => frame.direction === "sent" && frame.event === "phx_join");
  await until(() => joins().length === 2 && replyTo(firstFrames, joins()[1]), "the first tab to join again");
  assert.equal(replyTo(firstFrames, joins()[1]).payload.status, "ok");
  // It is mounted again from scratch, connected, and works.
  await first.waitForFunction(
    () =>
      document.querySelector("[data-phx-main]").classList.contains("phx-connected") &&
      document.querySelector("#count").textContent.trim() === "0",
    null,
    { timeout: 15_000 },
  );
  assert.ok(
    (await mainClasses(first)).some((classes) => !classes.split(" ").includes("phx-connected")),
    "the first tab showed that its view was down",
  );
  await clickAndWait(first, "#inc", "1");

  // The second tab kept its count and its connection the whole time.
  assert.equal(await count(second), "1");
  await clickAndWait(second, "#inc", "2");
  const classes = await mainClasses(second);
  assert.ok(
    classes.every((value) => value.split(" ").includes("phx-connected")),
    `the second tab's view stayed connected: ${JSON.stringify(classes)}`,
  );
  assert.equal(secondFrames.filter((frame) => frame.event === "phx_join").length, 1, "the second tab joined once");
  assert.deepEqual(
    secondFrames.filter((frame) => frame.event === "phx_error" || frame.event === "phx_close"),
    [],
  );
  assert.deepEqual(secondFrames.closed, [], "the second tab's socket never closed");
  await first.context().close();
  await second.context().close();
});
