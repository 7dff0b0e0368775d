// /upload: files picked in the browser are sent in chunks over their own
// channels, with progress, previews and limits, and arrive intact.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { start, connected, recordFrames, until } from "./harness.mjs";

let app;
before(async () => {
  app = await start();
});
after(async () => {
  await app?.stop();
});

const INPUT = "#upload-form input[type=file]";

// A 1x1 PNG.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==",
  "base64",
);

function sha256(buffer) {
  return createHash("sha256").update(buffer).digest("hex");
}

/// Text of `size` bytes that differs along its length, so a chunk out of
/// place would change its checksum.
function text(size) {
  const buffer = Buffer.alloc(size);
  for (let i = 0; i < size; i += 1) buffer[i] = 32 + ((i * 7 + Math.floor(i / 97)) % 90);
  return buffer;
}

async function openUpload() {
  const page = await app.page();
  const frames = recordFrames(page);
  await page.goto(`${app.base}/upload`);
  await connected(page);
  return { page, frames };
}

/// The entry of the file called `name`.
function entry(name) {
  return `.entry:has(.name:text-is("${name}"))`;
}

test("two files upload with progress, arrive intact and are listed with their checksums", async () => {
  const { page, frames } = await openUpload();
  const notes = text(300_000);
  await page.setInputFiles(INPUT, [
    { name: "notes.txt", mimeType: "text/plain", buffer: notes },
    { name: "dot.png", mimeType: "image/png", buffer: PNG },
  ]);
  await page.waitForSelector(`${entry("notes.txt")}[data-done]`, { timeout: 15_000 });
  await page.waitForSelector(`${entry("dot.png")}[data-done]`, { timeout: 15_000 });
  assert.equal((await page.textContent(`${entry("notes.txt")} .percent`)).trim(), "100%");
  assert.equal(await page.getAttribute(`${entry("notes.txt")} progress`, "value"), "100");

  // The browser reported progress along the way, up to 100, for each file.
  const progress = frames.filter((f) => f.direction === "sent" && f.event === "progress");
  const refs = [...new Set(progress.map((f) => f.payload.entry_ref))];
  assert.equal(refs.length, 2, JSON.stringify(progress.map((f) => f.payload)));
  for (const ref of refs) {
    const values = progress.filter((f) => f.payload.entry_ref === ref).map((f) => f.payload.progress);
    assert.equal(values.at(-1), 100, `entry ${ref}: ${values}`);
  }
  const notesValues = progress.filter((f) => f.payload.progress < 100);
  assert.ok(notesValues.length >= 3, "the larger file reported progress before it finished");
  // Each file had its own upload channel.
  const joins = frames.filter((f) => f.direction === "sent" && f.event === "phx_join" && f.topic.startsWith("lvu:"));
  assert.equal(joins.length, 2);

  // The image is previewed from the file itself.
  const preview = await page.getAttribute(`${entry("dot.png")} img[data-phx-hook="Phoenix.LiveImgPreview"]`, "src");
  assert.ok(preview?.startsWith("blob:"), `a preview: ${preview}`);

  await page.click("#save");
  await page.waitForSelector("#saved li:nth-child(2)", { timeout: 10_000 });
  const saved = await page.$$eval("#saved li", (items) =>
    items.map((item) => ({ name: item.dataset.name, size: Number(item.dataset.size), sha256: item.dataset.sha256 })),
  );
  saved.sort((a, b) => a.name.localeCompare(b.name));
  assert.deepEqual(saved, [
    { name: "dot.png", size: PNG.length, sha256: sha256(PNG) },
    { name: "notes.txt", size: notes.length, sha256: sha256(notes) },
  ]);
  assert.equal(await page.$$eval(".entry", (items) => items.length), 0, "consumed entries leave the list");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("a file over the limit shows too_large and is not sent", async () => {
  const { page, frames } = await openUpload();
  await page.setInputFiles(INPUT, [{ name: "huge.txt", mimeType: "text/plain", buffer: text(1_000_001) }]);
  await page.waitForSelector(`${entry("huge.txt")} .error[data-error=too_large]`, { timeout: 10_000 });
  assert.match(await page.textContent(`${entry("huge.txt")} .error`), /too_large/);
  await until(
    () =>
      frames.some(
        (f) => f.direction === "received" && f.event === "phx_reply" && JSON.stringify(f.payload.response?.errors ?? {}).includes("too_large"),
      ),
    "the preflight's refusal",
  );
  const joins = frames.filter((f) => f.direction === "sent" && f.event === "phx_join" && f.topic.startsWith("lvu:"));
  assert.equal(joins.length, 0, "no upload channel for a refused file");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("a file of the wrong type shows not_accepted, and cancelling removes it", async () => {
  const { page } = await openUpload();
  await page.setInputFiles(INPUT, [{ name: "tool.exe", mimeType: "application/octet-stream", buffer: text(100) }]);
  await page.waitForSelector(`${entry("tool.exe")} .error[data-error=not_accepted]`, { timeout: 10_000 });
  assert.match(await page.textContent(`${entry("tool.exe")} .error`), /not_accepted/);
  await page.click(`${entry("tool.exe")} .cancel`);
  await page.waitForSelector(entry("tool.exe"), { state: "detached", timeout: 10_000 });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("cancelling an uploaded entry removes it, and saving then keeps only the others", async () => {
  const { page } = await openUpload();
  const keep = text(5_000);
  await page.setInputFiles(INPUT, [
    { name: "keep.txt", mimeType: "text/plain", buffer: keep },
    { name: "drop.txt", mimeType: "text/plain", buffer: text(7_000) },
  ]);
  await page.waitForSelector(`${entry("keep.txt")}[data-done]`, { timeout: 15_000 });
  await page.waitForSelector(`${entry("drop.txt")}[data-done]`, { timeout: 15_000 });
  await page.click(`${entry("drop.txt")} .cancel`);
  await page.waitForSelector(entry("drop.txt"), { state: "detached", timeout: 10_000 });
  await page.click("#save");
  await page.waitForSelector("#saved li", { timeout: 10_000 });
  const saved = await page.$$eval("#saved li", (items) => items.map((item) => [item.dataset.name, item.dataset.sha256]));
  assert.deepEqual(saved, [["keep.txt", sha256(keep)]]);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("a file dropped on the drop target is uploaded", async () => {
  const { page } = await openUpload();
  const dropped = await page.evaluateHandle(() => {
    const transfer = new DataTransfer();
    transfer.items.add(new File(["dropped here"], "dropped.txt", { type: "text/plain" }));
    return transfer;
  });
  await page.dispatchEvent("#drop", "drop", { dataTransfer: dropped });
  await page.waitForSelector(`${entry("dropped.txt")}[data-done]`, { timeout: 15_000 });
  await page.click("#save");
  await page.waitForSelector("#saved li", { timeout: 10_000 });
  assert.equal(await page.getAttribute("#saved li", "data-sha256"), sha256(Buffer.from("dropped here")));
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("picking more files than the upload takes shows too_many_files", async () => {
  const { page } = await openUpload();
  await page.setInputFiles(
    INPUT,
    ["a", "b", "c", "d"].map((name) => ({ name: `${name}.txt`, mimeType: "text/plain", buffer: text(50) })),
  );
  await page.waitForSelector(".upload-error[data-error=too_many_files]", { timeout: 10_000 });
  // Cancelling the extra one clears the error.
  await page.click(`${entry("d.txt")} .cancel`);
  await page.waitForSelector(".upload-error", { state: "detached", timeout: 10_000 });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
