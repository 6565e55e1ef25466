// Headless-Chromium checks of the built report site (driven by
// scripts/e2e/40-site-browser.sh and 50-simnet-run.sh, which build the site
// and set the env).
//
// Serves SITE_ROOT on 127.0.0.1 (an ephemeral port; the site itself lives
// under SITE_PATH, e.g. /electrum-observatory/, like a GitHub Pages project
// site) and drives Debian's Chromium through playwright-core (no downloaded
// browser). The data the site fetches can be swapped per check (missing
// index, unknown schema version, missing world outlines, a 2,000-server
// snapshot, the simulated flag) without rebuilding.
//
//   MODE=test     the functional checks on the fixture; exits non-zero on the first failure.
//   MODE=measure  time to first render of the snapshot at MEASURE_SNAPSHOT;
//                 prints figures, asserts nothing about time.
//   MODE=site     a site built from real scan data, as it is served at SITE_URL
//                 (e.g. by `observatory serve`): every page renders without a
//                 problem, the map has the snapshot's located servers, the ranking
//                 one row per server, every download link answers 200.
//
// Environment: SITE_ROOT, SITE_PATH (MODE test and measure), SITE_URL (MODE site),
// FIXTURE (test: snapshot JSON; its server whose banner carries `onerror=` is the
// XSS case), SNAPSHOT (site: the snapshot file the site shows), EXPECT_SIMULATED
// (site: 1 when the banner must show, 0 when it must not), SHOTS (screenshot
// folder), CHROMIUM (browser binary), PLAYWRIGHT (path of the playwright-core
// package), MODE, MEASURE_SNAPSHOT, MEASURE_LABEL (screenshot name part), MEASURE_RUNS.

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

const SHOTS = env('SHOTS');
const MODE = process.env.MODE || 'test';
const { chromium } = createRequire(import.meta.url)(env('PLAYWRIGHT'));

/** Longest wait for any page state, ms (a cold wasm start on a busy 2-core machine). */
const WAIT_MS = 60_000;
/** Viewports: desktop, and a phone width (every page must fit it without sideways scrolling). */
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
/** Opacity of the map's marker fill and of the PCA points (charts/map.rs, charts/pca.rs). */
const MARKER_ALPHA = 0.82;
const PCA_ALPHA = 0.8;
/** Every background a map marker can lie on (ocean, land, borders) is at least this light per channel. */
const MIN_BACKGROUND_CHANNEL = 0xd0;
/** Land colour of the map (charts/map.rs LAND); a map with outlines has many such pixels. */
const LAND = [0xd5, 0xdb, 0xe1];
/** Land pixels a 1000×500 map with Natural Earth outlines has at least (about a quarter of the map is land). */
const MIN_LAND_PIXELS = 50_000;
/** Slack per colour channel for canvas rounding. */
const CHANNEL_SLACK = 4;
/** The world outlines the map fetches, relative to the site. */
const GEO_FILE = 'data/geo/countries-110m.json';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.md': 'text/markdown; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Replies the next requests get instead of the files: url path → {status, body}. */
const overrides = new Map();
/** The page a failure screenshot is taken of. */
let current = null;

function serve(siteRoot) {
  const server = http.createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const o = overrides.get(urlPath);
    if (o) {
      res.writeHead(o.status, { 'content-type': 'application/json' });
      res.end(o.body);
      return;
    }
    let file = path.join(siteRoot, urlPath);
    if (!file.startsWith(siteRoot + path.sep) && file !== siteRoot) {
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

/**
 * A page that records, in `problems`, every dialog, uncaught error, console
 * error (with the resource it is about), failed request and HTTP error
 * answer. Checks that provoke a failure on purpose remove exactly that one
 * with `expectOnly`.
 */
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
    if (m.type() === 'error') problems.push(`console error: ${m.text()} (${m.location().url || 'no url'})`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`);
  });
  page.on('requestfailed', (r) => {
    // Aborted outside requests are already reported by the route above.
    if (/^http:\/\/127\.0\.0\.1:/.test(r.url())) problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`);
  });
  current = page;
  return page;
}

const shot = (page, name) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

/** Fails with what went wrong so far if any dialog, error, failed request or foreign request happened. */
function noProblems(problems, where) {
  assert.deepEqual(problems, [], `problems on ${where}`);
}

/**
 * Removes the problems that mention `needle` (a failure provoked on purpose),
 * failing if there were none: the provoked failure must actually have happened.
 */
function expectOnly(problems, needle, where) {
  const hits = problems.filter((p) => p.includes(needle));
  assert.ok(hits.length > 0, `${where}: expected a failure mentioning ${needle}, got ${JSON.stringify(problems)}`);
  const rest = problems.filter((p) => !p.includes(needle));
  problems.length = 0;
  noProblems(rest, where);
}

/** Waits until the snapshot-backed page has replaced the loading placeholder. */
async function settled(page, selector) {
  await page.waitForSelector(selector, { timeout: WAIT_MS });
  await page.waitForFunction(() => !document.querySelector('.loading'), null, { timeout: WAIT_MS });
}

/** A full load of `url` (a goto that changes only the fragment would not reload the app). */
async function load(page, url) {
  await page.goto('about:blank');
  await page.goto(url);
}

/** Servers the map can place (finite latitude and longitude). */
const located = (snapshot) => snapshot.servers
  .filter((s) => Number.isFinite(s.location?.lat) && Number.isFinite(s.location?.lon)).length;

/** Every page of the site for `snapshot`: [name, route, selector that shows it rendered]. */
function pages(snapshot) {
  return [
    ['overview', '#/', '.stat'],
    ['map', '#/map', '#map-status'],
    ['centralization', '#/centralization', '#indices'],
    ['clusters', '#/clusters', '#pca-scatter'],
    ['ranking', '#/ranking', '#ranking tbody tr'],
    ['server', `#/server/${encodeURIComponent(snapshot.servers[0].id)}`, '#server-banner'],
    ['privacy', '#/privacy', '#privacy-metrics'],
    ['downloads', '#/downloads', '#downloads'],
    ['docs-methodology', '#/docs/methodology', 'article.doc h1'],
    ['docs-ethics', '#/docs/ethics', 'article.doc h1'],
  ];
}

// ---------------------------------------------------------------- the map

/** The map's status line, parsed: "N markers drawn for M located servers." after any outline error. */
async function mapStatus(page) {
  await page.waitForFunction(
    () => /markers drawn|drawing failed/.test(document.querySelector('#map-status')?.textContent || ''),
    null, { timeout: WAIT_MS });
  const text = await page.textContent('#map-status');
  const m = /(\d+) markers drawn for (\d+) located servers/.exec(text);
  assert.ok(m, `map status: ${text}`);
  return { text, markers: Number(m[1]), servers: Number(m[2]) };
}

/**
 * The markers as the page lists them (canvas pixels, radius, level, servers),
 * the level colours from the legend, and what the canvas shows: the pixels in
 * the land colour and the pixel at each marker's centre.
 */
async function mapPixels(page) {
  const px = await page.evaluate(() => {
    const c = document.querySelector('#world-map');
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const at = (x, y) => {
      const i = (Math.round(y) * c.width + Math.round(x)) * 4;
      return [data[i], data[i + 1], data[i + 2]];
    };
    const markers = [...document.querySelectorAll('li.map-marker')].map((li) => ({
      x: Number(li.dataset.x), y: Number(li.dataset.y), r: Number(li.dataset.r),
      level: li.dataset.level, servers: Number(li.dataset.servers),
      title: li.querySelector('button').textContent.trim(),
    }));
    for (const m of markers) m.centre = at(m.x, m.y);
    return { markers };
  });
  const legend = Object.fromEntries(await legendColours(page, '.map-controls .legend-item'));
  const [landPixels] = await colourCounts(page, '#world-map', [LAND]);
  return { ...px, legend, landPixels };
}

/** [label, [r, g, b]] of each legend item matching `selector` (its `.dot`'s background). */
async function legendColours(page, selector) {
  return page.$$eval(selector, (items) => items.map((item) => [item.textContent.trim(),
    getComputedStyle(item.querySelector('.dot')).backgroundColor.match(/\d+/g).slice(0, 3).map(Number)]));
}

/** For each [r, g, b] in `colours`, how many pixels of the canvas at `selector` have it (within CHANNEL_SLACK). */
async function colourCounts(page, selector, colours) {
  return page.$eval(selector, (c, [wanted, slack]) => {
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    return wanted.map((w) => {
      let n = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (Math.abs(data[i] - w[0]) <= slack && Math.abs(data[i + 1] - w[1]) <= slack
          && Math.abs(data[i + 2] - w[2]) <= slack) n++;
      }
      return n;
    });
  }, [colours, CHANNEL_SLACK]);
}

/** Whether `pixel` is `colour` drawn at `alpha` over some light background. */
function isBlendOf(pixel, colour, alpha) {
  return pixel.every((p, k) => {
    const lo = colour[k] + (1 - alpha) * (MIN_BACKGROUND_CHANNEL - colour[k]);
    const hi = colour[k] + (1 - alpha) * (255 - colour[k]);
    return p >= Math.min(lo, hi) - CHANNEL_SLACK && p <= Math.max(lo, hi) + CHANNEL_SLACK;
  });
}

/**
 * Markers whose centre no other marker (with its white outline) covers, so the
 * centre pixel is the marker's own colour over the map's light background.
 */
const clear = (markers) => markers.filter((m) => markers.every((o) => o === m
  || Math.hypot(o.x - m.x, o.y - m.y) > o.r + 3));

/** The markers drawn are the located servers, each in its HSS level's colour; outlines drawn when `outlines`. */
async function assertMapDrawn(page, expectedServers, outlines) {
  const status = await mapStatus(page);
  const px = await mapPixels(page);
  const listed = px.markers.reduce((n, m) => n + m.servers, 0);
  console.log(`map: ${status.text} (${px.markers.length} listed markers, ${listed} servers)`);
  assert.equal(status.servers, expectedServers, 'located servers on the map vs the snapshot');
  assert.ok(expectedServers > 0, 'the snapshot has located servers');
  assert.ok(status.markers > 0, 'markers drawn');
  assert.equal(px.markers.length, status.markers, 'listed markers vs drawn markers');
  assert.equal(listed, expectedServers, 'servers in the listed markers');
  const land = px.landPixels;
  if (outlines) {
    assert.ok(land >= MIN_LAND_PIXELS, `only ${land} land pixels: the country outlines were not drawn`);
    assert.doesNotMatch(status.text, /unavailable/, 'outlines error in the status');
  } else {
    assert.equal(land, 0, 'land drawn although the outlines did not load');
  }
  // Each clear marker's centre is its level's colour (from the legend) over the
  // map; every level present has at least one such marker.
  const seen = new Set();
  for (const m of clear(px.markers)) {
    const colour = px.legend[m.level];
    assert.ok(colour, `no legend colour for level ${m.level}`);
    assert.ok(isBlendOf(m.centre, colour, MARKER_ALPHA),
      `marker ${m.title} (${m.level}) centre pixel ${m.centre} is not ${colour}`);
    seen.add(m.level);
  }
  const levels = new Set(px.markers.map((m) => m.level));
  assert.deepEqual([...seen].sort(), [...levels].sort(), 'a marker of every level shows its colour');
  return px;
}

/** Viewport coordinates of canvas pixel (x, y) of the map. */
async function mapPoint(page, { x, y }) {
  await page.$eval('#world-map', (c) => c.scrollIntoView({ block: 'center' }));
  return page.$eval('#world-map', (c, [x, y]) => {
    const r = c.getBoundingClientRect();
    return { x: r.left + (x * r.width) / c.width, y: r.top + (y * r.height) / c.height };
  }, [x, y]);
}

async function checkMap(page, base, fixture, problems) {
  await load(page, `${base}#/map`);
  await settled(page, '#world-map');
  assert.equal(await page.$('#boot'), null, "index.html's loading placeholder is still there");
  const px = await assertMapDrawn(page, located(fixture), true);
  await shot(page, 'map');

  // Hover over a marker: the tooltip names its place and server count.
  const target = clear(px.markers)[0];
  const at = await mapPoint(page, target);
  await page.mouse.move(at.x, at.y);
  await page.waitForSelector('.map-tooltip', { timeout: WAIT_MS });
  const tip = await page.textContent('.map-tooltip');
  assert.ok(tip.includes(target.title) && tip.includes(`${target.servers} server(s)`), `tooltip: ${tip}`);
  await shot(page, 'map-hover');
  // Leaving the map hides it.
  await page.mouse.move(1, 1);
  await page.waitForSelector('.map-tooltip', { state: 'detached', timeout: WAIT_MS });
  // Click: the selection lists the marker's servers, each linking to its page.
  await page.mouse.click(at.x, at.y);
  await page.waitForSelector('.map-selection', { timeout: WAIT_MS });
  const links = await page.$$eval('.map-selection .server-list li a', (as) => as.map((a) => a.getAttribute('href')));
  assert.equal(links.length, target.servers, 'selection lists the marker\'s servers');
  assert.ok(links.every((h) => h.startsWith('#/server/')), `selection links: ${links}`);
  await shot(page, 'map-selection');
  noProblems(problems, 'map');

  // Without the outlines (HTTP 404) the markers are still drawn and the error stays visible.
  overrides.set(`${new URL(base).pathname}${GEO_FILE}`, { status: 404, body: '' });
  await load(page, `${base}#/map`);
  await settled(page, '#world-map');
  await assertMapDrawn(page, located(fixture), false);
  assert.match(await page.textContent('#map-status'),
    /^Map outlines unavailable: .*countries-110m\.json answered HTTP 404\. \d+ markers drawn/);
  await shot(page, 'map-no-outlines');
  overrides.delete(`${new URL(base).pathname}${GEO_FILE}`);
  expectOnly(problems, 'countries-110m.json', 'map without outlines');
}

// ---------------------------------------------------------------- ranking

async function rankingRows(page) {
  return page.$$eval('#ranking tbody tr', (trs) => trs.map((tr) => ({
    score: Number(tr.querySelector('td.score').textContent),
    host: tr.querySelector('td.host a').textContent,
    href: tr.querySelector('td.host a').getAttribute('href'),
  })));
}

async function checkRanking(page, base, fixture) {
  await load(page, `${base}#/ranking`);
  await settled(page, '#ranking tbody tr');
  const rows = await rankingRows(page);
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

  // The level filter keeps exactly the servers of that level.
  const high = fixture.servers.filter((s) => s.hss.level === 'high').length;
  assert.ok(high > 0 && high < fixture.servers.length, `fixture has ${high} high servers`);
  await page.selectOption('#ranking-level', 'high');
  await page.waitForFunction((n) => document.querySelectorAll('#ranking tbody tr').length === n, high, { timeout: WAIT_MS });
  const levels = await page.$$eval('#ranking tbody tr', (trs) => trs.map((tr) => tr.children[1].textContent.trim()));
  assert.ok(levels.every((l) => /high/i.test(l)), `filtered levels: ${levels}`);
  await page.selectOption('#ranking-level', '');
  await page.waitForFunction((n) => document.querySelectorAll('#ranking tbody tr').length === n, want.length, { timeout: WAIT_MS });
}

/** Keyboard only: Tab reaches the Host sort button, Enter sorts by host. */
async function checkKeyboardSort(page, base) {
  await load(page, `${base}#/ranking`);
  await settled(page, '#ranking tbody tr');
  const before = (await rankingRows(page)).map((r) => r.host);
  const focusedIsHost = () => page.evaluate(() => {
    const el = document.activeElement;
    return !!el && el.matches('#ranking thead button.sort') && el.textContent.trim().startsWith('Host');
  });
  let presses = 0;
  while (!(await focusedIsHost())) {
    assert.ok(presses < 60, 'Tab never reached the Host sort button');
    await page.keyboard.press('Tab');
    presses++;
  }
  await page.keyboard.press('Enter');
  await page.waitForFunction(
    () => [...document.querySelectorAll('#ranking thead th')].some((th) => /Host/.test(th.textContent)
      && th.getAttribute('aria-sort') === 'ascending'),
    null, { timeout: WAIT_MS });
  const after = (await rankingRows(page)).map((r) => r.host);
  assert.notDeepEqual(after, before, 'Enter on the Host header did not change the order');
  const lower = after.map((h) => h.toLowerCase());
  assert.ok(lower.every((h, i) => i === 0 || lower[i - 1] <= h), `not sorted by host: ${after}`);
  console.log(`keyboard: ${presses} Tab presses to the Host sort button; Enter sorted by host`);
}

// ---------------------------------------------------------------- server pages

async function checkServerDeepLink(browser, base, fixture, problems) {
  // The fixture's hostile server: its banner is an HTML/script injection attempt.
  const evil = fixture.servers.find((s) => /onerror=/.test(s.banner || ''));
  assert.ok(evil && /<script>/.test(evil.banner), 'the fixture has no XSS banner');
  // A fresh tab straight onto the deep URL: the route must work on a cold load.
  const page = await newPage(browser, DESKTOP, problems);
  await page.goto(`${base}#/server/${encodeURIComponent(evil.id)}`);
  await settled(page, '#server-banner');
  assert.equal(await page.textContent('#server-host'), evil.host, 'the server page shows its host');
  assert.equal(await page.textContent('#server-banner'), evil.banner, 'the banner is shown as literal text');
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

  // History across snapshots: a server with rounds of more than one run shows every point.
  const tracked = fixture.servers.find((s) => new Set(s.history.map((h) => h.run_id)).size > 1);
  assert.ok(tracked, 'the fixture has no server with history across runs');
  await load(page, `${base}#/server/${encodeURIComponent(tracked.id)}`);
  await settled(page, '#history-table');
  const history = await page.$$eval('#history-table tbody tr', (trs) => trs.map((tr) => tr.children[1].textContent));
  assert.equal(history.length, tracked.history.length, 'history rows');
  for (const h of tracked.history) {
    assert.ok(history.some((cell) => cell.includes(h.run_id) && cell.includes(`round ${h.round}`)), `history point ${h.run_id} ${h.round}`);
  }
  await shot(page, 'server-history');
  // And a server without history has no History section.
  const untracked = fixture.servers.find((s) => s.history.length === 0);
  await load(page, `${base}#/server/${encodeURIComponent(untracked.id)}`);
  await settled(page, '#server-banner');
  assert.equal(await page.$('#history'), null, 'History section on a server without history');
  await page.close();
}

// ---------------------------------------------------------------- every other page

/** Pixels of the PCA canvas in each cluster colour of its legend (points drawn at PCA_ALPHA on white). */
async function pcaColours(page) {
  const legend = await legendColours(page, 'figcaption.legend .legend-item');
  const counts = await colourCounts(page, '#pca-scatter',
    legend.map(([, rgb]) => rgb.map((v) => PCA_ALPHA * v + (1 - PCA_ALPHA) * 255)));
  return legend.map(([label], i) => ({ label, pixels: counts[i] }));
}

async function checkContent(page, base, fixture) {
  // Centralization: one index row per dimension.
  await load(page, `${base}#/centralization`);
  await settled(page, '#indices');
  assert.equal(await page.$$eval('#indices tbody tr', (r) => r.length), fixture.centralization.length, 'index rows');
  await shot(page, 'centralization');

  // Clusters (KMeans by default): heatmap cells, cards, PCA points of every cluster, outliers.
  await load(page, `${base}#/clusters`);
  await settled(page, '#pca-scatter');
  const kmeans = fixture.clusters.kmeans.clusters;
  const features = fixture.clusters.features.length;
  assert.equal(await page.$$eval('.heatmap tbody td.heat', (c) => c.length), kmeans.length * features, 'heatmap cells');
  assert.equal(await page.$$eval('.cluster-card', (c) => c.length), kmeans.length, 'cluster cards');
  const pca = await pcaColours(page);
  console.log(`pca: ${pca.map((p) => `${p.label} ${p.pixels} px`).join(', ')}`);
  assert.ok(pca.length >= kmeans.length && pca.every((p) => p.pixels > 0), `PCA points missing: ${JSON.stringify(pca)}`);
  assert.ok(fixture.clusters.outliers.length > 0, 'the fixture has no outlier');
  const outliers = await page.$$eval('#outliers tbody tr td:first-child', (tds) => tds.map((td) => td.textContent));
  const hostOf = (id) => fixture.servers.find((s) => s.id === id).host;
  assert.deepEqual(outliers, fixture.clusters.outliers.map((o) => hostOf(o.server)), 'outliers');
  await shot(page, 'clusters');

  // Overview, privacy, docs.
  for (const [name, route, selector] of [
    ['overview', '#/', '.stat'],
    ['privacy', '#/privacy', '#privacy-metrics'],
    ['docs-methodology', '#/docs/methodology', 'article.doc h1'],
    ['docs-ethics', '#/docs/ethics', 'article.doc h1'],
  ]) {
    await load(page, `${base}${route}`);
    await settled(page, selector);
    await shot(page, name);
  }
  assert.equal(await page.textContent('article.doc h1'), 'Ethics');
  // The docs index (data/docs/index.txt) lists every published document as a tab, methodology and ethics first.
  await page.waitForFunction(() => document.querySelectorAll('.doc-tabs a').length >= 2, null, { timeout: WAIT_MS });
  const tabs = await page.$$eval('.doc-tabs a', (as) => as.map((a) => a.getAttribute('href')));
  assert.deepEqual(tabs.slice(0, 2), ['#/docs/methodology', '#/docs/ethics'], `doc tabs: ${tabs}`);
}

/** The downloads page links exactly the snapshot's files, and each link answers 200. */
async function checkDownloads(page, base, snapshot) {
  await load(page, `${base}#/downloads`);
  await settled(page, '#downloads');
  const hrefs = await page.$$eval('#downloads a[href]', (as) => as.map((a) => a.getAttribute('href')));
  assert.deepEqual(hrefs, snapshot.downloads.map((d) => `data/${d.path}`), 'download links');
  for (const href of hrefs) {
    const url = new URL(href, page.url()).href;
    const r = await page.request.get(url);
    assert.equal(r.status(), 200, `download ${url}`);
    const body = await r.body();
    assert.ok(body.length > 0, `download ${url} is empty`);
  }
  console.log(`downloads: ${hrefs.length} links, each answered 200`);
  await shot(page, 'downloads');
}

/**
 * Every page at phone width: nothing wider than the screen, and the simulated
 * banner exactly when the snapshot says so.
 */
async function checkEveryPageAt(browser, base, snapshot, viewport, label, problems) {
  const page = await newPage(browser, viewport, problems);
  for (const [name, route, selector] of pages(snapshot)) {
    await load(page, `${base}${route}`);
    await settled(page, selector);
    if (snapshot.simulated) {
      await page.waitForSelector('#simulated-banner', { timeout: WAIT_MS });
      assert.match(await page.textContent('#simulated-banner'), /Simulated network — not real measurements/, name);
    } else {
      // The banner would come with the snapshot, which the page has already rendered from.
      assert.equal(await page.$('#simulated-banner'), null, `${name}: simulated banner on real data`);
    }
    const fit = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
    assert.ok(fit.scroll <= fit.inner, `${name} at ${viewport.width} px scrolls sideways: ${JSON.stringify(fit)}`);
    await shot(page, `${label}-${name}`);
  }
  noProblems(problems, `every page (${label})`);
  await page.context().close();
}

async function checkErrorStates(page, base, indexPath, problems) {
  overrides.set(indexPath, { status: 200, body: JSON.stringify({ schema_version: 999, snapshots: [] }) });
  await load(page, `${base}#/`);
  await page.waitForSelector('.error-panel', { timeout: WAIT_MS });
  assert.match(await page.textContent('.error-panel'), /schema version 999/);
  await shot(page, 'error-schema');
  noProblems(problems, 'unknown schema');

  overrides.set(indexPath, { status: 404, body: '' });
  await load(page, `${base}#/ranking`);
  await page.waitForSelector('.error-panel', { timeout: WAIT_MS });
  assert.match(await page.textContent('.error-panel'), /HTTP 404/);
  await shot(page, 'error-missing');
  overrides.delete(indexPath);
  expectOnly(problems, 'index.json', 'missing index');
}

/** Serves `snapshot` under the index's newest file name. */
function serveSnapshot(siteRoot, sitePath, snapshot) {
  const index = JSON.parse(fs.readFileSync(path.join(siteRoot, sitePath, 'data/snapshots/index.json'), 'utf8'));
  const file = index.snapshots[index.snapshots.length - 1].file;
  overrides.set(`${sitePath}data/snapshots/${file}`, { status: 200, body: typeof snapshot === 'string' ? snapshot : JSON.stringify(snapshot) });
}

async function test(browser, base, siteRoot, sitePath) {
  const problems = [];
  const fixture = JSON.parse(fs.readFileSync(env('FIXTURE'), 'utf8'));
  assert.equal(fixture.simulated, false, 'the committed fixture is not marked simulated');
  // Served with its servers reversed: the site must order them itself.
  serveSnapshot(siteRoot, sitePath, { ...fixture, servers: [...fixture.servers].reverse() });
  const page = await newPage(browser, DESKTOP, problems);
  await checkMap(page, base, fixture, problems);
  await checkRanking(page, base, fixture);
  noProblems(problems, 'ranking');
  await checkKeyboardSort(page, base);
  noProblems(problems, 'keyboard');
  await checkServerDeepLink(browser, base, fixture, problems);
  noProblems(problems, 'server pages');
  await checkContent(page, base, fixture);
  noProblems(problems, 'page content');
  await checkDownloads(page, base, fixture);
  noProblems(problems, 'downloads');
  // Real data: no banner anywhere; the same snapshot flagged simulated: the banner everywhere.
  await checkEveryPageAt(browser, base, fixture, DESKTOP, 'desktop', problems);
  const simulated = { ...fixture, simulated: true };
  serveSnapshot(siteRoot, sitePath, simulated);
  await checkEveryPageAt(browser, base, simulated, PHONE, 'phone-simulated', problems);
  serveSnapshot(siteRoot, sitePath, fixture);
  await checkErrorStates(page, base, `${sitePath}data/snapshots/index.json`, problems);
  console.log(`ok: map (markers, colours, outlines, hover, click, missing outlines), ranking (order, search, sort,
    level filter, keyboard), deep link, inert XSS banner, history, page content, downloads, every page at
    ${DESKTOP.width} and ${PHONE.width} px with and without the simulated banner, error states (screenshots in ${SHOTS})`);
}

/** Time from navigation start until each page's content first appears, per run. */
async function measure(browser, base, siteRoot, sitePath) {
  const body = fs.readFileSync(env('MEASURE_SNAPSHOT'));
  const snapshot = JSON.parse(body);
  serveSnapshot(siteRoot, sitePath, body.toString());
  const runs = Number(process.env.MEASURE_RUNS || '3');
  const label = process.env.MEASURE_LABEL || 'snapshot';
  const targets = [
    // [name, route, selector, text the element must contain]
    ['overview', '#/', '.stat', ''],
    ['ranking', '#/ranking', '#ranking tbody tr', ''],
    ['map', '#/map', '#map-status', 'markers drawn'],
  ];
  console.log(`time to first render, ${snapshot.servers.length} servers, snapshot ${(body.length / 1e6).toFixed(2)} MB, ${runs} cold loads each:`);
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
      if (i === 0) await shot(page, `measure-${label}-${name}`);
      await page.context().close();
    }
    const sorted = [...times].sort((a, b) => a - b);
    console.log(`  ${name.padEnd(9)} median ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} ms  (runs: ${times.map((t) => t.toFixed(0)).join(', ')} ms)`);
  }
  // The same data on every other page, without a problem (a snapshot the
  // site cannot render is a failure even in measure mode).
  const problems = [];
  const page = await newPage(browser, DESKTOP, problems);
  for (const [name, route, selector] of pages(snapshot)) {
    await load(page, `${base}${route}`);
    await settled(page, selector);
    await shot(page, `measure-${label}-${name}`);
  }
  noProblems(problems, 'every page');
  await page.context().close();
  console.log('  every page renders this snapshot');
}

/** A site built from real scan data, as served: pages, map, ranking, downloads, banner. */
async function site(browser, base) {
  const snapshot = JSON.parse(fs.readFileSync(env('SNAPSHOT'), 'utf8'));
  const expectSimulated = env('EXPECT_SIMULATED') === '1';
  assert.equal(snapshot.simulated, expectSimulated, `the snapshot's simulated flag`);
  const problems = [];
  const page = await newPage(browser, DESKTOP, problems);
  await load(page, `${base}#/map`);
  await settled(page, '#world-map');
  await assertMapDrawn(page, located(snapshot), true);
  await shot(page, 'map');
  noProblems(problems, 'map');

  await load(page, `${base}#/ranking`);
  await settled(page, '#ranking tbody tr');
  const more = await page.$('button.more');
  if (more) await more.click();
  await page.waitForFunction((n) => document.querySelectorAll('#ranking tbody tr').length === n,
    snapshot.servers.length, { timeout: WAIT_MS });
  const hosts = (await rankingRows(page)).map((r) => r.host);
  assert.deepEqual(hosts, snapshot.servers.map((s) => s.host), 'ranking rows vs the snapshot (score order)');
  await shot(page, 'ranking');
  noProblems(problems, 'ranking');

  await checkDownloads(page, base, snapshot);
  noProblems(problems, 'downloads');
  await page.context().close();
  await checkEveryPageAt(browser, base, snapshot, DESKTOP, 'desktop', problems);
  await checkEveryPageAt(browser, base, snapshot, PHONE, 'phone', problems);
  console.log(`ok: the site built from ${snapshot.servers.length} scanned servers renders every page, `
    + `${located(snapshot)} located servers on the map, one ranking row per server, every download 200, `
    + `simulated banner ${expectSimulated ? 'shown' : 'absent'} (screenshots in ${SHOTS})`);
}

fs.mkdirSync(SHOTS, { recursive: true });
let server = null;
let base;
let siteRoot;
let sitePath;
if (MODE === 'site') {
  base = env('SITE_URL');
} else {
  siteRoot = path.resolve(env('SITE_ROOT'));
  sitePath = env('SITE_PATH');
  server = await serve(siteRoot);
  base = `http://127.0.0.1:${server.address().port}${sitePath}`;
}
const browser = await launch();
let failed = false;
try {
  if (MODE === 'measure') await measure(browser, base, siteRoot, sitePath);
  else if (MODE === 'site') await site(browser, base);
  else await test(browser, base, siteRoot, sitePath);
} catch (e) {
  failed = true;
  console.error(`FAILED: ${e.message}`);
  if (e.actual !== undefined) console.error(`  actual:   ${JSON.stringify(e.actual)}\n  expected: ${JSON.stringify(e.expected)}`);
  if (current && !current.isClosed()) await shot(current, 'failure').catch(() => {});
} finally {
  await browser.close();
  if (server) server.close();
}
process.exit(failed ? 1 : 0);
