// The web console in a real browser: Debian's chromium, headless, driven by puppeteer-core.
//
// Starts console_fixture_server (the real server stack and console over 50 models × 200 versions,
// 20 runs and a month of monitoring), writes the pickups map series from a real TLC file with
// `bimride console series`, then for every page: loads it in a fresh tab and measures the time
// until it has drawn its data (must be ≤ 1 s), fails on any console error, page error or failed
// request, asserts the values it shows, checks text contrast (WCAG AA) and saves a screenshot.
// Then keyboard navigation, live traffic updating without reload, the map's time slider by
// keyboard, and the static export (`bimride console export`) opened from disk.
//
// node ui/test/console_test.mjs --bimride BIN --fixture BIN --ui-dir DIR --data DIR --out DIR
import {spawn, execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import puppeteer from 'puppeteer-core';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) =>
  (a.startsWith('--') ? acc.concat([[a.slice(2), all[i + 1]]]) : acc), []));
for (const need of ['bimride', 'fixture', 'ui-dir', 'data', 'out']) {
  if (!args[need]) { console.error(`console_test: --${need} is required`); process.exit(2); }
}
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
if (!fs.existsSync(CHROMIUM)) {
  console.error(`console_test: no browser at ${CHROMIUM} (scripts/setup installs Debian's chromium)`);
  process.exit(1);
}
const LOAD_BUDGET_MS = Number(process.env.CONSOLE_LOAD_BUDGET_MS || 1000);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'console-test.'));
fs.mkdirSync(args.out, {recursive: true});
const failures = [];
const check = (ok, what) => { if (!ok) { failures.push(what); console.log('FAIL ' + what); } };
const timings = {};  // page -> load times

// --- the data and the server ----------------------------------------------------------------
const green = path.join(args.data, 'tlc_green/green_tripdata_2021-01.parquet');
execFileSync(args.bimride, ['console', 'series', '--name', 'pickups', '--trips', green,
  '--title', 'pickups per zone and hour (green taxi, 2021-01)', '--out', path.join(tmp, 'series')],
  {stdio: 'inherit', env: {...process.env, BIMRIDE_DATA_DIR: args.data}});
// A second, per-zone table through the CSV path (the shape `bimride forecast` and a pricing run
// print): the pickups of 2021-02 per zone, as a map with no time.
const feb = JSON.parse(execFileSync(args.bimride, ['console', 'series', '--name', 'x', '--trips',
  path.join(args.data, 'tlc_green/green_tripdata_2021-02.parquet'), '--out', path.join(tmp, 'feb')],
  {env: {...process.env, BIMRIDE_DATA_DIR: args.data}}) && fs.readFileSync(path.join(tmp, 'feb/x.series.json')));
const csv = ['zone,value'].concat(feb.zones.map((z, i) => {
  let sum = 0;
  for (let t = 0; t < feb.times.length; t++) sum += feb.values[i * feb.times.length + t] || 0;
  return `${z},${sum}`;
})).join('\n');
fs.writeFileSync(path.join(tmp, 'feb.csv'), csv + '\n');
execFileSync(args.bimride, ['console', 'series', '--name', 'pickups_feb_total', '--csv',
  path.join(tmp, 'feb.csv'), '--title', 'pickups per zone, 2021-02 total', '--unit', 'trips',
  '--out', path.join(tmp, 'series')], {stdio: 'inherit'});

// Forecast demand through the CSV path as an operator makes it: a small XGBoost demand model
// trained on green 2021-01 (published to a registry of the test's own), `bimride forecast` for
// six hours from 2021-01-27 07:00 (its wide table), then `bimride console series --csv`.
const dataEnv = {...process.env, BIMRIDE_DATA_DIR: args.data, TMPDIR: tmp};
execFileSync(args.bimride, ['train', 'demand', '--model', 'xgboost', '--trips', green,
  '--train-begin', '2021-01-04', '--train-end', '2021-01-25', '--xgb-rounds', '30', '--xgb-depth', '4',
  '--refit=false', '--valid-days', '3', '--target-shrink', '0', '--repo', path.join(tmp, 'demand_repo'),
  '--label', 'stable'], {stdio: ['ignore', 'ignore', 'inherit'], env: dataEnv});
const forecastCsv = execFileSync(args.bimride, ['forecast', '--model', 'demand:stable', '--repo',
  path.join(tmp, 'demand_repo'), '--at', '2021-01-27 07:00', '--history', green], {env: dataEnv}).toString();
fs.writeFileSync(path.join(tmp, 'forecast.csv'), forecastCsv);
execFileSync(args.bimride, ['console', 'series', '--name', 'forecast', '--csv', path.join(tmp, 'forecast.csv'),
  '--title', 'forecast demand per zone and hour (from 2021-01-27 07:00)', '--unit', 'trips',
  '--out', path.join(tmp, 'series')], {stdio: 'inherit'});
// The forecast as printed: zone -> value per hour column.
const forecastRows = forecastCsv.split('\n').filter((l) => l && !l.startsWith('#'));
const forecastHeader = forecastRows[0].split(',');
const forecast = Object.fromEntries(forecastRows.slice(1).map((l) => {
  const c = l.split(',');
  return [c[0], Object.fromEntries(forecastHeader.map((h, i) => [h, c[i]]))];
}));

const fixture = spawn(args.fixture, ['--dir', path.join(tmp, 'fx'), '--ui-dir', args['ui-dir'],
  '--ui-data', path.join(tmp, 'series')], {stdio: ['pipe', 'pipe', 'inherit'],
  env: {...process.env, BIMRIDE_DATA_DIR: args.data}});
const port = await new Promise((resolve, reject) => {
  const rl = readline.createInterface({input: fixture.stdout});
  rl.on('line', (line) => { const m = /^port (\d+)/.exec(line); if (m) resolve(Number(m[1])); });
  fixture.on('exit', (code) => reject(new Error(`console_fixture_server exited with ${code}`)));
  setTimeout(() => reject(new Error('console_fixture_server did not start in 300 s')), 300000);
});
const base = `http://127.0.0.1:${port}/ui/`;
console.log(`fixture serving the console at ${base}`);

// --- the browser ----------------------------------------------------------------------------
const browser = await puppeteer.launch({executablePath: CHROMIUM, headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage']});

// Loads `url` in a fresh tab ATTEMPTS times (default 3) and keeps the last tab for the checks.
// The load time is the browser's own (navigation start to the page having drawn its data); the
// budget applies to the fastest of the attempts — on a shared machine the others measure the
// neighbours' jobs as much as the page — and every attempt is reported.
const ATTEMPTS = Number(process.env.CONSOLE_LOAD_ATTEMPTS || 3);
async function open(url, name) {
  const loads = [], cpus = [], earlier = [];
  let result;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (result) { earlier.push(...result.errors); await result.page.close(); }
    result = await openOnce(url, name);
    loads.push(result.ms);
    cpus.push(result.cpu);
  }
  result.errors.push(...earlier);  // an error in any attempt fails the page
  const best = Math.min(...loads);
  const sorted = [...loads].sort((a, b) => a - b);
  timings[name] = {best_ms: best, median_ms: sorted[Math.floor(sorted.length / 2)], all_ms: loads,
                   browser_cpu_ms: cpus, load_average: Number(os.loadavg()[0].toFixed(1))};
  console.log(`${name}: loaded and drawn in ${best} ms (attempts ${loads.join(', ')} ms; browser ` +
              `CPU ${cpus.join(', ')} ms; load average ${os.loadavg()[0].toFixed(1)})`);
  check(best <= LOAD_BUDGET_MS, `${name}: ${best} ms > ${LOAD_BUDGET_MS} ms`);
  return result;
}

async function openOnce(url, name) {
  const page = await browser.newPage();
  await page.setViewport({width: 1400, height: 900});
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push('console: ' + m.text()); });
  page.on('pageerror', (e) => errors.push('page error: ' + e.message));
  page.on('requestfailed', (r) => {
    // The traffic page's event stream is closed by the page on navigation: not a failure.
    if (!r.url().endsWith('/traffic/stream')) errors.push('request failed: ' + r.url());
  });
  page.on('response', (r) => { if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`); });
  const cpu0 = await browserCpu();
  await page.goto(url, {waitUntil: 'load'});
  await page.waitForFunction(() => document.body.dataset.ready !== '' &&
      document.body.dataset.ready !== undefined, {timeout: 20000});
  const cpu = Math.round((await browserCpu() - cpu0) * 1000);
  const ready = await page.evaluate(() => document.body.dataset.ready);
  const shown = ready === 'yes' ? '' : await page.evaluate(() => document.querySelector('#page').innerText);
  check(ready === 'yes', `${name}: page did not draw its data: ${shown}`);
  // The browser's own measure: navigation start to the page having drawn its data.
  const ms = Number(await page.evaluate(() => document.body.dataset.loadMs || NaN));
  return {page, errors, ms, cpu};
}

// CPU seconds all of chromium's processes have used (CDP SystemInfo.getProcessInfo): what a page
// load costs the browser, whatever else the machine runs.
let cdp = null;
async function browserCpu() {
  if (!cdp) cdp = await browser.target().createCDPSession();
  const {processInfo} = await cdp.send('SystemInfo.getProcessInfo');
  return processInfo.reduce((a, p) => a + p.cpuTime, 0);
}

async function finish({page, errors}, name) {
  await new Promise((r) => setTimeout(r, 300));  // let charts settle for the screenshot
  await contrast(page, name);
  await page.screenshot({path: path.join(args.out, name + '.png')});
  for (const e of errors) check(false, `${name}: ${e}`);
  await page.close();
}

// WCAG 2 contrast of every visible text against its effective background.
async function contrast(page, name) {
  const bad = await page.evaluate(() => {
    const parse = (c) => (c.match(/[\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => {
      const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const bg = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const out = [];
    for (const el of document.querySelectorAll('body *')) {
      const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
      if (!own) continue;
      const s = getComputedStyle(el);
      const r = el.getBoundingClientRect();
      if (s.visibility === 'hidden' || s.display === 'none' || r.width === 0 || r.left < -100) continue;
      const l1 = lum(parse(s.color).slice(0, 3)), l2 = lum(bg(el));
      const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
      const large = parseFloat(s.fontSize) >= 24 || (parseFloat(s.fontSize) >= 18.66 && Number(s.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) out.push(`'${el.textContent.trim().slice(0, 30)}' ${ratio.toFixed(2)}:1`);
    }
    return out;
  });
  check(bad.length === 0, `${name}: low-contrast text: ${bad.slice(0, 5).join('; ')}`);
}

const text = (page, sel) => page.$eval(sel, (e) => e.textContent.trim());
const count = (page, sel) => page.$$eval(sel, (e) => e.length);

try {
  // Registry.
  let p = await open(base + '#/models', 'registry');
  check(await text(p.page, '#model-count') === '50', 'registry: 50 models');
  check(await text(p.page, '#version-count') === '10000', 'registry: 10000 versions');
  check(await count(p.page, '#models tbody tr') === 50, 'registry: 50 rows');
  const etaRow = await text(p.page, '#models tbody tr[data-model="eta"]');
  check(etaRow.includes('stable: 190') && etaRow.includes('canary: 200'), `registry: eta labels (${etaRow})`);
  // Keyboard: the filter narrows the table.
  await p.page.focus('#filter');
  await p.page.keyboard.type('demand_4');
  const visible = await p.page.$$eval('#models tbody tr', (rows) => rows.filter((r) => !r.hidden).length);
  check(visible === 5, `registry: filter 'demand_4' shows demand_41, 43, 45, 47, 49 (${visible})`);
  await p.page.keyboard.down('Control'); await p.page.keyboard.press('A'); await p.page.keyboard.up('Control');
  await p.page.keyboard.press('Backspace');
  await finish(p, 'registry');

  p = await open(base + '#/models/eta', 'model');
  check(await count(p.page, '#versions tbody tr') === 200, 'model: 200 versions');
  check(await count(p.page, '#history tbody tr') === 20, 'model: 20 label moves');
  const first = await text(p.page, '#history tbody tr');
  check(first.includes('stable') && first.includes('190') && first.includes('stable step to 190'),
        `model: newest audit row (${first})`);
  await finish(p, 'model');

  p = await open(base + '#/models/eta/versions/200', 'version');
  const manifest = JSON.parse(await text(p.page, '#manifest'));
  check(manifest.version === 200 && Math.abs(manifest.metrics.val_rmse - 5.2) < 1e-9,
        'version: manifest 200 with val_rmse 5.2');
  await finish(p, 'version');

  // Runs, one run, and two compared (picked with the keyboard).
  p = await open(base + '#/runs', 'runs');
  check(await count(p.page, '#runs tbody tr') === 20, 'runs: 20 runs');
  const ids = await p.page.$$eval('#runs .pick', (c) => c.map((x) => x.value));
  await p.page.focus('#runs .pick');
  await p.page.keyboard.press('Space');
  await p.page.focus(`#runs .pick[value="${ids[1]}"]`);
  await p.page.keyboard.press('Space');
  check(!(await p.page.$eval('#compare', (b) => b.disabled)), 'runs: compare enabled with two picked');
  await finish(p, 'runs');

  p = await open(base + `#/runs/${ids[0]}`, 'run');
  check(await count(p.page, '#curves canvas') > 0, 'run: curves drawn');
  check((await text(p.page, '#params')).includes('epochs50'), 'run: params');
  await finish(p, 'run');

  p = await open(base + `#/compare/${ids[0]}/${ids[1]}`, 'compare');
  const differ = await text(p.page, '#differ tbody');
  check(differ.includes('lr') && differ.includes('hidden'), `compare: lr and hidden differ (${differ})`);
  check(await count(p.page, '#curves canvas') >= 2, 'compare: one chart per metric');
  await finish(p, 'compare');

  // Live traffic: updates arrive without a reload.
  p = await open(base + '#/traffic', 'traffic');
  await p.page.waitForFunction(() => Number(document.querySelector('#page').dataset.updates) >= 4,
                               {timeout: 10000});
  const rows = await p.page.$$eval('#traffic tbody tr', (trs) => trs.map((tr) =>
      ({key: tr.dataset.key, cells: [...tr.cells].map((c) => c.textContent.trim())})));
  const v1 = rows.find((r) => r.key === 'eta:1'), v2 = rows.find((r) => r.key === 'eta:2');
  check(v1 && v2, `traffic: both versions listed (${JSON.stringify(rows)})`);
  if (v1 && v2) {
    const share2 = parseFloat(v2.cells[4]);
    check(parseFloat(v1.cells[2]) > 10, `traffic: eta:1 req/s ${v1.cells[2]}`);
    check(share2 >= 5 && share2 <= 40, `traffic: canary share ${v2.cells[4]} near 20%`);
    const errors = rows.reduce((a, r) => a + Number(r.cells[9]), 0);
    check(errors > 0, `traffic: the bad requests count as errors (${errors})`);
  }
  check((await text(p.page, '#moves tbody')).includes('canary step to 200'), 'traffic: rollout steps');
  await finish(p, 'traffic');
  // The stream stays open: one response carries every update, and EventSource never has to
  // reconnect (no `error` event, one `open`) while the page watches for several seconds.
  {
    const page = await browser.newPage();
    await page.evaluateOnNewDocument(() => {
      const Native = window.EventSource;
      window.__stream = {opens: 0, errors: 0};
      window.EventSource = class extends Native {
        constructor(...args) {
          super(...args);
          this.addEventListener('open', () => window.__stream.opens++);
          this.addEventListener('error', () => window.__stream.errors++);
        }
      };
    });
    const cdpPage = await page.createCDPSession();
    await cdpPage.send('Network.enable');
    const streamResponses = [];
    cdpPage.on('Network.responseReceived', (e) => {
      if (e.response.url.endsWith('/traffic/stream')) streamResponses.push(e.response.connectionId);
    });
    await page.goto(base + '#/traffic', {waitUntil: 'load'});
    await page.waitForFunction(() => Number(document.querySelector('#page').dataset.updates) >= 2,
                               {timeout: 10000});
    const watchS = 6;
    const u0 = Number(await page.$eval('#page', (e) => e.dataset.updates));
    await new Promise((r) => setTimeout(r, watchS * 1000));
    const u1 = Number(await page.$eval('#page', (e) => e.dataset.updates));
    const es = await page.evaluate(() => window.__stream);
    console.log(`traffic stream: ${u1 - u0} updates in ${watchS} s, ${streamResponses.length} ` +
                `response(s), EventSource opens ${es.opens}, errors (reconnects) ${es.errors}`);
    check(u1 - u0 >= watchS - 2, `traffic: ${u1 - u0} updates in ${watchS} s on the open stream`);
    check(streamResponses.length === 1 && es.opens === 1 && es.errors === 0,
          `traffic: no reconnects in ${watchS} s (${streamResponses.length} responses, ` +
          `${es.opens} opens, ${es.errors} errors)`);
    const windowS = Number(await text(page, '#window-s'));
    check(windowS >= 1 && windowS <= 15, `traffic: latency window shown (${windowS} s)`);
    await page.close();
  }

  // Monitoring: a month of hourly windows per version, drift alarms in the last week.
  p = await open(base + '#/monitor', 'monitoring');
  check(await text(p.page, '#windows') === '720', 'monitoring: 720 windows (30 days × 24)');
  const alarms = Number(await text(p.page, '#alarms'));
  // The last 7 of 30 days drift (168 windows); calibrated for 5% false alarms on the other 552.
  const lastWeek = await p.page.$$eval('#alerts tbody tr', (trs) => trs.filter((tr) =>
      tr.cells[2].textContent === '1' && tr.cells[0].textContent >= '2026-11-24').length);
  check(lastWeek >= 150 && alarms - lastWeek <= 60,
        `monitoring: alarms ${lastWeek} in the drifted week (of 168 windows), ${alarms - lastWeek} before`);
  check(await count(p.page, '#drift .chart') === 3, 'monitoring: one drift chart per feature');
  check(await count(p.page, '#alerts tbody tr') > 0, 'monitoring: alerts listed');
  const threshold = await p.page.evaluate(() => {
    const c = echarts.getInstanceByDom(document.querySelector('#drift-2'));
    return c.getOption().series[0].markLine.data[0].yAxis;
  });
  check(threshold > 0, `monitoring: the drift chart draws the calibrated threshold (${threshold})`);
  // Estimated accuracy per version: version 1's loss model says 4 (squared minutes) per row, so
  // an estimated RMSE of 2.00 in every window; version 2 has no loss model.
  const accRows = await p.page.$$eval('#accuracy-versions tbody tr', (trs) => Object.fromEntries(trs.map((tr) =>
      [tr.dataset.key, {est: tr.querySelector('.est-rmse').textContent, live: tr.querySelector('.live-rmse').textContent,
                        from: tr.cells[7].textContent}])));
  check(accRows['eta:1'] && accRows['eta:1'].est === '2.00' && accRows['eta:1'].from === 'loss model',
        `monitoring: eta 1 estimated RMSE 2.00 from its loss model (${JSON.stringify(accRows['eta:1'])})`);
  check(accRows['eta:2'] && accRows['eta:2'].est === '–' && accRows['eta:2'].from === 'no loss model',
        `monitoring: eta 2 has no estimate (${JSON.stringify(accRows['eta:2'])})`);
  // Live RMSE beside it: the drifted last week's noise is 4 minutes, so well above the estimate.
  check(accRows['eta:1'] && Number(accRows['eta:1'].live) > 3, `monitoring: eta 1 live RMSE of the last window (${accRows['eta:1'] && accRows['eta:1'].live}) above the estimate`);
  const estChart = await p.page.evaluate(() => echarts.getInstanceByDom(document.querySelector('#estimated'))
      .getOption().series.map((x) => ({name: x.name, n: x.data.length, first: x.data[0][1]})));
  const est1 = estChart.find((x) => x.name === 'eta 1 estimated');
  check(est1 && est1.n === 720 && Math.abs(est1.first - 2) < 1e-6 && estChart.some((x) => x.name === 'eta 2 live') &&
        !estChart.some((x) => x.name === 'eta 2 estimated'),
        `monitoring: live and estimated RMSE per version over time (${JSON.stringify(estChart)})`);
  await finish(p, 'monitoring');

  // City map: real zones, real pickups, the hour slider by keyboard.
  p = await open(base + '#/map/pickups', 'map');
  const zonesDrawn = await p.page.evaluate(() => echarts.getInstanceByDom(document.querySelector('#map'))
      .getOption().series[0].data.length);
  check(zonesDrawn > 100, `map: values for ${zonesDrawn} zones`);
  const t0 = await p.page.evaluate(() => document.querySelector('#page').dataset.time);
  await p.page.focus('#time');
  for (let i = 0; i < 8; i++) await p.page.keyboard.press('ArrowRight');
  const t8 = await p.page.evaluate(() => document.querySelector('#page').dataset.time);
  const pickups = JSON.parse(fs.readFileSync(path.join(tmp, 'series/pickups.series.json')));
  const i0 = pickups.times.indexOf(t0);
  check(i0 >= 0 && t8 === pickups.times[i0 + 8], `map: slider ${t0} → ${t8} (8 hours on)`);
  // The first view is the busiest hour of the month.
  const totals = pickups.times.map((_, k) => pickups.zones.reduce((a, z, i) =>
      a + (pickups.values[i * pickups.times.length + k] || 0), 0));
  check(totals[i0] === Math.max(...totals), `map: opens at the busiest hour (${t0})`);
  const top = await text(p.page, '#top tbody tr');
  check(top.length > 0, 'map: top zones listed');
  await finish(p, 'map');
  p = await open(base + '#/map/pickups_feb_total', 'map_total');
  const top1 = await p.page.$$eval('#top tbody tr td', (tds) => tds.map((t) => t.textContent.trim()));
  const want = feb.zones.map((z, i) => [z, csv.split('\n')[i + 1].split(',')[1]])
      .sort((a, b) => b[1] - a[1])[0];
  check(top1[0] === String(want[0]) && Number(top1[3]) === Number(want[1]),
        `map: busiest zone of 2021-02 ${top1[0]} (${top1[3]}) is ${want[0]} (${want[1]})`);
  await finish(p, 'map_total');

  // Forecast demand: hour 2 of the forecast (2021-01-27 09:00) on the map, its busiest zone and a
  // named zone's value as `bimride forecast` printed them.
  const fcHour = forecastHeader[4];  // zone, last_3_buckets, 07:00, 08:00, 09:00
  p = await open(base + '#/map/forecast/2', 'map_forecast');
  check(await p.page.evaluate(() => document.querySelector('#page').dataset.time) === fcHour,
        `map: forecast at ${fcHour}`);
  const fcTop = await p.page.$$eval('#top tbody tr td', (tds) => tds.map((t) => t.textContent.trim()));
  const fcWant = Object.entries(forecast).sort((a, b) => Number(b[1][fcHour]) - Number(a[1][fcHour]))[0];
  check(fcTop[0] === fcWant[0] && Number(fcTop[3]) === Number(fcWant[1][fcHour]),
        `map: busiest forecast zone at ${fcHour}: page ${fcTop[0]} (${fcTop[3]}), forecast ${fcWant[0]} (${fcWant[1][fcHour]})`);
  const fc74 = await p.page.evaluate(() => (echarts.getInstanceByDom(document.querySelector('#map'))
      .getOption().series[0].data.find((d) => d.name === '74') || {}).value);
  check(forecast['74'] && fc74 === Number(forecast['74'][fcHour]),
        `map: zone 74 (East Harlem North) forecast at ${fcHour}: page ${fc74}, forecast ${forecast['74'] && forecast['74'][fcHour]}`);
  await finish(p, 'map_forecast');

  // Surge from the live pricing endpoint: a ratio policy for the 263 TLC zones published by
  // `bimride train pricing`, served by `bimride serve` with the console; market events posted to
  // /v1/online/market; the map asks the server for every zone's multiplier at 21:07.
  execFileSync(args.bimride, ['train', 'pricing', '--policy', 'ratio', '--zones', '263', '--smoothing', '1',
    '--max-step', '0.5', '--repo', path.join(tmp, 'pricing_repo'), '--label', 'stable'],
    {stdio: ['ignore', 'ignore', 'inherit'], env: dataEnv});
  const serve = spawn(args.bimride, ['serve', '--model-repo', path.join(tmp, 'pricing_repo'), '--port', '0',
    '--io-threads', '1', '--poll-interval-ms', '0', '--access-log', 'off', '--ui-dir', args['ui-dir'],
    '--ui-data', path.join(tmp, 'series')], {stdio: ['ignore', 'pipe', 'inherit'], env: dataEnv});
  try {
    const servePort = await new Promise((resolve, reject) => {
      const rl = readline.createInterface({input: serve.stdout});
      rl.on('line', (line) => { const m = /listening on [^:]+:(\d+)/.exec(line); if (m) resolve(Number(m[1])); });
      serve.on('exit', (code) => reject(new Error(`bimride serve exited with ${code}`)));
      setTimeout(() => reject(new Error('bimride serve did not start in 60 s')), 60000);
    });
    const serveBase = `http://127.0.0.1:${servePort}`;
    // 21:00–21:05: Midtown Center (161) 6 requests for 2 idle drivers (ratio 3, stepped to 1.5
    // from the floor); Midtown North (163) 1 request for 4 idle drivers (no surge).
    const posted = await fetch(serveBase + '/v1/online/market', {method: 'POST', body: JSON.stringify({events: [
      {zone: 161, time: '2024-03-14 21:01:00', requests: 6, idle_drivers: 2},
      {zone: 163, time: '2024-03-14 21:02:00', requests: 1, idle_drivers: 4}]})});
    check(posted.status === 200, `surge: market events posted (${posted.status} ${await posted.text()})`);
    p = await open(serveBase + '/ui/#/surge/pricing/2024-03-14T21:07', 'surge');
    check(await text(p.page, '#surge-zones') === '263', 'surge: 263 zones priced');
    check(await text(p.page, '#surge-count') === '1', `surge: one zone surging (${await text(p.page, '#surge-count')})`);
    const surgeTop = await p.page.$$eval('#top tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent.trim())));
    check(surgeTop[0] && surgeTop[0][0] === '161' && surgeTop[0][1] === 'Midtown Center' && surgeTop[0][3] === '1.50',
          `surge: Midtown Center at 1.50× first (${JSON.stringify(surgeTop[0])})`);
    const m163 = await p.page.evaluate(() => (echarts.getInstanceByDom(document.querySelector('#map'))
        .getOption().series[0].data.find((d) => d.name === '163') || {}).value);
    check(m163 === 1, `surge: Midtown North at 1× (${m163})`);
    check((await text(p.page, 'h1')).includes('pricing version 1'), 'surge: names the served version');
    // A rider's quote in that 5-minute interval gets what the preview showed (same live state).
    const quote = await (await fetch(serveBase + '/v1/models/pricing:predict', {method: 'POST',
      body: JSON.stringify({instances: [{zone: 161, time: '2024-03-14 21:09:00'}]})})).json();
    check(Math.abs(quote.predictions[0].multiplier - 1.5) < 1e-6, `surge: the endpoint agrees (${JSON.stringify(quote)})`);
    // The map page offers the live surge beside the data folder's series.
    const offered = await p.page.$$eval('#series option', (o) => o.map((x) => x.value));
    check(offered.includes('surge/pricing') && offered.includes('map/forecast'), `surge: series offered ${offered}`);
    await finish(p, 'surge');
    // A bad time is a clear error on the page.
    const badSurge = await browser.newPage();
    await badSurge.goto(serveBase + '/ui/#/surge/pricing/yesterday', {waitUntil: 'load'});
    await badSurge.waitForFunction(() => document.body.dataset.ready === 'error');
    check((await text(badSurge, '.error')).includes("time 'yesterday'"), 'surge: a bad time is named');
    await badSurge.close();
  } finally {
    serve.kill('SIGTERM');
  }

  // Keyboard navigation from the top: skip link, then the page links, focus visible.
  p = await open(base + '#/models', 'keyboard');
  await p.page.keyboard.press('Tab');
  check(await p.page.evaluate(() => document.activeElement.className) === 'skip', 'keyboard: skip link first');
  await p.page.keyboard.press('Tab');
  await p.page.keyboard.press('Tab');
  const focused = await p.page.evaluate(() => ({text: document.activeElement.textContent,
      outline: getComputedStyle(document.activeElement).outlineStyle}));
  check(focused.text === 'Runs' && focused.outline !== 'none', `keyboard: Runs focused visibly (${JSON.stringify(focused)})`);
  await p.page.keyboard.press('Enter');
  await p.page.waitForFunction(() => location.hash === '#/runs' && document.body.dataset.ready === 'yes');
  check(await p.page.$eval('a[data-page="runs"]', (a) => a.getAttribute('aria-current')) === 'page',
        'keyboard: the current page is marked');
  await finish(p, 'keyboard');

  // Bad input shows a clear error, not a blank page.
  const bad = await browser.newPage();
  await bad.goto(base + '#/models/no_such_model', {waitUntil: 'load'});
  await bad.waitForFunction(() => document.body.dataset.ready === 'error');
  check((await text(bad, '.error')).includes('no_such_model'), 'bad input: the error names the model');
  await bad.close();

  // The static export, opened from disk.
  execFileSync(args.bimride, ['console', 'export', path.join(tmp, 'export'), '--model-repo',
    path.join(tmp, 'fx/registry'), '--ui-dir', args['ui-dir'], '--ui-data', path.join(tmp, 'series')],
    {stdio: 'inherit', env: {...process.env, BIMRIDE_DATA_DIR: args.data}});
  for (const [hash, sel, want] of [['#/models', '#model-count', '50'], ['#/models/eta', '#versions tbody tr', 200],
                                   ['#/map/pickups', '#top tbody tr', 10]]) {
    p = await open('file://' + path.join(tmp, 'export/index.html') + hash, 'export ' + hash);
    for (const e of p.errors) check(false, `export ${hash}: ${e}`);
    const got = typeof want === 'number' ? await count(p.page, sel) : await text(p.page, sel);
    check(got === want, `export ${hash}: ${sel} = ${got}, want ${want}`);
    await p.page.close();
  }
} finally {
  await browser.close();
  fixture.stdin.end();
  fs.writeFileSync(path.join(args.out, 'timings.json'), JSON.stringify(timings, null, 2) + '\n');
  fs.rmSync(tmp, {recursive: true, force: true});
}
console.log(`load times (ms, budget ${LOAD_BUDGET_MS}): ${JSON.stringify(timings)}`);
console.log(failures.length ? `${failures.length} checks failed` : 'all checks passed');
process.exit(failures.length ? 1 : 0);
