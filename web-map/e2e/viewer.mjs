// Browser test of the map viewer, driven through Debian's Chromium.
//
//   node web-map/e2e/viewer.mjs <baseURL> <screenshot.png> [<token> <file.geojson>]
//
// Opens the viewer, waits until every layer with features has drawn some,
// clicks a point or polygon feature and checks the popup shows its
// attributes, writes a screenshot (popup open), then unticks that layer and
// checks its features are gone and come back when ticked again. With a
// department token and a file, it then uploads the file through the form
// as the layer "uploaded": a wrong token first, which must be refused with
// nothing changed, then the right one, after which the viewer must list the
// new layer and draw its features. Prints the screenshot path; exits 1 with
// the reason on any failure.
//
// Never downloads a browser: it runs /usr/bin/chromium (or $CHROMIUM).
import { chromium } from 'playwright-core';
import { resolve } from 'node:path';

const TIMEOUT = 30_000; // each wait
const WATCHDOG = 100_000; // the whole run, under callers' 2-minute limits

// Playwright adds --headless, --no-sandbox, --enable-unsafe-swiftshader and
// a fresh temporary --user-data-dir itself; the list is spelled out so the
// run does not depend on its defaults. WebGL comes from SwiftShader through
// ANGLE: there is no GPU, and Chromium no longer falls back to it unasked.
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
];

const [baseURL, shotArg, token, uploadFile] = process.argv.slice(2);
if (!baseURL || !shotArg || (token && !uploadFile)) {
  console.error('usage: node viewer.mjs <baseURL> <screenshot.png> [<token> <file.geojson>]');
  process.exit(2);
}
const shot = resolve(shotArg);

class Failure extends Error {}
function check(ok, message) {
  if (!ok) throw new Failure(message);
}

// Waits for fn(arg) in the page to return a truthy value, failing with what.
async function waitFor(page, what, fn, arg) {
  try {
    return await (await page.waitForFunction(fn, arg, { timeout: TIMEOUT, polling: 100 })).jsonValue();
  } catch (err) {
    throw new Failure(`timed out after ${TIMEOUT / 1000}s waiting for ${what}: ${err.message.split('\n')[0]}`);
  }
}

// In the page: the data layers, each with its style layer ids and their types.
function dataLayers() {
  const map = window.csdiMap;
  const out = {};
  for (const l of map.getStyle().layers) {
    if (!l.source) continue;
    out[l.source] ??= { id: l.source, styleLayers: [], types: [] };
    out[l.source].styleLayers.push(l.id);
    out[l.source].types.push(l.type);
  }
  return Object.values(out);
}

async function run(page, problems) {
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`));
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`);
  });

  const res = await page.goto(baseURL, { timeout: TIMEOUT }).catch((err) => {
    throw new Failure(`open ${baseURL}: ${err.message.split('\n')[0]}`);
  });
  check(res && res.ok(), `GET ${baseURL}: HTTP ${res?.status()}`);

  const state = await waitFor(page, 'the viewer to be ready (window.csdiReady)',
    () => window.csdiReady === true ? 'ready' : window.csdiError ? `error: ${window.csdiError}` : false);
  check(state === 'ready', `viewer failed: ${state}`);

  const layers = await page.evaluate(async () => {
    const r = await fetch('/api/layers');
    return (await r.json()).map((l) => ({ id: l.id, title: l.title, count: l.feature_count }));
  });
  check(layers.length > 0, 'GET /api/layers returned no layers: nothing to test');
  const styled = await page.evaluate(dataLayers);
  for (const l of layers) {
    check(styled.some((s) => s.id === l.id), `layer ${l.id} from /api/layers has no style layers on the map`);
  }

  // Every layer with features must draw some in the initial (fitted) view.
  const expected = layers.filter((l) => l.count > 0).map((l) => l.id);
  // In the page: the ids of the layers that draw no feature.
  const undrawn = ({ styled, ids }) => ids.filter((id) =>
    window.csdiMap.queryRenderedFeatures({ layers: styled.find((s) => s.id === id).styleLayers }).length === 0);
  try {
    await page.waitForFunction(({ styled, ids }) => window.csdiMap.loaded() && window.csdiMap.areTilesLoaded() &&
      ids.every((id) => window.csdiMap.queryRenderedFeatures({ layers: styled.find((s) => s.id === id).styleLayers }).length > 0),
    { styled, ids: expected }, { timeout: TIMEOUT, polling: 100 });
  } catch {
    const missing = await page.evaluate(undrawn, { styled, ids: expected });
    throw new Failure(`after ${TIMEOUT / 1000}s these layers still draw no feature in the fitted view: ${missing.join(', ') || '(none, but tiles were still loading)'}`);
  }

  // A point feature at its projected position, else a polygon found by
  // scanning pixels; either way the feature must be the top one at that
  // pixel, over the map canvas and not under the side panel.
  const target = await page.evaluate((styled) => {
    const map = window.csdiMap;
    const canvas = map.getCanvas();
    const box = canvas.getBoundingClientRect();
    const typeOf = new Map();
    for (const s of styled) s.styleLayers.forEach((id, i) => typeOf.set(id, s.types[i]));
    const all = [...typeOf.keys()];
    const topAt = (x, y) => {
      if (x < 5 || y < 5 || x > box.width - 5 || y > box.height - 5) return null;
      if (document.elementFromPoint(box.left + x, box.top + y) !== canvas) return null;
      return map.queryRenderedFeatures([x, y], { layers: all })[0] || null;
    };
    const describe = (f, x, y) => ({
      x: box.left + x, y: box.top + y, layer: f.source, styleLayer: f.layer.id, type: f.layer.type,
      id: f.id ?? null, properties: f.properties,
    });
    const circles = all.filter((id) => typeOf.get(id) === 'circle');
    if (circles.length) {
      for (const f of map.queryRenderedFeatures({ layers: circles })) {
        if (f.geometry.type !== 'Point') continue;
        const p = map.project(f.geometry.coordinates);
        const top = topAt(p.x, p.y);
        if (top && top.source === f.source && top.id === f.id && top.layer.type === 'circle') return describe(top, p.x, p.y);
      }
    }
    // Nearest the middle first, so the popup has room around it.
    const pixels = [];
    for (let y = 15; y < box.height; y += 12) for (let x = 15; x < box.width; x += 12) pixels.push([x, y]);
    const d = ([x, y]) => (x - box.width / 2) ** 2 + (y - box.height / 2) ** 2;
    pixels.sort((a, b) => d(a) - d(b));
    for (const [x, y] of pixels) {
      const top = topAt(x, y);
      if (top && top.layer.type === 'fill') return describe(top, x, y);
    }
    return null;
  }, styled);
  check(target, 'found no point or polygon feature to click on the visible map');
  console.error(`clicking ${target.layer} feature ${target.id} (${target.type}) at ${Math.round(target.x)},${Math.round(target.y)}`);

  await page.mouse.click(target.x, target.y);
  const popup = page.locator('.maplibregl-popup');
  try {
    await popup.waitFor({ state: 'visible', timeout: TIMEOUT });
  } catch {
    throw new Failure(`no popup appeared after clicking ${target.layer} feature ${target.id}`);
  }
  const text = await popup.innerText();
  const title = layers.find((l) => l.id === target.layer).title;
  check(text.includes(title), `popup does not name the layer "${title}"; it reads:\n${text}`);
  const values = Object.entries(target.properties).filter(([, v]) => v !== null && v !== '');
  check(values.length > 0, `feature ${target.id} of ${target.layer} has no attributes to look for`);
  for (const [k, v] of values) {
    check(text.includes(k), `popup lacks attribute name "${k}"; it reads:\n${text}`);
    check(text.includes(String(v)), `popup lacks the value of "${k}" (${JSON.stringify(v)}); it reads:\n${text}`);
  }
  // Attribute text must be shown as text: no markup from the data may land in the DOM.
  const injected = await popup.locator('td script, td b, td img').count();
  check(injected === 0, 'popup rendered attribute values as HTML');

  await page.screenshot({ path: shot });

  const layer = styled.find((s) => s.id === target.layer);
  const box = page.locator(`#layers input[type=checkbox][data-layer="${target.layer}"]`);
  check(await box.count() === 1, `no checkbox for layer ${target.layer} in the side panel`);
  await box.uncheck({ timeout: TIMEOUT });
  await waitFor(page, `layer ${target.layer} to disappear after unticking it`, (ids) => {
    const map = window.csdiMap;
    return ids.every((id) => map.getLayoutProperty(id, 'visibility') === 'none') &&
      map.queryRenderedFeatures({ layers: ids }).length === 0;
  }, layer.styleLayers);
  const others = expected.filter((id) => id !== target.layer);
  const othersDrawn = await page.evaluate(({ styled, others }) => others.every((id) =>
    window.csdiMap.queryRenderedFeatures({ layers: styled.find((s) => s.id === id).styleLayers }).length > 0), { styled, others });
  check(othersDrawn, `unticking ${target.layer} hid other layers too`);
  await box.check({ timeout: TIMEOUT });
  await waitFor(page, `layer ${target.layer} to come back after ticking it`, (ids) =>
    window.csdiMap.queryRenderedFeatures({ layers: ids }).length > 0, layer.styleLayers);

  if (token) await upload(page, problems);
  check(problems.length === 0, `the page reported problems:\n  ${problems.join('\n  ')}`);
}

// Drives the upload form: a wrong token, then the right one.
async function upload(page, problems) {
  const id = 'uploaded';
  await page.locator('#upload summary').click();
  const form = page.locator('#upload-form');
  await form.locator('input[name=id]').fill(id);
  await form.locator('input[name=title]').fill('Uploaded in the browser');
  await form.locator('input[name=file]').setInputFiles(resolve(uploadFile));

  await form.locator('input[name=token]').fill('not-a-token');
  await form.locator('button[type=submit]').click();
  const refused = await waitFor(page, 'the upload with a wrong token to be refused',
    () => document.querySelector('#upload-status.error')?.textContent);
  check(refused.includes('HTTP 401'), `a wrong token was not refused with 401; the form says: ${refused}`);
  // The browser reports the refusal it was meant to get; nothing else may be.
  for (let i = problems.length - 1; i >= 0; i--) {
    if (/401/.test(problems[i])) problems.splice(i, 1);
  }
  const listed = await page.evaluate(async (id) => (await (await fetch('/api/layers')).json()).some((l) => l.id === id), id);
  check(!listed, 'the refused upload created the layer anyway');

  await form.locator('input[name=token]').fill(token);
  const reloaded = page.waitForEvent('load', { timeout: TIMEOUT });
  await form.locator('button[type=submit]').click();
  try {
    await reloaded;
  } catch {
    const said = await page.locator('#upload-status').textContent().catch(() => '');
    throw new Failure(`the viewer did not reload after the upload; the form says: ${said}`);
  }
  // Tile requests in flight when the page reloaded were cut short on purpose.
  for (let i = problems.length - 1; i >= 0; i--) {
    if (/ERR_ABORTED/.test(problems[i])) problems.splice(i, 1);
  }
  const state = await waitFor(page, 'the viewer to be ready after the upload',
    () => window.csdiReady === true ? 'ready' : window.csdiError ? `error: ${window.csdiError}` : false);
  check(state === 'ready', `viewer failed after the upload: ${state}`);
  const report = await page.locator('#upload-status').textContent();
  check(/features imported/.test(report) && !/rejected [1-9]/.test(report), `the upload's report reads: ${report}`);
  check(await page.locator(`#layers li[data-layer="${id}"]`).count() === 1, `the uploaded layer ${id} is not in the layer list`);
  await waitFor(page, `the uploaded layer ${id} to draw its features`, (id) => {
    const map = window.csdiMap;
    const ids = map.getStyle().layers.filter((l) => l.source === id).map((l) => l.id);
    return ids.length > 0 && map.queryRenderedFeatures({ layers: ids }).length > 0;
  }, id);
  const after = shot.replace(/\.png$/, '') + '-upload.png';
  await page.screenshot({ path: after });
  console.error(`uploaded ${uploadFile} as ${id}: ${report.split('\n')[0]}; screenshot ${after}`);
}

const watchdog = setTimeout(() => {
  console.error(`viewer e2e: FAIL: still running after ${WATCHDOG / 1000}s`);
  process.exit(1);
}, WATCHDOG);

let browser;
let page;
let code = 0;
const problems = []; // what the page complained about, reported with any failure
try {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ARGS,
    headless: true,
    timeout: TIMEOUT,
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await run(page, problems);
  console.log(shot);
} catch (err) {
  console.error(`viewer e2e: FAIL: ${err instanceof Failure ? err.message : err.stack}`);
  if (problems.length && !(err instanceof Failure && err.message.startsWith('the page reported'))) {
    console.error(`the page also reported:\n  ${problems.join('\n  ')}`);
  }
  // What the page looked like when it failed, for whoever reads the log.
  if (page && await page.screenshot({ path: shot, timeout: 5000 }).then(() => true, () => false)) {
    console.error(`screenshot of the failure: ${shot}`);
  }
  code = 1;
} finally {
  await browser?.close().catch(() => {});
  clearTimeout(watchdog);
}
process.exit(code);
