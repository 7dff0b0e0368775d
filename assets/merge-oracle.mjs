// Merge oracle for cinder-test: what the official client shows after each
// diff of a sequence.
//
// Runs the `phoenix_live_view` client's own `Rendered` class (bundled from
// the package's sources with esbuild) in node. Each line on stdin is one
// case, a JSON object:
//
//   {"id": 3, "view": "phx-view-id", "diffs": [joinRendered, diff, diff, ...]}
//
// The first diff is the join's rendered tree; each one goes through
// `Rendered.extract` and merges as the view merges it. After each, the tree
// is rendered in full (no skipped roots: every component is reset first) and
// one JSON line answers the case:
//
//   {"id": 3, "steps": [{"html": "...", "streams": [[ref, inserts, deletes, reset?], ...]}, ...]}
//
// or {"id": 3, "step": i, "error": "..."} for the first diff the client
// throws on. Magic ids (`data-phx-id`) are removed: they count renders and
// mean nothing to a page's reader.
import { createInterface } from "node:readline";
import Rendered from "./client-rendered.mjs";

const MAGIC_ID = / data-phx-id="[^"]*"/g;

function render(rendered) {
  for (const cid of Object.keys(rendered.rendered.c || {})) {
    rendered.resetRender(cid);
  }
  const { buffer, streams } = rendered.recursiveToString(
    rendered.rendered,
    rendered.rendered.c,
    null,
    false,
    {},
    null,
  );
  return { html: buffer.replace(MAGIC_ID, ""), streams: Array.from(streams) };
}

function runCase(testCase) {
  let client = null;
  const steps = [];
  for (let i = 0; i < testCase.diffs.length; i++) {
    try {
      const { diff } = Rendered.extract(
        JSON.parse(JSON.stringify(testCase.diffs[i])),
      );
      if (client === null) {
        client = new Rendered(testCase.view, diff);
      } else {
        client.mergeDiff(diff);
      }
      steps.push(render(client));
    } catch (err) {
      return { id: testCase.id, step: i, error: String(err) };
    }
  }
  return { id: testCase.id, steps };
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (line.trim() === "") continue;
  let answer;
  try {
    answer = runCase(JSON.parse(line));
  } catch (err) {
    answer = { id: null, error: "bad case: " + String(err) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
