// Drives hotline's flame graph page in headless Chromium over the DevTools protocol (a pipe:
// no port, no third-party client) the way a user would: load it, hover the hot frame, click
// to zoom, reset, search, flip to icicle, read the table; a screenshot is kept. Prints what
// it observed as JSON; the C++ test asserts on it.
//
//   node check_flamegraph.mjs PAGE.html [--browser CHROMIUM] --hot NAME [--zoom NAME] [--search TEXT]
//        [--screenshot OUT.png]
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const args = process.argv.slice(2);
const page = resolve(args[0]);
const opt = (name) => {
  const i = args.indexOf("--" + name);
  return i >= 0 ? args[i + 1] : undefined;
};
const browserPath = opt("browser") || "/usr/bin/chromium";

const profile = mkdtempSync(join(tmpdir(), "hotline-chromium-"));
const browser = spawn(browserPath, [
  "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe", `--user-data-dir=${profile}`,
  "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--disable-default-apps", "--window-size=1400,900",
  "--hide-scrollbars", "about:blank",
], { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"], detached: true });
let stderr = "";
browser.stderr.on("data", (d) => { stderr += d; });

const pipeIn = browser.stdio[3], pipeOut = browser.stdio[4];
let nextId = 1, buffer = "";
const pending = new Map(), listeners = [];
pipeOut.on("data", (chunk) => {
  buffer += chunk.toString("utf8");
  let end;
  while ((end = buffer.indexOf("\0")) >= 0) {
    const message = JSON.parse(buffer.slice(0, end));
    buffer = buffer.slice(end + 1);
    if (message.id && pending.has(message.id)) {
      const { ok, fail } = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) fail(new Error(JSON.stringify(message.error)));
      else ok(message.result);
    } else {
      for (const l of listeners) l(message);
    }
  }
});
function send(method, params = {}, sessionId) {
  const id = nextId++;
  const message = { id, method, params };
  if (sessionId) message.sessionId = sessionId;
  pipeIn.write(JSON.stringify(message) + "\0");
  return new Promise((ok, fail) => pending.set(id, { ok, fail }));
}
function waitFor(method, timeoutMs = 15000) {
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error("timed out waiting for " + method)), timeoutMs);
    listeners.push(function l(m) {
      if (m.method === method) {
        clearTimeout(timer);
        listeners.splice(listeners.indexOf(l), 1);
        ok(m.params);
      }
    });
  });
}

const observed = { requests: [], errors: [] };
let session;
const cmd = (method, params) => send(method, params, session);
async function evaluate(expression) {
  const r = await cmd("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true });
  if (r.exceptionDetails) throw new Error("page script failed: " + JSON.stringify(r.exceptionDetails));
  return r.result.value;
}
const framesJs = `Array.from(document.querySelectorAll("#graph .f")).map(e => ({
  label: e.dataset.label, left: e.offsetLeft, width: e.offsetWidth, top: e.offsetTop,
  match: e.classList.contains("match"), background: e.style.background,
  delta: e.dataset.delta === undefined ? null : Number(e.dataset.delta),
  x: e.getBoundingClientRect().left + e.getBoundingClientRect().width / 2,
  y: e.getBoundingClientRect().top + e.getBoundingClientRect().height / 2 }))`;
const frames = () => evaluate(framesJs);
async function mouse(type, x, y) {
  await cmd("Input.dispatchMouseEvent", { type, x, y, button: type === "mouseMoved" ? "none" : "left", clickCount: 1 });
}
async function click(x, y) {
  await mouse("mouseMoved", x, y);
  await mouse("mousePressed", x, y);
  await mouse("mouseReleased", x, y);
}
async function clickSelector(selector) {
  const c = await evaluate(`(() => { const r = document.querySelector(${JSON.stringify(selector)}).getBoundingClientRect();
    return [r.left + r.width / 2, r.top + r.height / 2]; })()`);
  await click(c[0], c[1]);
}
const widest = (list, label) => list.filter((f) => f.label === label).sort((a, b) => b.width - a.width)[0];

try {
  const target = await send("Target.createTarget", { url: "about:blank" });
  session = (await send("Target.attachToTarget", { targetId: target.targetId, flatten: true })).sessionId;
  listeners.push((m) => {
    if (m.sessionId !== session) return;
    if (m.method === "Network.requestWillBeSent") observed.requests.push(m.params.request.url);
    if (m.method === "Runtime.exceptionThrown") observed.errors.push(m.params.exceptionDetails.text);
    if (m.method === "Runtime.consoleAPICalled" && m.params.type === "error") observed.errors.push(JSON.stringify(m.params.args));
  });
  await cmd("Network.enable");
  await cmd("Runtime.enable");
  await cmd("Page.enable");
  await cmd("Emulation.setDeviceMetricsOverride", { width: 1400, height: 900, deviceScaleFactor: 1, mobile: false });
  const loaded = waitFor("Page.loadEventFired");
  await cmd("Page.navigate", { url: pathToFileURL(page).href });
  await loaded;
  observed.ready = await evaluate(`document.body.dataset.ready === "1"`);
  observed.title = await evaluate(`document.getElementById("title").textContent`);
  observed.graphWidth = await evaluate(`document.getElementById("graph").clientWidth`);
  observed.frames = await frames();
  observed.table = await evaluate(`Array.from(document.querySelectorAll("#lines tbody tr")).map(r =>
    Array.from(r.cells).map(c => c.textContent))`);
  observed.tableHead = await evaluate(`Array.from(document.querySelectorAll("#lines th")).map(c => c.textContent)`);

  const hot = widest(observed.frames, opt("hot"));
  if (hot) {
    await mouse("mouseMoved", hot.x, hot.y);
    observed.tooltip = await evaluate(`getComputedStyle(document.getElementById("tip")).display === "block"
      ? document.getElementById("tip").textContent : null`);
  }
  if (opt("screenshot")) {
    const shot = await cmd("Page.captureScreenshot", { format: "png" });
    writeFileSync(opt("screenshot"), Buffer.from(shot.data, "base64"));
  }
  const zoomTo = widest(observed.frames, opt("zoom"));
  if (zoomTo) {
    await click(zoomTo.x, zoomTo.y);
    observed.zoomed = await frames();
    await clickSelector("#reset");
    observed.reset = await frames();
  }
  if (opt("search")) {
    await clickSelector("#search");
    await cmd("Input.insertText", { text: opt("search") });
    observed.searched = await frames();
    observed.matched = await evaluate(`document.getElementById("matched").textContent`);
    await cmd("Input.dispatchKeyEvent", { type: "keyDown", key: "Escape", code: "Escape", windowsVirtualKeyCode: 27 });
    await cmd("Input.dispatchKeyEvent", { type: "keyUp", key: "Escape", code: "Escape", windowsVirtualKeyCode: 27 });
    observed.cleared = await frames();
  }
  await clickSelector("#orient");
  observed.icicle = await frames();
  console.log(JSON.stringify(observed));
} catch (e) {
  console.error(String(e && e.stack || e));
  console.error(stderr.slice(-4000));
  process.exitCode = 1;
} finally {
  // Close the browser and wait for it; then its whole process group (renderers, zygote),
  // which may outlive it a moment; the throwaway profile goes last, best effort.
  const exited = new Promise((ok) => (browser.exitCode !== null ? ok() : browser.once("exit", ok)));
  await Promise.race([send("Browser.close").catch(() => {}), new Promise((ok) => setTimeout(ok, 5000))]);
  await Promise.race([exited, new Promise((ok) => setTimeout(ok, 5000))]);
  try { process.kill(-browser.pid, "SIGKILL"); } catch {}
  await new Promise((ok) => setTimeout(ok, 100));
  try { rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }); } catch {}
  process.exit();
}
