// Diff oracle for Cinder's test suite.
//
// Runs the official `phoenix_live_view` client's own rendering code (its
// `Rendered` class, bundled from the package's sources with esbuild) in node.
// Each line on stdin is one case, a JSON object:
//
//   {"id": 7, "steps": [{"diff": {...}, "full": {...}, "html": "..."}, ...]}
//
// For every step the client merges `diff` into the tree it holds (the first
// step's diff is the join's rendered tree) and renders it to HTML. That HTML
// must equal both a fresh client tree built from `full` (the same state sent
// as a first render) and `html`, the server's own dead render of the state
// (`html` may be null: then only `full` is compared).
//
// A case with `"components": true` comes from a live view with stateful
// components, its diffs recorded from one connection and each `full` from a
// fresh connection to the same state: component ids differ between the two,
// so `data-phx-component` and `phx-target` values are left out of the
// comparison, and so is the flash of the default layout (`#flash`), which
// belongs to one connection. A step's `"prune": [cids]` removes those components from the
// client's tree first, as the client does when `cids_destroyed` is answered.
//
// A case with `"streams": true` checks streams, which the client keeps in the
// DOM, not in its tree: after merging each step's `diff`, one render must
// give `html` (only the items this diff inserts) and report exactly
// `streams` (`[ref, inserts, deleteIds, reset?]`, what the DOM patch applies).
// One JSON line answers each case: {"id": 7, "ok": true} or the details of the
// first mismatch.
import { createInterface } from "node:readline";
import Rendered from "./client-rendered.mjs";

const VIEW_ID = "phx-oracle";
const MAGIC_ID = / data-phx-id="[^"]*"/g;

// What the page would show: the tree rendered without the skip optimization,
// with the client's bookkeeping ids removed so two trees can be compared.
function plainHTML(rendered) {
  const { buffer } = rendered.recursiveToString(
    rendered.rendered,
    rendered.rendered.c,
    null,
    false,
    {},
    null,
  );
  return buffer.replace(MAGIC_ID, "");
}

// Renders the way the view does on every patch, so anything the real path
// throws on fails the case too.
function patchRender(rendered) {
  return rendered.toString().buffer;
}

// The client's tree as a fresh client would hold it: a deep copy without
// the render bookkeeping (`magicId`, `newRender`) that makes components'
// unchanged parts render as `data-phx-skip` placeholders for the DOM patch.
function withoutBookkeeping(tree) {
  const copy = JSON.parse(JSON.stringify(tree));
  const strip = (node) => {
    if (node === null || typeof node !== "object") return;
    delete node.magicId;
    delete node.newRender;
    delete node.reset;
    for (const key in node) strip(node[key]);
  };
  strip(copy);
  return new Rendered(VIEW_ID, copy);
}

const CID_VALUES = / (data-phx-component|phx-target)="\d+"/g;
const FLASH = /^<div id="flash">[\s\S]*?<\/div>\n/;

function runStreamCase(testCase) {
  let client = null;
  for (let i = 0; i < testCase.steps.length; i++) {
    const step = testCase.steps[i];
    const wire = JSON.stringify(step.diff);
    try {
      const { diff } = Rendered.extract(JSON.parse(wire));
      if (client === null) {
        client = new Rendered(VIEW_ID, diff);
      } else {
        client.mergeDiff(diff);
      }
      const { buffer, streams } = client.recursiveToString(client.rendered, client.rendered.c, null, false, {}, null);
      const html = buffer.replace(MAGIC_ID, "");
      const reported = JSON.stringify([...streams]);
      const expected = JSON.stringify(step.streams);
      if (html !== step.html || reported !== expected) {
        return { id: testCase.id, ok: false, step: i, diff: wire, html, expectedHtml: step.html, streams: reported, expectedStreams: expected };
      }
    } catch (err) {
      return { id: testCase.id, ok: false, step: i, diff: wire, error: String(err && err.stack ? err.stack : err) };
    }
  }
  return { id: testCase.id, ok: true };
}

function runCase(testCase) {
  if (testCase.streams) return runStreamCase(testCase);
  let client = null;
  const normalize = testCase.components ? (html) => html.replace(CID_VALUES, ' $1=""').replace(FLASH, "") : (html) => html;
  for (let i = 0; i < testCase.steps.length; i++) {
    const step = testCase.steps[i];
    const wire = JSON.stringify(step.diff);
    try {
      if (step.prune && client !== null) client.pruneCIDs(step.prune);
      const { diff } = Rendered.extract(JSON.parse(wire));
      if (client === null) {
        client = new Rendered(VIEW_ID, diff);
      } else {
        client.mergeDiff(diff);
      }
      patchRender(client);
      const merged = normalize(
        plainHTML(testCase.components ? withoutBookkeeping(client.rendered) : client),
      );
      const fresh = new Rendered(
        VIEW_ID,
        Rendered.extract(JSON.parse(JSON.stringify(step.full))).diff,
      );
      const freshHTML = normalize(plainHTML(fresh));
      if (merged !== freshHTML || (step.html !== null && merged !== step.html)) {
        return {
          id: testCase.id,
          ok: false,
          step: i,
          diff: wire,
          merged,
          fresh: freshHTML,
          server: step.html,
        };
      }
    } catch (err) {
      return {
        id: testCase.id,
        ok: false,
        step: i,
        diff: wire,
        error: String(err && err.stack ? err.stack : err),
      };
    }
  }
  return { id: testCase.id, ok: true };
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (line.trim() === "") continue;
  let answer;
  try {
    answer = runCase(JSON.parse(line));
  } catch (err) {
    answer = { id: null, ok: false, error: "bad case: " + String(err) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
