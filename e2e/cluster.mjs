// A showcase cluster for the multi-node tests, all on 127.0.0.1 with free
// ports: a Redis server, several showcase nodes that share a secret and that
// Redis, and nginx in front as a round-robin load balancer with WebSocket
// upgrade. `stop()` ends every process it started.
//
// nginx adds an `X-Upstream` header (the node's `127.0.0.1:port`) to every
// response, the WebSocket handshake's included, so a test can tell which
// node a page's live socket went to (see `watchUpstreams`).
import { spawn } from "node:child_process";
import { accessSync, constants, rmSync } from "node:fs";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const target = process.env.CARGO_TARGET_DIR ?? join(root, "target");

/// The showcase binary the nodes run.
export const SHOWCASE = join(target, "debug", "showcase");

/// The path of an executable named `name` on the `PATH`, or in the sbin
/// directories where Debian puts daemons; null if there is none.
export function which(name) {
  const directories = [...(process.env.PATH ?? "").split(delimiter), "/usr/local/sbin", "/usr/sbin", "/sbin"];
  for (const directory of directories) {
    if (!directory) continue;
    const path = join(directory, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return null;
}

export const NGINX = process.env.NGINX ?? which("nginx");
export const REDIS_SERVER = process.env.REDIS_SERVER ?? which("redis-server");

/// Why the cluster cannot run on this machine, or null if it can.
export function missingTools() {
  const missing = [];
  if (!REDIS_SERVER) missing.push("redis-server");
  if (!NGINX) missing.push("nginx");
  return missing.length === 0 ? null : `${missing.join(" and ")} not found (install Debian's redis-server and nginx-light)`;
}

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

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/// Sends `signal`, then SIGKILL if the process has not exited after `grace` ms.
async function terminate(child, signal = "SIGTERM", grace = 5_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), grace);
  await exited(child);
  clearTimeout(timer);
}

/// A child process whose output (stdout and stderr together) is kept.
class Process {
  constructor(name, command, args, env) {
    this.name = name;
    this.output = "";
    this.child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    const keep = (chunk) => {
      // Colors off or not, the kept text is plain.
      this.output += chunk.toString().replace(/\x1b\[[0-9;]*m/g, "");
    };
    this.child.stdout.on("data", keep);
    this.child.stderr.on("data", keep);
    this.child.on("error", (error) => {
      this.output += `\n${error.stack ?? error}\n`;
    });
  }

  get alive() {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /// How it ended, for messages: "running", "exited with 1", "killed by SIGKILL".
  get state() {
    if (this.alive) return "running";
    return this.child.signalCode ? `killed by ${this.child.signalCode}` : `exited with ${this.child.exitCode}`;
  }

  /// The last lines of its output.
  tail(lines = 30) {
    const all = this.output.trimEnd().split("\n");
    return `--- ${this.name} (${this.state}), last lines:\n${all.slice(-lines).join("\n")}`;
  }

  async kill() {
    this.child.kill("SIGKILL");
    await exited(this.child);
  }
}

/// Waits until `ready()` resolves true, checking every 50 ms for up to
/// `timeout` ms; fails early if `child` exits.
async function waitUntil(ready, child, what, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (!child.alive) throw new Error(`${child.name} ${child.state} before ${what}\n${child.tail()}`);
    if (await ready().catch(() => false)) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}\n${child.tail()}`);
}

async function answers(url) {
  const response = await fetch(url);
  await response.arrayBuffer();
  return response.ok;
}

/// True if a Redis server answers PING on `port`.
function pong(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let reply = "";
    const done = (value) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.on("error", () => done(false));
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (data) => {
      reply += data.toString();
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
  });
}

function nginxConfig(dir, port, nodePorts) {
  const servers = nodePorts.map((nodePort) => `    server 127.0.0.1:${nodePort};`).join("\n");
  return `# The load balancer of the multi-node tests.
${process.getuid?.() === 0 ? "user root;\n" : ""}worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;

events {
  worker_connections 1024;
}

http {
  access_log ${dir}/nginx-access.log;
  client_body_temp_path ${dir}/temp/client_body;
  proxy_temp_path ${dir}/temp/proxy;
  fastcgi_temp_path ${dir}/temp/fastcgi;
  uwsgi_temp_path ${dir}/temp/uwsgi;
  scgi_temp_path ${dir}/temp/scgi;

  # "Connection: upgrade" on WebSocket handshakes, "close" on the rest.
  map $http_upgrade $connection_upgrade {
    default upgrade;
    "" close;
  }

  # Round robin (nginx's default) over the nodes; any node serves any page,
  # since the session tokens are signed with the shared secret.
  upstream showcase {
${servers}
  }

  server {
    listen 127.0.0.1:${port};

    location / {
      proxy_pass http://showcase;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      # The node compares the page's Origin with the Host it is served on.
      proxy_set_header Host $host:$server_port;
      # A dead node refuses connections: nginx tries the next one at once.
      proxy_connect_timeout 2s;
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
      add_header X-Upstream $upstream_addr always;
    }
  }
}
`;
}

/// Starts the cluster: Redis, `options.nodes` showcase nodes (3 by
/// default) named `web-1`, `web-2`, …, and nginx in front of them.
/// `options.secret` is the `CINDER_SECRET_KEY_BASE` they share.
export async function startCluster(options = {}) {
  const count = options.nodes ?? 3;
  const secret = options.secret;
  const dir = await mkdtemp(join(tmpdir(), "cinder-cluster-"));
  await mkdir(join(dir, "temp"));
  const cluster = new Cluster(dir);
  registerCleanup(cluster);
  try {
    cluster.redisPort = await freePort();
    await cluster.startRedis();
    const redisUrl = `redis://127.0.0.1:${cluster.redisPort}`;
    for (let index = 1; index <= count; index += 1) {
      const name = `web-${index}`;
      const port = await freePort();
      const child = new Process(name, SHOWCASE, ["--port", String(port)], {
        CINDER_SECRET_KEY_BASE: secret,
        CINDER_REDIS_URL: redisUrl,
        CINDER_NODE: name,
        RUST_LOG: "info",
        NO_COLOR: "1",
      });
      cluster.nodes.push({ name, port, base: `http://127.0.0.1:${port}`, process: child });
    }
    for (const node of cluster.nodes) {
      await waitUntil(() => answers(`${node.base}/`), node.process, `${node.name} to answer at ${node.base}`);
    }
    const port = await freePort();
    const config = join(dir, "nginx.conf");
    await writeFile(
      config,
      nginxConfig(
        dir,
        port,
        cluster.nodes.map((node) => node.port),
      ),
    );
    cluster.nginx = new Process("nginx", NGINX, ["-p", dir, "-e", join(dir, "nginx-error.log"), "-c", config, "-g", "daemon off;"]);
    cluster.base = `http://127.0.0.1:${port}`;
    await waitUntil(() => answers(`${cluster.base}/`), cluster.nginx, `nginx to answer at ${cluster.base}`);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

const running = new Set();
let cleanupRegistered = false;

/// Kills what is left if the test process ends without `stop()`.
function registerCleanup(cluster) {
  running.add(cluster);
  if (cleanupRegistered) return;
  cleanupRegistered = true;
  process.on("exit", () => {
    for (const each of running) each.killNow();
  });
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.once(signal, () => {
      for (const each of running) each.killNow();
      process.exit(128 + (signal === "SIGINT" ? 2 : 15));
    });
  }
}

class Cluster {
  constructor(dir) {
    this.dir = dir;
    this.nodes = [];
    this.redis = null;
    this.redisPort = null;
    this.nginx = null;
    /// nginx's address: `http://127.0.0.1:port`.
    this.base = null;
  }

  /// The node that answered, given an `X-Upstream` header: nginx lists
  /// every address it tried (`127.0.0.1:a, 127.0.0.1:b`), the last one
  /// answered. Null if that is none of the nodes.
  nodeAt(upstream) {
    const address = (upstream ?? "").match(/\d+\.\d+\.\d+\.\d+:\d+/g)?.at(-1);
    return this.nodes.find((node) => address === `127.0.0.1:${node.port}`) ?? null;
  }

  /// Starts Redis on the cluster's port, empty, without persistence.
  async startRedis() {
    this.redis = new Process("redis-server", REDIS_SERVER, [
      "--port",
      String(this.redisPort),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
    ]);
    await waitUntil(() => pong(this.redisPort), this.redis, `Redis to answer on port ${this.redisPort}`);
  }

  /// Kills Redis at once (SIGKILL).
  async killRedis() {
    await this.redis.kill();
  }

  /// Kills a node at once (SIGKILL): its sockets drop, it says no goodbye.
  async killNode(node) {
    await node.process.kill();
  }

  /// Waits until every node in `nodes` has printed a line matching
  /// `pattern` after offset `since[node.name]` of its output.
  async waitForLogs(nodes, pattern, since, what, timeout = 30_000) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const waiting = nodes.filter((node) => !pattern.test(node.process.output.slice(since[node.name] ?? 0)));
      if (waiting.length === 0) return;
      const dead = nodes.find((node) => !node.process.alive);
      if (dead || Date.now() > deadline) {
        const why = dead ? `${dead.name} ${dead.process.state}` : "timed out";
        throw new Error(`${why} waiting for ${what}\n${this.tails()}`);
      }
      await sleep(50);
    }
  }

  /// Where each node's output is now, for `waitForLogs`.
  logOffsets() {
    return Object.fromEntries(this.nodes.map((node) => [node.name, node.process.output.length]));
  }

  /// The last lines of every process's output, for failure messages.
  tails(lines = 20) {
    return [this.redis, ...this.nodes.map((node) => node.process), this.nginx]
      .filter(Boolean)
      .map((child) => child.tail(lines))
      .join("\n");
  }

  /// Synchronous last resort at exit: nothing survives the test process.
  killNow() {
    for (const node of this.nodes) node.process.child.kill("SIGKILL");
    this.redis?.child.kill("SIGKILL");
    // The master stops its workers on SIGTERM; SIGKILL would orphan them.
    this.nginx?.child.kill("SIGTERM");
    rmSync(this.dir, { recursive: true, force: true });
  }

  /// Stops nginx, the nodes and Redis, and removes the temporary directory.
  async stop() {
    running.delete(this);
    // SIGTERM is nginx's fast shutdown: open WebSockets do not hold it up.
    if (this.nginx) await terminate(this.nginx.child);
    await Promise.all(this.nodes.map((node) => terminate(node.process.child)));
    if (this.redis) await terminate(this.redis.child);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/// Records, for `page`, the node behind each WebSocket it opens (each
/// handshake answered with 101), from the `X-Upstream` header nginx adds: an array of
/// `{ url, upstream }`, newest last, that grows as the page (re)connects.
/// Pages opened directly on a node record `upstream: null`.
export async function watchUpstreams(page) {
  const handshakes = [];
  const urls = new Map();
  const cdp = await page.context().newCDPSession(page);
  cdp.on("Network.webSocketCreated", ({ requestId, url }) => urls.set(requestId, url));
  cdp.on("Network.webSocketHandshakeResponseReceived", ({ requestId, response }) => {
    const header = Object.entries(response.headers ?? {}).find(([name]) => name.toLowerCase() === "x-upstream");
    if (response.status !== 101) return;
    handshakes.push({ url: urls.get(requestId) ?? null, upstream: header ? header[1] : null });
  });
  await cdp.send("Network.enable");
  return handshakes;
}
