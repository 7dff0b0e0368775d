// Starts the showcase binary on a free loopback port and Debian's Chromium
// through playwright-core, and stops both when the tests end.
//
// Every page made by `app.page()` is checked when its context is closed
// (`page.context().close()`), and any page still open is checked when the
// tests of the file end: no uncaught error in the page, and no element
// with `data-phx-skip` left in the DOM (the client replaces those
// placeholders with the element it already has; one left over means a diff
// the client could not apply). `assertHealthy(page)` runs the same check at
// any point of a test.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { chromium } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const target = process.env.CARGO_TARGET_DIR ?? join(root, "target");

/// The secret the showcase signs with in the tests: fixed, so a page's
/// tokens stay valid when the server is restarted.
export const SECRET_KEY_BASE = "cinder-browser-tests-fixed-secret-key-base-00000";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

// Ports the kernel hands out on its own (to outgoing connections and to
// `listen(0)`) come from the ephemeral range, by default 32768-60999. The
// showcase gets a port below it, so a connection made by the browser or the
// tests cannot be given that port between the check and the showcase's
// bind, nor while the showcase is being restarted.
const PORTS = { from: 20_000, to: 32_000 };

function listens(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

// Each test file runs in a process of its own: starting from a port derived
// from the process id keeps the files' showcases apart.
let nextPort = PORTS.from + ((process.pid * 11) % (PORTS.to - PORTS.from));

async function freePort() {
  for (;;) {
    const port = nextPort;
    nextPort = nextPort + 1 < PORTS.to ? nextPort + 1 : PORTS.from;
    if (await listens(port)) return port;
  }
}

async function waitForServer(url, child) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the showcase exited with ${child.exitCode}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the showcase did not answer at ${url}`);
}

function spawnShowcase(port, secret) {
  return spawn(join(target, "debug", "showcase"), ["--port", String(port)], {
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, CINDER_SECRET_KEY_BASE: secret },
  });
}

function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/// What is wrong with a page: uncaught errors, and `data-phx-skip`
/// placeholders left in its DOM. An empty list when all is well.
export async function problems(page) {
  const found = (page.errors ?? []).map((error) => `uncaught error in the page: ${error.stack ?? error}`);
  if (!page.isClosed()) {
    const skipped = await page.$$eval("[data-phx-skip]", (elements) => elements.map((element) => element.outerHTML));
    for (const html of skipped) found.push(`a data-phx-skip placeholder left in the DOM: ${html}`);
  }
  return found;
}

/// Throws if the page has any of the `problems`.
export async function assertHealthy(page) {
  const found = await problems(page);
  if (found.length > 0) throw new Error(`${page.url()}:\n${found.join("\n")}`);
}

/// The showcase and a browser, for one test file.
///
/// `options.secret` is the `CINDER_SECRET_KEY_BASE` the showcase gets
/// (by default `SECRET_KEY_BASE`).
export async function start(options = {}) {
  const secret = options.secret ?? SECRET_KEY_BASE;
  // Should something else take the port between the check and the bind,
  // the showcase exits and the next free port is tried.
  let port;
  let showcase;
  for (let attempt = 1; ; attempt += 1) {
    port = await freePort();
    showcase = spawnShowcase(port, secret);
    try {
      await waitForServer(`http://127.0.0.1:${port}/`, showcase);
      break;
    } catch (error) {
      showcase.kill("SIGKILL");
      if (attempt === 5) throw error;
    }
  }
  const base = `http://127.0.0.1:${port}`;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
  });
  const open = new Set();
  return {
    base,
    port,
    browser,
    /// A page in a context of its own, checked when that context closes.
    async page() {
      const context = await browser.newContext();
      const page = await context.newPage();
      page.errors = [];
      page.on("pageerror", (error) => page.errors.push(error));
      open.add(page);
      const close = context.close.bind(context);
      context.close = async (...args) => {
        if (!open.has(page)) return close(...args);
        open.delete(page);
        const found = await problems(page);
        await close(...args);
        if (found.length > 0) throw new Error(`${page.url()}:\n${found.join("\n")}`);
      };
      return page;
    },
    /// Kills the showcase at once (SIGKILL): no graceful shutdown, every
    /// socket simply drops.
    async kill() {
      showcase.kill("SIGKILL");
      await exited(showcase);
    },
    /// Starts the showcase again on the same port with the same secret.
    async respawn() {
      showcase = spawnShowcase(port, secret);
      await waitForServer(`${base}/`, showcase);
    },
    async stop() {
      const found = [];
      for (const page of open) {
        found.push(...(await problems(page).catch((error) => [String(error)])));
      }
      open.clear();
      await browser.close();
      showcase.kill("SIGTERM");
      await exited(showcase);
      if (found.length > 0) throw new Error(`pages left open at the end:\n${found.join("\n")}`);
    },
  };
}

/// Waits until the page's main view has joined.
export async function connected(page) {
  await page.waitForSelector("[data-phx-main].phx-connected", { timeout: 10_000 });
}

/// Records the page's Phoenix channel messages, both ways, decoded:
/// `{ direction: "sent" | "received", joinRef, ref, topic, event, payload, raw }`.
/// Call before the page's first `goto`.
export function recordFrames(page) {
  const frames = [];
  frames.closed = [];
  page.on("websocket", (socket) => {
    const record = (direction) => (frame) => {
      if (typeof frame.payload !== "string") return;
      let message;
      try {
        message = JSON.parse(frame.payload);
      } catch {
        return;
      }
      if (!Array.isArray(message) || message.length !== 5) return;
      const [joinRef, ref, topic, event, payload] = message;
      frames.push({ direction, joinRef, ref, topic, event, payload, raw: frame.payload });
    };
    socket.on("framesent", record("sent"));
    socket.on("framereceived", record("received"));
    socket.on("close", () => frames.closed.push(socket.url()));
  });
  return frames;
}

/// Waits until `predicate` holds, checking every 20 ms, and returns what it returned.
export async function until(predicate, what, timeout = 15_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/// The reply the server sent to the message `sent`.
export function replyTo(frames, sent) {
  return frames.find(
    (frame) =>
      frame.direction === "received" &&
      frame.event === "phx_reply" &&
      frame.topic === sent.topic &&
      frame.ref === sent.ref,
  );
}
