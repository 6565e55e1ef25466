// Headless-Chromium checks of the built report site (driven by
// scripts/e2e/40-site-browser.sh, which builds the site and sets the env).
//
// Serves SITE_ROOT on 127.0.0.1 (an ephemeral port; the site itself lives
// under SITE_PATH, e.g. /electrum-observatory/, like a GitHub Pages project
// site) and drives Debian's Chromium through playwright-core (no downloaded
// browser). The data the site fetches can be swapped per check (missing
// index, unknown schema version, a 2,000-server snapshot) without rebuilding.
//
//   MODE=test     the functional checks; exits non-zero on the first failure.
//   MODE=measure  time to first render of the snapshot at MEASURE_SNAPSHOT;
//                 prints figures, asserts nothing about time.
//
// Environment: SITE_ROOT, SITE_PATH, FIXTURE (snapshot JSON; its server whose
// banner carries `onerror=` is the XSS case), SHOTS (screenshot folder), CHROMIUM (browser binary),
// PLAYWRIGHT (path of the playwright-core package), MODE, MEASURE_SNAPSHOT,
// MEASURE_LABEL (screenshot name part), MEASURE_RUNS.

import { createRequire } from 'node:module';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`site-browser.mjs: ${name} is not set`);
  return v;
};

const SITE_ROOT = path.resolve(env('SITE_ROOT'));
const SITE_PATH = env('SITE_PATH');
const SHOTS = env('SHOTS');
const MODE = process.env.MODE || 'test';
const { chromium } = createRequire(import.meta.url)(env('PLAYWRIGHT'));

/** Longest wait for any page state, ms (a cold wasm start on a busy 2-core machine). */
const WAIT_MS = 60_000;
/** Non-background pixels a drawn map has at least (outlines alone are tens of thousands). */
const MIN_MAP_PIXELS = 5_000;
/** Viewports: desktop, and a phone width for the layout screenshots. */
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Replies the next requests get instead of the files: url path → {status, body}. */
const overrides = new Map();
/** Every request path the site made, for the "nothing left the host" check. */
const requested = [];

function serve() {
  const server = http.createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    requested.push(urlPath);
    const o = overrides.get(urlPath);
    if (o) {
      res.writeHead(o.status, { 'content-type': 'application/json' });
      res.end(o.body);
      return;
    }
    let file = path.join(SITE_ROOT, urlPath);
    if (!file.startsWith(SITE_ROOT + path.sep) && file !== SITE_ROOT) {
      res.writeHead(403).end();
      return;
    }
    if (urlPath.endsWith('/')) file = path.join(file, 'index.html');
    fs.readFile(file, (err, data) => {
      if (err) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' });
      res.end(data);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function launch() {
  return chromium.launch({
    executablePath: env('CHROMIUM'),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** A page that records every dialog, uncaught error and console error. */
async function newPage(browser, viewport, problems) {
  const context = await browser.newContext({ viewport });
  // Only 127.0.0.1 may be contacted; anything else is a failure, not a request.
  await context.route(/^(?!http:\/\/127\.0\.0\.1:)/, (route) => {
    problems.push(`request outside 127.0.0.1: ${route.request().url()}`);
    return route.abort();
  });
  const page = await context.newPage();
  page.on('dialog', (d) => {
    problems.push(`dialog opened (${d.type()}): ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) {
      problems.push(`console error: ${m.text()}`);
    }
  });
  return page;
}

const shot = (page, name) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

/** Fails with what went wrong so far if any dialog, error or foreign request happened. */
function noProblems(problems, where) {
  assert.deepEqual(problems, [], `problems on ${where}`);
}

/** Waits until the snapshot-backed page has replaced the loading placeholder. */
async function settled(page, selector) {
  await page.waitForSelector(selector, { timeout: WAIT_MS });
  await page.waitForFunction(() => !document.querySelector('.loading'), null, { timeout: WAIT_MS });
}

async function checkMap(page, base) {
  await page.goto(`${base}#/map`);
  await settled(page, '#world-map');
  await page.waitForFunction(
    () => /markers drawn/.test(document.querySelector('#map-status')?.textContent || ''),
    null, { timeout: WAIT_MS });
  const drawn = await page.evaluate(() => {
    const c = document.querySelector('#world-map');
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const [r0, g0, b0, a0] = data;
    let differing = 0;
    const colors = new Set();
    for (let i = 0; i < data.length; i += 4) {
      if (data[i] !== r0 || data[i + 1] !== g0 || data[i + 2] !== b0 || data[i + 3] !== a0) differing++;
      colors.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
    }
    return { differing, colors: colors.size, status: document.querySelector('#map-status').textContent };
  });
  console.log(`map: ${drawn.differing} non-background pixels, ${drawn.colors} colours (${drawn.status})`);
  assert.ok(drawn.differing >= MIN_MAP_PIXELS, `the map canvas looks blank: ${JSON.stringify(drawn)}`);
  assert.ok(drawn.colors >= 3, `the map canvas has too few colours: ${JSON.stringify(drawn)}`);
  await shot(page, 'map');
}

async function checkRanking(page, base, fixture) {
  await page.goto(`${base}#/ranking`);
  await settled(page, '#ranking tbody tr');
  const rows = await page.$$eval('#ranking tbody tr', (trs) => trs.map((tr) => ({
    score: Number(tr.querySelector('td.score').textContent),
    host: tr.querySelector('td.host a').textContent,
    href: tr.querySelector('td.host a').getAttribute('href'),
  })));
  // The site's order: score descending, ties by id. The fixture is served
  // reversed (see main), so a table that merely kept the file order fails.
  const want = [...fixture.servers]
    .sort((a, b) => b.hss.score - a.hss.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  assert.deepEqual(rows.map((r) => r.host), want.map((s) => s.host), 'ranking rows are not the fixture in score order');
  for (let i = 1; i < rows.length; i++) {
    assert.ok(rows[i - 1].score >= rows[i].score, `row ${i} is out of score order`);
  }
  assert.ok(rows.every((r) => r.href.startsWith('#/server/')), 'every row links to its server page');
  await shot(page, 'ranking');

  // Search narrows the table; clicking the header reverses the order.
  await page.fill('#ranking-search', 'evil');
  await page.waitForFunction(() => document.querySelectorAll('#ranking tbody tr').length === 1, null, { timeout: WAIT_MS });
  await page.fill('#ranking-search', '');
  await page.click('#ranking thead button:has-text("Score")');
  await page.waitForFunction(
    (n) => {
      const cells = [...document.querySelectorAll('#ranking tbody td.score')].map((td) => Number(td.textContent));
      return cells.length === n && cells.every((v, i) => i === 0 || cells[i - 1] <= v);
    }, want.length, { timeout: WAIT_MS });
}

async function checkServerDeepLink(browser, base, fixture, problems) {
  // The fixture's hostile server: its banner is an HTML/script injection attempt.
  const evil = fixture.servers.find((s) => /onerror=/.test(s.banner || ''));
  assert.ok(evil && /<script>/.test(evil.banner), 'the fixture has no XSS banner');
  const id = evil.id;
  // A fresh tab straight onto the deep URL: the route must work on a cold load.
  const page = await newPage(browser, DESKTOP, problems);
  await page.goto(`${base}#/server/${encodeURIComponent(id)}`);
  await settled(page, '#server-banner');
  const host = await page.textContent('#server-host');
  assert.equal(host, evil.host, 'the server page shows its host');
  const banner = await page.textContent('#server-banner');
  assert.equal(banner, evil.banner, 'the banner is shown as literal text');
  const injected = await page.evaluate(() => ({
    imgs: document.querySelectorAll('img').length,
    scripts: [...document.scripts].filter((s) => /alert\(/.test(s.textContent)).length,
    javascriptLinks: [...document.querySelectorAll('a[href]')]
      .filter((a) => /^\s*javascript:/i.test(a.getAttribute('href'))).length,
  }));
  assert.deepEqual(injected, { imgs: 0, scripts: 0, javascriptLinks: 0 }, 'server strings created elements');
  // Give any injected handler (onerror fires asynchronously) a chance to run.
  await page.waitForTimeout(500);
  await shot(page, 'server-xss');
  await page.close();
}

async function checkEveryPage(page, base) {
  for (const [route, selector, name] of [
    ['#/', '.stat', 'overview'],
    ['#/centralization', '#indices', 'centralization'],
    ['#/clusters', '#pca-scatter', 'clusters'],
    ['#/privacy', '#privacy-metrics', 'privacy'],
    ['#/downloads', '#downloads', 'downloads'],
  ]) {
    await page.goto(`${base}${route}`);
    await settled(page, selector);
    await shot(page, name);
  }
}

/** A full load of `url` (a goto that changes only the fragment would not reload the app). */
async function load(page, url) {
  await page.goto('about:blank');
  await page.goto(url);
}

async function checkErrorStates(page, base, indexPath) {
  overrides.set(indexPath, { status: 200, body: JSON.stringify({ schema_version: 999, snapshots: [] }) });
  await load(page, `${base}#/`);
  await page.waitForSelector('.error-panel', { timeout: WAIT_MS });
  assert.match(await page.textContent('.error-panel'), /schema version 999/);
  await shot(page, 'error-schema');

  overrides.set(indexPath, { status: 404, body: '' });
  await load(page, `${base}#/ranking`);
  await page.waitForSelector('.error-panel', { timeout: WAIT_MS });
  assert.match(await page.textContent('.error-panel'), /HTTP 404/);
  await shot(page, 'error-missing');
  overrides.delete(indexPath);
}

/** Snapshot served under the index's file name, with its servers reversed. */
function serveFixture(base) {
  const fixture = JSON.parse(fs.readFileSync(env('FIXTURE'), 'utf8'));
  const index = JSON.parse(fs.readFileSync(path.join(SITE_ROOT, SITE_PATH, 'data/snapshots/index.json'), 'utf8'));
  const file = index.snapshots[index.snapshots.length - 1].file;
  const reversed = { ...fixture, servers: [...fixture.servers].reverse() };
  overrides.set(`${SITE_PATH}data/snapshots/${file}`, { status: 200, body: JSON.stringify(reversed) });
  return fixture;
}

async function test(browser, base) {
  const problems = [];
  const fixture = serveFixture(base);
  const page = await newPage(browser, DESKTOP, problems);
  await checkMap(page, base);
  noProblems(problems, 'map');
  await checkRanking(page, base, fixture);
  noProblems(problems, 'ranking');
  await checkServerDeepLink(browser, base, fixture, problems);
  noProblems(problems, 'server page');
  await checkEveryPage(page, base);
  noProblems(problems, 'every page');
  await page.setViewportSize(PHONE);
  await page.goto(`${base}#/ranking`);
  await settled(page, '#ranking tbody tr');
  await shot(page, 'ranking-phone');
  // Error states log failed fetches on purpose; they are checked on their own.
  await checkErrorStates(page, base, `${SITE_PATH}data/snapshots/index.json`);
  const dialogs = problems.filter((p) => p.startsWith('dialog') || p.startsWith('request outside'));
  assert.deepEqual(dialogs, [], 'dialogs or foreign requests during the error states');
  console.log(`ok: map, ranking order, deep link, inert XSS banner, every page, error states (screenshots in ${SHOTS})`);
}

/** Time from navigation start until each page's content first appears, per run. */
async function measure(browser, base) {
  const snapshotPath = env('MEASURE_SNAPSHOT');
  const index = JSON.parse(fs.readFileSync(path.join(SITE_ROOT, SITE_PATH, 'data/snapshots/index.json'), 'utf8'));
  const file = index.snapshots[index.snapshots.length - 1].file;
  const body = fs.readFileSync(snapshotPath);
  const servers = JSON.parse(body).servers.length;
  overrides.set(`${SITE_PATH}data/snapshots/${file}`, { status: 200, body });
  const runs = Number(process.env.MEASURE_RUNS || '3');
  const targets = [
    // [name, route, selector, text the element must contain]
    ['overview', '#/', '.stat', ''],
    ['ranking', '#/ranking', '#ranking tbody tr', ''],
    ['map', '#/map', '#map-status', 'markers drawn'],
  ];
  console.log(`time to first render, ${servers} servers, snapshot ${(body.length / 1e6).toFixed(2)} MB, ${runs} cold loads each:`);
  for (const [name, route, selector, text] of targets) {
    const times = [];
    for (let i = 0; i < runs; i++) {
      const problems = [];
      // A new context per run: nothing cached, like a first visit.
      const page = await newPage(browser, DESKTOP, problems);
      // performance.now() counts from navigation start; the observer notes
      // the first DOM change after which the page's content is there.
      await page.addInitScript(([sel, txt]) => {
        const check = () => {
          const el = document.querySelector(sel);
          if (!window.__firstRender && el && el.textContent.includes(txt)) window.__firstRender = performance.now();
        };
        new MutationObserver(check).observe(document, { subtree: true, childList: true, characterData: true });
      }, [selector, text]);
      await page.goto(`${base}${route}`);
      await page.waitForFunction(() => window.__firstRender, null, { timeout: WAIT_MS * 2 });
      times.push(await page.evaluate(() => window.__firstRender));
      noProblems(problems, `measure ${name}`);
      if (i === 0) await shot(page, `measure-${process.env.MEASURE_LABEL || 'snapshot'}-${name}`);
      await page.context().close();
    }
    const sorted = [...times].sort((a, b) => a - b);
    console.log(`  ${name.padEnd(9)} median ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} ms  (runs: ${times.map((t) => t.toFixed(0)).join(', ')} ms)`);
  }
  // The same data on every other page, without a script error (a snapshot the
  // site cannot render is a failure even in measure mode).
  const problems = [];
  const page = await newPage(browser, DESKTOP, problems);
  const first = JSON.parse(body).servers[0];
  for (const [route, selector] of [
    ['#/centralization', '#indices'],
    ['#/clusters', '#pca-scatter'],
    ['#/privacy', '#privacy-metrics'],
    ['#/downloads', '#downloads'],
    [`#/server/${encodeURIComponent(first.id)}`, '#server-banner'],
  ]) {
    await page.goto(`${base}${route}`);
    await settled(page, selector);
  }
  noProblems(problems, 'every page');
  await page.context().close();
  console.log('  every page renders this snapshot');
}

const server = await serve();
const base = `http://127.0.0.1:${server.address().port}${SITE_PATH}`;
fs.mkdirSync(SHOTS, { recursive: true });
const browser = await launch();
let failed = false;
try {
  if (MODE === 'measure') await measure(browser, base);
  else await test(browser, base);
} catch (e) {
  failed = true;
  console.error(`FAILED: ${e.message}`);
  if (e.actual !== undefined) console.error(`  actual:   ${JSON.stringify(e.actual)}\n  expected: ${JSON.stringify(e.expected)}`);
} finally {
  await browser.close();
  server.close();
}
process.exit(failed ? 1 : 0);
