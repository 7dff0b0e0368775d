// The official `phoenix_live_view` client's `Rendered` class, bundled from
// the package's sources with esbuild, for the oracles that run it in node.
import { buildSync } from "esbuild";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

globalThis.window = globalThis;

const here = dirname(fileURLToPath(import.meta.url));
const entry = join(
  here,
  "node_modules/phoenix_live_view/assets/js/phoenix_live_view/rendered.js",
);
const bundle = buildSync({
  entryPoints: [entry],
  bundle: true,
  format: "esm",
  platform: "node",
  write: false,
  logLevel: "silent",
});
const { default: Rendered } = await import(
  "data:text/javascript;base64," +
    Buffer.from(bundle.outputFiles[0].text).toString("base64")
);

export default Rendered;
