// Several showcase nodes behind nginx, sharing PubSub and presence through
// Redis: /chat across nodes, a node killed, Redis restarted.
//
// Each test starts its own cluster (see cluster.mjs): Redis, three nodes
// web-1..web-3 and nginx balancing round robin over them. Pages are either
// pinned to a node (opened on its own port) or balanced (opened through
// nginx, which may send the page and its live socket to different nodes).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { CHROMIUM_ARGS, SECRET_KEY_BASE, problems, recordFrames } from "./harness.mjs";
import { missingTools, startCluster, watchUpstreams } from "./cluster.mjs";

const missing = missingTools();
const skip = missing ? `multi-node tests skipped: ${missing}` : false;

const WAIT = { timeout: 15_000 };
/// For anything that waits on presence noticing a dead node: the showcase
/// drops a silent node after 10 s, checked every 1 s heartbeat.
const PRESENCE_WAIT = { timeout: 30_000 };

let browser;
before(async () => {
  if (skip) return;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
  });
});
after(async () => {
  await browser?.close();
});

/// Runs `body(cluster, open)` on a fresh cluster, where `open(base)` opens
/// /chat at `base` in a browser context of its own and waits until it is
/// live. Pages still open at the end are checked for problems; the cluster
/// is stopped whatever happens, and a failure shows the end of each
/// process's log.
async function withCluster(body) {
  const cluster = await startCluster({ secret: SECRET_KEY_BASE });
  const pages = [];
  const open = async (base) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.errors = [];
    page.on("pageerror", (error) => page.errors.push(error));
    pages.push(page);
    page.handshakes = await watchUpstreams(page);
    page.frames = recordFrames(page);
    await page.goto(`${base}/chat`);
    await live(page);
    return page;
  };
  try {
    await body(cluster, open);
    const found = [];
    for (const page of pages) found.push(...(await problems(page)));
    assert.deepEqual(found, [], "no page has problems");
  } catch (error) {
    error.message += `\n${cluster.tails()}`;
    throw error;
  } finally {
    for (const page of pages) await page.context().close();
    await cluster.stop();
  }
}

/// Waits until the page's view has joined over its socket.
async function live(page, options = WAIT) {
  await page.waitForSelector("[data-phx-main].phx-connected", options);
}

/// The node a balanced page's live socket is connected to now.
async function nodeOf(cluster, page) {
  await until(() => page.handshakes.length > 0, "the page's WebSocket handshake");
  const node = cluster.nodeAt(page.handshakes.at(-1).upstream);
  assert.ok(node, `nginx names a node in X-Upstream: ${JSON.stringify(page.handshakes.at(-1))}`);
  return node;
}

async function until(predicate, what, timeout = WAIT.timeout) {
  const deadline = Date.now() + timeout;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function send(page, name, text) {
  await page.fill("#name", name);
  await page.fill("#text", text);
  await page.press("#text", "Enter");
}

async function messages(page) {
  return page.$$eval("#messages li", (items) => items.map((item) => item.textContent.trim()));
}

/// Who the page lists as online, sorted, without the " (you)" mark.
async function people(page) {
  return page.$$eval("#people li", (items) =>
    items.map((item) => item.textContent.trim().replace(/ \(you\)$/, "")).sort(),
  );
}

/// Runs a wait on `page`; if it times out, says what the page shows
/// instead, which nodes its sockets went to and its last channel messages.
async function showing(page, what, wait) {
  try {
    await wait;
  } catch (error) {
    const shown = await page
      .evaluate(() => ({
        online: document.querySelector("#online")?.textContent.trim(),
        people: [...document.querySelectorAll("#people li")].map((li) => li.textContent.trim()),
        messages: [...document.querySelectorAll("#messages li")].map((li) => li.textContent.trim()),
        connected: document.querySelector("[data-phx-main]")?.classList.contains("phx-connected"),
      }))
      .catch((reason) => `(page unreadable: ${reason})`);
    const frames = (page.frames ?? [])
      .slice(-40)
      .map((frame) => `  ${frame.direction} ${frame.raw.length > 300 ? `${frame.raw.slice(0, 300)}…` : frame.raw}`);
    error.message =
      `${page.url()}: waiting for ${what}, the page shows ${JSON.stringify(shown)}\n` +
      `its sockets: ${JSON.stringify(page.handshakes ?? [])}\nits last channel messages:\n${frames.join("\n")}\n${error.message}`;
    throw error;
  }
}

async function waitForMessage(page, expected, options = WAIT) {
  await showing(
    page,
    `the message "${expected}"`,
    page.waitForFunction(
      (text) => [...document.querySelectorAll("#messages li")].some((li) => li.textContent.trim() === text),
      expected,
      options,
    ),
  );
}

async function waitForOnline(page, count, options = WAIT) {
  await showing(
    page,
    `${count} online`,
    page.waitForFunction(
      (value) =>
        document.querySelector("#online")?.textContent.trim() === value &&
        document.querySelectorAll("#people li").length === Number(value),
      String(count),
      options,
    ),
  );
}

/// Waits until the page lists exactly `names` as online.
async function waitForPeople(page, names, options = WAIT) {
  const expected = [...names].sort();
  await showing(
    page,
    `exactly ${JSON.stringify(expected)} online`,
    page.waitForFunction(
      (expected) => {
        const shown = [...document.querySelectorAll("#people li")]
          .map((li) => li.textContent.trim().replace(/ \(you\)$/, ""))
          .sort();
        return (
          JSON.stringify(shown) === JSON.stringify(expected) &&
          document.querySelector("#online")?.textContent.trim() === String(expected.length)
        );
      },
      expected,
      options,
    ),
  );
}

/// Sends a message from `page` under `name` and waits until every page in
/// `everyone` shows it.
async function sendToAll(page, name, text, everyone) {
  await send(page, name, text);
  for (const other of everyone) await waitForMessage(other, `${name}: ${text}`);
}

test("a message sent through one node appears on the pages of every other node", { skip }, () =>
  withCluster(async (cluster, open) => {
    const pinned = [];
    for (const node of cluster.nodes) pinned.push(await open(node.base));
    const balanced = [await open(cluster.base), await open(cluster.base)];
    const everyone = [...pinned, ...balanced];
    for (const page of balanced) {
      assert.ok(page.url().startsWith(cluster.base), "a balanced page is served through nginx");
      const socket = page.handshakes.at(-1);
      assert.ok(socket.url.startsWith(cluster.base.replace("http", "ws")), `its socket goes through nginx: ${socket.url}`);
      await nodeOf(cluster, page);
    }
    // Every page counting everyone means each node's presence reached every
    // other through Redis: all the adapters are subscribed and publishing.
    for (const page of everyone) await waitForOnline(page, everyone.length);

    for (const [index, page] of pinned.entries()) {
      await sendToAll(page, `Pin ${index + 1}`, `hello from ${cluster.nodes[index].name}`, everyone);
    }
    for (const [index, page] of balanced.entries()) {
      const node = await nodeOf(cluster, page);
      await sendToAll(page, `Lb ${index + 1}`, `hello through nginx, served by ${node.name}`, everyone);
    }
    // The same conversation, in the same order, on every page.
    const conversation = await messages(pinned[0]);
    assert.equal(conversation.length, everyone.length);
    for (const page of everyone) assert.deepEqual(await messages(page), conversation);
  }),
);

test("presence agrees on every node; a killed node's users vanish and its pages reconnect through nginx", { skip }, (t) =>
  withCluster(async (cluster, open) => {
    // Named pages: sending a message renames a user in everyone's list.
    const users = [];
    for (const [index, node] of cluster.nodes.entries()) {
      const page = await open(node.base);
      users.push({ name: ["Ann", "Bob", "Cid"][index], page, node, balanced: false });
    }
    for (const name of ["Dee", "Eve"]) {
      const page = await open(cluster.base);
      users.push({ name, page, node: await nodeOf(cluster, page), balanced: true });
    }
    for (const user of users) await sendToAll(user.page, user.name, `${user.name} is here`, [user.page]);
    const names = users.map((user) => user.name);
    for (const user of users) await waitForPeople(user.page, names);

    // The node behind Dee's live socket dies without a word.
    const victim = users.find((user) => user.name === "Dee").node;
    const lost = users.filter((user) => user.node === victim);
    const stranded = lost.filter((user) => !user.balanced);
    const moving = lost.filter((user) => user.balanced);
    const staying = users.filter((user) => user.node !== victim);
    const handshakesBefore = new Map(moving.map((user) => [user, user.page.handshakes.length]));
    const killedAt = Date.now();
    await cluster.killNode(victim);

    // Every page still served lists exactly the users of the other nodes,
    // plus the balanced pages that reconnected: their users are new to
    // presence (a fresh mount, under a guest name until they send again).
    const survivors = staying.map((user) => user.name);
    const remaining = survivors.length + moving.length;
    await Promise.all(
      staying.map((user) =>
        showing(
          user.page,
          `${victim.name}'s users (${lost.map((each) => each.name).join(", ")}) to leave`,
          user.page.waitForFunction(
            ({ gone, count }) => {
              const shown = [...document.querySelectorAll("#people li")].map((li) =>
                li.textContent.trim().replace(/ \(you\)$/, ""),
              );
              return shown.length === count && shown.every((name) => !gone.includes(name));
            },
            { gone: lost.map((each) => each.name), count: remaining },
            PRESENCE_WAIT,
          ),
        ),
      ),
    );
    const dropped = Date.now() - killedAt;
    t.diagnostic(`${victim.name}'s users left every other node's list ${dropped} ms after kill -9`);

    // The balanced pages of the dead node reconnected through nginx to a
    // live node, and work again.
    for (const user of moving) {
      await until(
        () => user.page.handshakes.length > handshakesBefore.get(user),
        `${user.name}'s page to open a new socket through nginx`,
        PRESENCE_WAIT.timeout,
      );
      const node = await nodeOf(cluster, user.page);
      assert.notEqual(node, victim, `${user.name}'s page reconnected to a live node`);
      assert.ok(node.process.alive);
      user.node = node;
      await live(user.page, PRESENCE_WAIT);
      await waitForOnline(user.page, remaining);
    }
    const everyone = [...staying, ...moving];
    for (const user of moving) {
      await sendToAll(user.page, user.name, `${user.name} is back, on ${user.node.name}`, everyone.map((each) => each.page));
    }
    // Presence agrees again on every live node: the same people everywhere.
    for (const user of everyone) await waitForPeople(user.page, [...survivors, ...moving.map((each) => each.name)]);
    for (const node of cluster.nodes) assert.equal(node.process.alive, node !== victim, `${node.name} is alive`);
    // The pages pinned to the dead node cannot reconnect: they are closed
    // unchecked (their failing reconnects are expected).
    for (const user of stranded) {
      assert.equal(await user.page.$("[data-phx-main].phx-connected"), null, `${user.name}'s page shows it is disconnected`);
      await user.page.context().close();
    }
  }),
);

test("Redis restarted: every node stays up, reconnects, and later messages reach every node", { skip }, () =>
  withCluster(async (cluster, open) => {
    const pinned = [];
    for (const node of cluster.nodes) pinned.push(await open(node.base));
    const balanced = await open(cluster.base);
    const everyone = [...pinned, balanced];
    for (const page of everyone) await waitForOnline(page, everyone.length);
    await sendToAll(pinned[0], "Ann", "before the restart", everyone);

    const since = cluster.logOffsets();
    await cluster.killRedis();
    await cluster.startRedis();
    // Each node says when its adapter has subscribed again and when it can
    // publish again (it finds out on its next publish: presence heartbeats
    // go out every second).
    await cluster.waitForLogs(cluster.nodes, /Redis subscriber reconnected/, since, "every node to resubscribe to Redis");
    await cluster.waitForLogs(cluster.nodes, /Redis publisher reconnected/, since, "every node to publish to Redis again");

    for (const node of cluster.nodes) assert.ok(node.process.alive, `${node.name} is still running`);
    // The pages' sockets never depended on Redis.
    for (const page of everyone) assert.ok(await page.$("[data-phx-main].phx-connected"), `${page.url()} stayed connected`);

    // Messages sent now reach every node, from every node.
    for (const [index, page] of pinned.entries()) {
      await sendToAll(page, `Pin ${index + 1}`, `after the restart, from ${cluster.nodes[index].name}`, everyone);
    }
    await sendToAll(balanced, "Lb", "after the restart, through nginx", everyone);
    const conversation = await messages(pinned[0]);
    assert.equal(conversation.length, 1 + everyone.length);
    for (const page of everyone) assert.deepEqual(await messages(page), conversation);
    // Presence still agrees on every node.
    for (const page of everyone) await waitForOnline(page, everyone.length);
    for (const node of cluster.nodes) assert.ok(node.process.alive, `${node.name} is still running`);
  }),
);
