// /chat: messages broadcast over PubSub to every tab, who is online through Presence.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { start, connected } from "./harness.mjs";

const WAIT = { timeout: 15_000 };

let app;
before(async () => {
  app = await start();
});
after(async () => {
  await app?.stop();
});

async function openChat() {
  const page = await app.page();
  await page.goto(`${app.base}/chat`);
  await connected(page);
  return page;
}

async function messages(page) {
  return page.$$eval("#messages li", (items) => items.map((item) => item.textContent.trim()));
}

async function waitForMessage(page, expected) {
  await page.waitForFunction(
    (text) => [...document.querySelectorAll("#messages li")].some((li) => li.textContent.trim() === text),
    expected,
    WAIT,
  );
}

async function waitForOnline(page, count) {
  await page.waitForFunction(
    (value) => document.querySelector("#online")?.textContent.trim() === value,
    String(count),
    WAIT,
  );
}

async function send(page, name, text) {
  await page.fill("#name", name);
  await page.fill("#text", text);
  await page.press("#text", "Enter");
}

test("the dead render shows the room before the socket connects", async () => {
  const response = await fetch(`${app.base}/chat`);
  assert.equal(response.status, 200);
  const html = await response.text();
  assert.match(html, /<ul id="messages" phx-update="stream">/);
  assert.match(html, /name="message\[text\]"/);
});

test("a message sent in one tab appears in both, and the input is cleared", async () => {
  const ann = await openChat();
  const bob = await openChat();
  await send(ann, "Ann", "hello from Ann");
  await waitForMessage(ann, "Ann: hello from Ann");
  await waitForMessage(bob, "Ann: hello from Ann");
  await ann.waitForFunction(() => document.querySelector("#text").value === "", null, WAIT);
  assert.equal(await ann.inputValue("#name"), "Ann", "the name stays for the next message");

  await send(bob, "Bob", "hi Ann");
  await waitForMessage(ann, "Bob: hi Ann");
  await waitForMessage(bob, "Bob: hi Ann");
  const expected = ["Ann: hello from Ann", "Bob: hi Ann"];
  assert.deepEqual((await messages(ann)).slice(-2), expected, "newest last");
  assert.deepEqual((await messages(bob)).slice(-2), expected);
  assert.deepEqual(ann.errors, []);
  assert.deepEqual(bob.errors, []);
  await ann.context().close();
  await bob.context().close();
});

test("who is online: two while both tabs are open, one after a tab closes", async () => {
  const ann = await openChat();
  const bob = await openChat();
  await waitForOnline(ann, 2);
  await waitForOnline(bob, 2);
  await send(bob, "Bob", "renaming myself");
  await ann.waitForFunction(
    () => [...document.querySelectorAll("#people li")].some((li) => li.textContent.trim() === "Bob"),
    null,
    WAIT,
  );
  await bob.context().close();
  await waitForOnline(ann, 1);
  const people = await ann.$$eval("#people li", (items) => items.map((item) => item.textContent.trim()));
  assert.equal(people.length, 1);
  assert.match(people[0], /\(you\)$/);
  await ann.context().close();
});

test("an empty message shows an error and sends nothing", async () => {
  const ann = await openChat();
  const bob = await openChat();
  const before = (await messages(bob)).length;
  await send(ann, "Ann", "   ");
  await ann.waitForSelector("#error", WAIT);
  assert.match(await ann.textContent("#error"), /Write a message first/);
  // A message sent afterwards arrives alone: the empty one never went out.
  await send(ann, "Ann", "after the empty one");
  await waitForMessage(bob, "Ann: after the empty one");
  const after = await messages(bob);
  assert.equal(after.length, before + 1);
  await ann.waitForFunction(() => document.querySelector("#error") === null, null, WAIT);
  assert.deepEqual(ann.errors, []);
  await ann.context().close();
  await bob.context().close();
});

test("a message over 500 characters is refused with an error", async () => {
  const page = await openChat();
  await send(page, "Ann", "x".repeat(501));
  await page.waitForSelector("#error", WAIT);
  assert.match(await page.textContent("#error"), /at most 500 characters/);
  assert.equal(await page.inputValue("#text"), "x".repeat(501), "the text is kept to be shortened");
  await page.context().close();
});

test("markup in a message is shown as text", async () => {
  const ann = await openChat();
  const bob = await openChat();
  const text = "<script>window.injected = true</script><b>bold</b>";
  await send(ann, "Ann", text);
  await waitForMessage(bob, `Ann: ${text}`);
  assert.equal(await bob.$$eval("#messages script, #messages b", (found) => found.length), 0);
  assert.equal(await bob.evaluate(() => window.injected), undefined);
  await ann.context().close();
  await bob.context().close();
});
