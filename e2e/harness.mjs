// Starts the showcase binary on a free loopback port and Debian's Chromium
// through playwright-core, and stops both when the tests end.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { chromium } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const target = process.env.CARGO_TARGET_DIR ?? join(root, "target");

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
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

/// The showcase and a browser, for one test file.
export async function start() {
  const port = await freePort();
  const showcase = spawn(join(target, "debug", "showcase"), ["--port", String(port)], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  const base = `http://127.0.0.1:${port}`;
  await waitForServer(`${base}/`, showcase);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
  });
  return {
    base,
    browser,
    async page() {
      const context = await browser.newContext();
      const page = await context.newPage();
      page.errors = [];
      page.on("pageerror", (error) => page.errors.push(error));
      return page;
    },
    async stop() {
      await browser.close();
      showcase.kill("SIGTERM");
    },
  };
}

/// Waits until the page's main view has joined.
export async function connected(page) {
  await page.waitForSelector("[data-phx-main].phx-connected", { timeout: 10_000 });
}
