// The BimRide web console: one page per hash route, each drawing what its /ui/api/ JSON says
// (live under `bimride serve`, or the data scripts of `bimride console export`).
'use strict';

const STATIC = window.BIMRIDE_STATIC === true;
const $ = (sel, root = document) => root.querySelector(sel);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g,
    (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
const fmt = (v, d = 2) => (v === null || v === undefined || Number.isNaN(v)) ? '–'
    : (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(d)) : String(v));
const charts = [];  // disposed on every page change

// --- data -----------------------------------------------------------------------------------
function loadStatic(path) {
  window.BIMRIDE_DATA = window.BIMRIDE_DATA || {};
  if (path in window.BIMRIDE_DATA) return Promise.resolve(window.BIMRIDE_DATA[path]);
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = 'data/' + path.split('?')[0].replaceAll('/', '~') + '.js';
    s.onload = () => (path in window.BIMRIDE_DATA) ? resolve(window.BIMRIDE_DATA[path])
        : reject(new Error(`'${path}' is not in this export`));
    s.onerror = () => reject(new Error(`'${path}' is not in this export`));
    document.head.appendChild(s);
  });
}

async function api(path) {
  if (STATIC) return loadStatic(path);
  const r = await fetch('api/' + path);
  let body;
  try { body = await r.json(); } catch (e) { body = {error: `${r.status} ${r.statusText}`}; }
  if (!r.ok) throw new Error(body.error || `${r.status} ${r.statusText}`);
  return body;
}

// --- page plumbing --------------------------------------------------------------------------
function page(html) {
  const main = $('#page');
  main.innerHTML = html;
  return main;
}

function showError(err, what) {
  page(`<h1>${esc(what)}</h1><p class="error" role="alert">${esc(err.message || err)}</p>`);
  document.body.dataset.ready = 'error';
}

// The chart library (1 MB) is loaded by the first page that draws a chart, not by the tables.
let chartsLoaded = null;
function needCharts() {
  if (!chartsLoaded) {
    chartsLoaded = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = 'vendor/echarts.min.js';
      s.onload = () => resolve();
      s.onerror = () => { chartsLoaded = null; reject(new Error('the chart library did not load (vendor/echarts.min.js)')); };
      document.head.appendChild(s);
    });
  }
  return chartsLoaded;
}

function chart(el, option) {
  if (!window.echarts) throw new Error('the chart library did not load (vendor/echarts.min.js)');
  const c = echarts.init(el, null, {renderer: 'canvas'});
  c.setOption(Object.assign({aria: {enabled: true}, animation: false}, option));
  charts.push(c);
  return c;
}

let stream = null;  // the traffic page's EventSource
let routeToken = 0;

async function route() {
  const token = ++routeToken;
  while (charts.length) charts.pop().dispose();
  if (stream) { stream.close(); stream = null; }
  document.body.dataset.ready = '';
  const hash = decodeURIComponent(location.hash.replace(/^#\/?/, '')) || 'models';
  const parts = hash.split('/');
  const section = parts[0];
  document.querySelectorAll('header nav a').forEach((a) => {
    const current = a.dataset.page === section || (a.dataset.page === 'runs' && section === 'compare') ||
        (a.dataset.page === 'map' && section === 'surge');
    if (current) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  });
  const started = performance.now();
  try {
    if (section === 'models' && parts.length === 1) await modelsPage();
    else if (section === 'models' && parts.length === 2) await modelPage(parts[1]);
    else if (section === 'models' && parts[2] === 'versions') await versionPage(parts[1], parts[3]);
    else if (section === 'runs' && parts.length === 1) await runsPage();
    else if (section === 'runs') await runPage(parts[1]);
    else if (section === 'compare') await comparePage(parts[1], parts[2]);
    else if (section === 'traffic') await trafficPage();
    else if (section === 'monitor') await monitorPage(parts[1], parts[2]);
    else if (section === 'map') await mapPage(parts[1], parts[2]);
    else if (section === 'surge') await surgePage(parts[1], parts[2]);
    else throw new Error(`no page '${hash}'`);
    if (token !== routeToken) return;
    document.body.dataset.ready = 'yes';
    document.body.dataset.renderMs = String(Math.round(performance.now() - started));
    // The first page drawn since the tab opened: its load time, from the navigation's start
    // (the browser's own clock), what the browser test holds to its budget.
    if (!document.body.dataset.loadMs) document.body.dataset.loadMs = String(Math.round(performance.now()));
    const h1 = $('#page h1');
    document.title = (h1 ? h1.textContent + ' · ' : '') + 'BimRide console';
  } catch (err) {
    if (token === routeToken) showError(err, section);
  }
}

// --- registry -------------------------------------------------------------------------------
const chips = (labels) => (labels || []).map((l) => `<span class="chip">${esc(l)}</span>`).join('');

async function modelsPage() {
  const d = await api('models');
  const rows = d.models.map((m) => `<tr data-model="${esc(m.name)}">
      <td><a href="#/models/${encodeURIComponent(m.name)}">${esc(m.name)}</a></td>
      <td>${esc(m.task)}</td><td>${esc(m.backend)}</td>
      <td class="num">${m.versions}</td><td class="num">${fmt(m.latest_version)}</td>
      <td>${Object.entries(m.labels).map(([l, v]) => `<span class="chip">${esc(l)}: ${v}</span>`).join('')}</td>
      <td>${esc(m.updated)}</td></tr>`).join('');
  const main = page(`<h1>Model registry</h1>
    <p><span id="model-count">${d.models.length}</span> models,
       <span id="version-count">${d.total_versions}</span> versions.</p>
    <div class="row"><label for="filter">Filter models</label>
      <input id="filter" type="search" placeholder="name, task or label" autocomplete="off"></div>
    <table id="models"><thead><tr><th scope="col">Model</th><th scope="col">Task</th>
      <th scope="col">Backend</th><th scope="col" class="num">Versions</th>
      <th scope="col" class="num">Latest</th><th scope="col">Labels</th><th scope="col">Updated (UTC)</th>
    </tr></thead><tbody>${rows}</tbody></table>`);
  $('#filter', main).addEventListener('input', (e) => {
    const q = e.target.value.toLowerCase();
    main.querySelectorAll('#models tbody tr').forEach((tr) => {
      tr.hidden = q !== '' && !tr.textContent.toLowerCase().includes(q);
    });
  });
}

async function modelPage(name) {
  const d = await api('models/' + name);
  const versions = d.versions.map((v) => `<tr>
      <td class="num"><a href="#/models/${encodeURIComponent(name)}/versions/${v.version}">${v.version}</a></td>
      <td>${chips(v.labels)}</td><td>${esc(v.task)}</td><td>${esc(v.backend)}</td>
      <td>${v.run_id ? `<a href="#/runs/${encodeURIComponent(v.run_id)}">${esc(v.run_id)}</a>` : '–'}</td>
      <td>${esc(v.created)}</td></tr>`).join('');
  const history = d.history.map((m) => `<tr><td>${esc(m.time)}</td><td>${esc(m.label)}</td>
      <td>${esc(m.action)}</td><td class="num">${fmt(m.from_version)}</td>
      <td class="num">${m.to_version}</td><td>${esc(m.why)}</td><td>${esc(m.who)}</td></tr>`).join('');
  const main = page(`<h1>Model ${esc(name)}</h1>
    <p>Labels: <span id="labels">${Object.entries(d.labels).map(([l, v]) =>
        `<span class="chip">${esc(l)} → ${v}</span>`).join('') || 'none'}</span></p>
    ${STATIC ? '' : `<details><summary>Move a label (needs the admin token)</summary>
      <form id="move" class="row">
        <label for="mv-label">Label</label><input id="mv-label" required size="10">
        <label for="mv-version">Version</label><input id="mv-version" type="number" min="1" required size="5">
        <label for="mv-why">Why</label><input id="mv-why" required>
        <label for="mv-token">Admin token</label><input id="mv-token" type="password" autocomplete="off">
        <button type="submit">Move</button><span id="mv-result" role="status"></span>
      </form></details>`}
    <div class="grid2"><section><h2>Versions (${d.versions.length})</h2><div class="scroll">
      <table id="versions"><thead><tr><th scope="col" class="num">Version</th><th scope="col">Labels</th>
      <th scope="col">Task</th><th scope="col">Backend</th><th scope="col">Run</th>
      <th scope="col">Created (UTC)</th></tr></thead><tbody>${versions}</tbody></table></div></section>
    <section><h2>Label audit log (${d.history.length})</h2><div class="scroll">
      <table id="history"><thead><tr><th scope="col">Time (UTC)</th><th scope="col">Label</th>
      <th scope="col">Action</th><th scope="col" class="num">From</th><th scope="col" class="num">To</th>
      <th scope="col">Why</th><th scope="col">Who</th></tr></thead><tbody>${history}</tbody></table>
    </div></section></div>`);
  const form = $('#move', main);
  if (form) form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const out = $('#mv-result', main);
    const token = $('#mv-token', main).value;
    const headers = {'content-type': 'application/json'};
    if (token) headers.authorization = 'Bearer ' + token;
    const r = await fetch(`/v2/repository/models/${encodeURIComponent(name)}/labels/` +
        encodeURIComponent($('#mv-label', main).value), {method: 'POST', headers,
        body: JSON.stringify({version: Number($('#mv-version', main).value),
                              why: $('#mv-why', main).value, who: 'console'})});
    const body = await r.json().catch(() => ({}));
    out.textContent = r.ok ? `moved to ${body.to_version}` : (body.error || r.statusText);
    out.className = r.ok ? 'ok' : 'bad';
  });
}

async function versionPage(name, version) {
  const d = await api(`models/${name}/versions/${version}`);
  const m = d.manifest;
  const metrics = Object.entries(m.metrics || {}).map(([k, v]) =>
      `<tr><td>${esc(k)}</td><td class="num">${fmt(v, 4)}</td></tr>`).join('');
  page(`<h1>${esc(name)} version ${esc(version)}</h1>
    <p>Labels: ${chips(d.labels) || 'none'} · task ${esc(m.task)} · backend ${esc(m.backend)}
       · created ${esc(m.created_at)} · <a href="#/models/${encodeURIComponent(name)}">all versions</a></p>
    <h2>Metrics</h2><table id="metrics"><thead><tr><th scope="col">Metric</th>
      <th scope="col" class="num">Value</th></tr></thead><tbody>${metrics}</tbody></table>
    <h2>Manifest</h2><pre id="manifest">${esc(JSON.stringify(m, null, 2))}</pre>`);
}

// --- runs -----------------------------------------------------------------------------------
async function runsPage() {
  const d = await api('runs');
  const keys = [...new Set(d.runs.flatMap((r) => Object.keys(r.metrics)))].sort().slice(0, 4);
  const rows = d.runs.map((r) => `<tr>
      <td><input type="checkbox" class="pick" value="${esc(r.run_id)}" aria-label="select run ${esc(r.run_id)}"></td>
      <td><a href="#/runs/${encodeURIComponent(r.run_id)}">${esc(r.run_id)}</a></td>
      <td>${esc(r.task)}</td><td>${esc(r.status)}</td><td>${esc(r.start)}</td>
      <td class="num">${fmt(r.wall_time_s, 1)}</td>
      ${keys.map((k) => `<td class="num">${fmt(r.metrics[k], 4)}</td>`).join('')}
      <td>${esc(Object.entries(r.params).map(([k, v]) => `${k}=${v}`).join(' '))}</td></tr>`).join('');
  const main = page(`<h1>Runs</h1>
    <div class="row"><span id="run-count">${d.runs.length}</span> runs.
      <button id="compare" disabled>Compare the two selected</button></div>
    <div class="scroll"><table id="runs"><thead><tr><th scope="col">Pick</th><th scope="col">Run</th>
      <th scope="col">Task</th><th scope="col">Status</th><th scope="col">Started (UTC)</th>
      <th scope="col" class="num">Wall s</th>${keys.map((k) => `<th scope="col" class="num">${esc(k)}</th>`).join('')}
      <th scope="col">Params</th></tr></thead><tbody>${rows}</tbody></table></div>`);
  const button = $('#compare', main);
  const picked = () => [...main.querySelectorAll('.pick:checked')].map((c) => c.value);
  main.addEventListener('change', () => { button.disabled = picked().length !== 2; });
  button.addEventListener('click', () => {
    const [a, b] = picked();
    location.hash = `#/compare/${encodeURIComponent(a)}/${encodeURIComponent(b)}`;
  });
}

function curveOption(seriesList, title) {
  return {
    title: {text: title, textStyle: {fontSize: 13}},
    tooltip: {trigger: 'axis'}, legend: {top: 22, type: 'scroll'},
    grid: {left: 60, right: 20, top: 60, bottom: 40},
    xAxis: {type: 'value', name: 'step', nameLocation: 'middle', nameGap: 25, minInterval: 1},
    yAxis: {type: 'value', scale: true},
    series: seriesList.map((s) => ({name: s.name, type: 'line', showSymbol: s.data.length < 60,
                                   data: s.data, lineStyle: s.dashed ? {type: 'dashed'} : undefined})),
  };
}

const curveData = (c) => c.step.map((s, i) => [s, c.value[i]]);

async function runPage(id) {
  const [r] = await Promise.all([api('runs/' + id), needCharts()]);
  const params = Object.entries(r.params).map(([k, v]) =>
      `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('');
  const metrics = Object.entries(r.metrics).map(([k, v]) =>
      `<tr><td>${esc(k)}</td><td class="num">${fmt(v, 4)}</td></tr>`).join('');
  const main = page(`<h1>Run ${esc(r.run_id)}</h1>
    <p>${esc(r.task)} · ${esc(r.status)} · started ${esc(r.start)} · ${fmt(r.wall_time_s, 1)} s ·
       commit ${esc(r.code.git_commit || r.code.note || '–')}${r.code.dirty ? ' (dirty)' : ''}</p>
    <div class="chart" id="curves" role="img" aria-label="metric curves by step"></div>
    <div class="grid2"><section><h2>Parameters</h2><table id="params"><tbody>${params}</tbody></table></section>
    <section><h2>Latest metrics</h2><table id="latest"><tbody>${metrics}</tbody></table>
    <h2>Data</h2><p class="muted">${esc(r.data.files.map((f) => f.path).join(', ') || 'none')}
      ${r.data.filter ? ' · ' + esc(r.data.filter) : ''}</p></section></div>`);
  chart($('#curves', main), curveOption(
      Object.entries(r.curves).map(([k, c]) => ({name: k, data: curveData(c)})), 'Metrics by epoch / round'));
}

async function comparePage(a, b) {
  const charting = needCharts();
  let d;
  if (STATIC) {
    // A static export has each run, not each pair: compare here.
    const [ra, rb] = await Promise.all([api('runs/' + a), api('runs/' + b)]);
    const keys = [...new Set([...Object.keys(ra.params), ...Object.keys(rb.params)])].sort();
    d = {a: ra, b: rb, params_differ: keys.filter((k) => ra.params[k] !== rb.params[k])
        .map((k) => ({param: k, a: ra.params[k] ?? null, b: rb.params[k] ?? null}))};
  } else {
    d = await api(`runs/compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`);
  }
  await charting;
  const diff = d.params_differ.map((p) => `<tr><td>${esc(p.param)}</td><td>${esc(p.a ?? '–')}</td>
      <td>${esc(p.b ?? '–')}</td></tr>`).join('');
  const keys = [...new Set([...Object.keys(d.a.curves), ...Object.keys(d.b.curves)])].sort();
  const latest = keys.map((k) => `<tr><td>${esc(k)}</td><td class="num">${fmt(d.a.metrics[k], 4)}</td>
      <td class="num">${fmt(d.b.metrics[k], 4)}</td></tr>`).join('');
  const main = page(`<h1>Compare runs</h1>
    <p>A: <a href="#/runs/${encodeURIComponent(d.a.run_id)}">${esc(d.a.run_id)}</a> ·
       B: <a href="#/runs/${encodeURIComponent(d.b.run_id)}">${esc(d.b.run_id)}</a></p>
    <div class="grid2"><section><h2>Parameters that differ (${d.params_differ.length})</h2>
      <table id="differ"><thead><tr><th scope="col">Param</th><th scope="col">A</th><th scope="col">B</th>
      </tr></thead><tbody>${diff}</tbody></table></section>
    <section><h2>Latest metrics</h2><table id="latest"><thead><tr><th scope="col">Metric</th>
      <th scope="col" class="num">A</th><th scope="col" class="num">B</th></tr></thead>
      <tbody>${latest}</tbody></table></section></div>
    <div id="curves">${keys.map((k, i) => `<div class="chart" id="curve-${i}" role="img"
        aria-label="${esc(k)} by step, run A and run B"></div>`).join('')}</div>`);
  keys.forEach((k, i) => {
    const s = [];
    if (d.a.curves[k]) s.push({name: 'A ' + k, data: curveData(d.a.curves[k])});
    if (d.b.curves[k]) s.push({name: 'B ' + k, data: curveData(d.b.curves[k]), dashed: true});
    chart($('#curve-' + i, main), curveOption(s, k));
  });
}

// --- traffic --------------------------------------------------------------------------------
async function trafficPage() {
  const [first] = await Promise.all([api('traffic'), needCharts()]);
  const main = page(`<h1>Live traffic</h1>
    <p class="muted" id="traffic-status">${STATIC ? 'A static export: the traffic as it was.'
        : 'Updates every second (server-sent events). Latency quantiles are over the last <span id="window-s">–</span> s; the since-start p99 beside them is history.'}</p>
    <div class="cards" id="totals"></div>
    <div class="chart" id="rate-chart" role="img" aria-label="requests per second by model version"></div>
    <h2>Per model and version</h2>
    <table id="traffic"><thead><tr><th scope="col">Model</th><th scope="col" class="num">Version</th>
      <th scope="col" class="num">Req/s</th><th scope="col" class="num">Errors/s</th>
      <th scope="col" class="num">Canary split</th><th scope="col" class="num">p50 ms</th>
      <th scope="col" class="num">p90 ms</th><th scope="col" class="num">p99 ms</th>
      <th scope="col" class="num">Requests</th><th scope="col" class="num">Errors</th>
      <th scope="col" class="num">p99 ms since start</th></tr></thead>
      <tbody></tbody></table>
    <h2>Rollout steps (latest label moves)</h2>
    <table id="moves"><thead><tr><th scope="col">Time (UTC)</th><th scope="col">Model</th>
      <th scope="col">Label</th><th scope="col" class="num">From</th><th scope="col" class="num">To</th>
      <th scope="col">Why</th></tr></thead><tbody></tbody></table>`);
  const history = {};  // "model:version" -> [[time, req/s]]
  const rateChart = chart($('#rate-chart', main), {
    title: {text: 'Requests per second', textStyle: {fontSize: 13}}, tooltip: {trigger: 'axis'},
    legend: {top: 22, type: 'scroll'}, grid: {left: 60, right: 20, top: 60, bottom: 40},
    xAxis: {type: 'time'}, yAxis: {type: 'value', min: 0}, series: []});
  let updates = 0;
  const draw = (t) => {
    updates++;
    main.dataset.updates = String(updates);
    const served = t.versions.filter((v) => v.version > 0);
    const sum = (k) => served.reduce((a, v) => a + v[k], 0);
    $('#totals', main).innerHTML = [
      ['Requests/s', fmt(sum('requests_per_s'), 1)], ['Errors/s', fmt(sum('errors_per_s'), 1)],
      ['Requests', sum('requests')], ['Errors', sum('errors')], ['Versions', served.length]]
      .map(([k, v]) => `<div class="card"><div class="muted">${k}</div><div class="v">${v}</div></div>`).join('');
    $('#traffic tbody', main).innerHTML = t.versions.map((v) => `<tr data-key="${esc(v.model)}:${v.version}">
      <td>${esc(v.model)}</td><td class="num">${v.version || 'none'}</td>
      <td class="num rps">${fmt(v.requests_per_s, 1)}</td><td class="num">${fmt(v.errors_per_s, 1)}</td>
      <td class="num">${v.share === null ? '–' : (100 * v.share).toFixed(0) + '%'}</td>
      <td class="num">${fmt(v.p50_ms, 2)}</td><td class="num">${fmt(v.p90_ms, 2)}</td>
      <td class="num">${fmt(v.p99_ms, 2)}</td><td class="num requests">${v.requests}</td>
      <td class="num ${v.errors ? 'bad' : ''}">${v.errors}</td>
      <td class="num muted">${fmt(v.total_p99_ms, 2)}</td></tr>`).join('');
    const windowS = served.length ? Math.max(...served.map((v) => v.window_s || 0)) : 0;
    const w = $('#window-s', main);
    if (w) w.textContent = windowS > 0 ? fmt(windowS, 0) : '–';
    $('#moves tbody', main).innerHTML = t.label_moves.map((m) => `<tr><td>${esc(m.time)}</td>
      <td>${esc(m.model)}</td><td>${esc(m.label)}</td><td class="num">${fmt(m.from_version)}</td>
      <td class="num">${m.to_version}</td><td>${esc(m.why)}</td></tr>`).join('');
    const now = Date.now();
    for (const v of served) {
      const k = `${v.model}:${v.version}`;
      (history[k] = history[k] || []).push([now, v.requests_per_s]);
      if (history[k].length > 300) history[k].shift();
    }
    rateChart.setOption({series: Object.entries(history).map(([k, data]) =>
        ({name: k, type: 'line', showSymbol: false, data}))});
  };
  draw(first);
  if (!STATIC) {
    stream = new EventSource('api/traffic/stream');
    stream.addEventListener('traffic', (e) => draw(JSON.parse(e.data)));
  }
}

// --- monitoring -----------------------------------------------------------------------------
async function monitorPage(model, version) {
  const [d] = await Promise.all([api('monitor'), needCharts()]);
  if (!d.versions.length) {
    page(`<h1>Monitoring</h1><p>No monitored predictions yet (${d.counters.predicted_rows} rows).</p>`);
    return;
  }
  const pick = d.versions.find((v) => v.model === model && String(v.version) === version) || d.versions[0];
  const options = d.versions.map((v) => `<option value="${esc(v.model)}/${v.version}"
      ${v === pick ? 'selected' : ''}>${esc(v.model)} version ${v.version} (${v.time.length} windows)</option>`).join('');
  const features = Object.keys(pick.drift).sort();
  const alerts = d.alerts.slice(0, 500).map((a) => `<tr><td>${esc(a.time)}</td><td>${esc(a.model)}</td>
      <td class="num">${a.version}</td><td class="num">${a.window}</td><td class="bad">${esc(a.kind)}</td>
      <td>${esc(a.above.map((x) => `${x.feature} (${x.scores})`).join(', '))}</td></tr>`).join('');
  const labelled = pick.labelled.reduce((a, b) => a + b, 0);
  // Per version: the newest window with a value, and the mean over its windows, of the live RMSE
  // (labelled rows) and of the RMSE estimated before labels (the version's loss model).
  const latest = (xs) => { for (let i = xs.length - 1; i >= 0; i--) if (xs[i] !== null) return xs[i]; return null; };
  const mean = (xs) => { const v = xs.filter((x) => x !== null); return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null; };
  const est = (v) => v.estimated_rmse || [];
  const rmse = (x) => x === null ? '–' : x.toFixed(2);
  const perVersion = d.versions.map((v) => `<tr data-key="${esc(v.model)}:${v.version}">
      <td>${esc(v.model)}</td><td class="num">${v.version}</td><td class="num">${v.time.length}</td>
      <td class="num live-rmse">${rmse(latest(v.rmse))}</td><td class="num est-rmse">${rmse(latest(est(v)))}</td>
      <td class="num">${rmse(mean(v.rmse))}</td><td class="num">${rmse(mean(est(v)))}</td>
      <td>${est(v).some((x) => x !== null) ? 'loss model' : 'no loss model'}</td></tr>`).join('');
  const main = page(`<h1>Monitoring</h1>
    <div class="row"><label for="version">Model version</label><select id="version">${options}</select>
      <label for="score">Drift score</label><select id="score">
        ${['psi', 'js', 'ks', 'wasserstein'].map((s) => `<option>${s}</option>`).join('')}</select></div>
    <div class="cards">
      <div class="card"><div class="muted">Windows</div><div class="v" id="windows">${pick.time.length}</div></div>
      <div class="card"><div class="muted">From</div><div class="v">${esc(pick.time[0].slice(0, 10))}</div></div>
      <div class="card"><div class="muted">To</div><div class="v">${esc(pick.time[pick.time.length - 1].slice(0, 10))}</div></div>
      <div class="card"><div class="muted">Labelled rows</div><div class="v" id="labelled">${labelled}</div></div>
      <div class="card"><div class="muted">Drift alarms</div><div class="v bad" id="alarms">${pick.alarm.filter(Boolean).length}</div></div>
    </div>
    <div class="chart" id="accuracy" role="img" aria-label="live accuracy per window"></div>
    <h2>Live and estimated accuracy per version</h2>
    <p class="muted">Estimated RMSE: from the version's loss model (its expected squared error
      per row, known as soon as a row is served); live RMSE: from the labels that came back.</p>
    <table id="accuracy-versions"><thead><tr><th scope="col">Model</th><th scope="col" class="num">Version</th>
      <th scope="col" class="num">Windows</th><th scope="col" class="num">Live RMSE, latest</th>
      <th scope="col" class="num">Estimated RMSE, latest</th><th scope="col" class="num">Live RMSE, mean</th>
      <th scope="col" class="num">Estimated RMSE, mean</th><th scope="col">Estimate from</th></tr></thead>
      <tbody>${perVersion}</tbody></table>
    <div class="chart" id="estimated" role="img" aria-label="live and estimated RMSE per version over time"></div>
    <h2>Drift per feature, with the calibrated alarm threshold</h2>
    <div id="drift">${features.map((f, i) => `<div class="chart" id="drift-${i}" role="img"
        aria-label="drift of ${esc(f)} over time"></div>`).join('') || '<p>No drift baseline for this version.</p>'}</div>
    <h2>Alerts (${d.alerts.length}${d.alerts.length > 500 ? ', newest 500 shown' : ''})</h2>
    <div class="scroll"><table id="alerts"><thead><tr><th scope="col">Time</th><th scope="col">Model</th>
      <th scope="col" class="num">Version</th><th scope="col" class="num">Window</th><th scope="col">Kind</th>
      <th scope="col">Above threshold</th></tr></thead><tbody>${alerts}</tbody></table></div>`);
  $('#version', main).addEventListener('change', (e) => { location.hash = '#/monitor/' + e.target.value; });
  // Epoch ms once, not a date string parsed by every chart for every point.
  const x = pick.time.map((t) => Date.parse(t.replace(' ', 'T') + 'Z'));
  chart($('#accuracy', main), {
    title: {text: 'Live accuracy (labelled rows of each window)', textStyle: {fontSize: 13}},
    tooltip: {trigger: 'axis'}, legend: {top: 22}, grid: {left: 60, right: 20, top: 60, bottom: 30},
    dataZoom: [{type: 'inside'}],
    xAxis: {type: 'time'}, yAxis: {type: 'value', scale: true},
    series: ['rmse', 'mae', 'bias'].map((k) => ({name: k, type: 'line', showSymbol: false,
        data: x.map((t, i) => [t, pick[k][i]])})).concat(est(pick).some((v) => v !== null)
        ? [{name: 'estimated rmse', type: 'line', showSymbol: false, lineStyle: {type: 'dashed'},
            data: x.map((t, i) => [t, pick.estimated_rmse[i]])}] : [])});
  // Every version over time: live RMSE (solid) and the estimate (dashed, where it has one).
  const estSeries = [];
  for (const v of d.versions) {
    const xv = v === pick ? x : v.time.map((t) => Date.parse(t.replace(' ', 'T') + 'Z'));
    const key = `${v.model} ${v.version}`;
    estSeries.push({name: key + ' live', type: 'line', showSymbol: false,
                    data: xv.map((t, i) => [t, v.rmse[i]])});
    if (est(v).some((e) => e !== null)) {
      estSeries.push({name: key + ' estimated', type: 'line', showSymbol: false,
                      lineStyle: {type: 'dashed'}, data: xv.map((t, i) => [t, v.estimated_rmse[i]])});
    }
  }
  chart($('#estimated', main), {
    title: {text: 'RMSE per version: live (labels) and estimated (before labels)', textStyle: {fontSize: 13}},
    tooltip: {trigger: 'axis'}, legend: {top: 22, type: 'scroll'},
    grid: {left: 60, right: 20, top: 60, bottom: 30}, dataZoom: [{type: 'inside'}],
    xAxis: {type: 'time'}, yAxis: {type: 'value', scale: true}, series: estSeries});
  const drawDrift = (score) => features.forEach((f, i) => {
    const threshold = pick.thresholds && pick.thresholds[f] ? pick.thresholds[f][score] : null;
    const el = $('#drift-' + i, main);
    const existing = echarts.getInstanceByDom(el);
    const option = {
      title: {text: `${f}: ${score}${threshold === null ? ' (no calibrated threshold)' : ''}`,
              textStyle: {fontSize: 13}},
      tooltip: {trigger: 'axis'}, grid: {left: 60, right: 90, top: 40, bottom: 30},
      xAxis: {type: 'time'}, yAxis: {type: 'value', min: 0},
      series: [{name: score, type: 'line', showSymbol: false,
                data: x.map((t, k) => [t, pick.drift[f][score][k]]),
                markLine: threshold === null ? undefined : {symbol: 'none', silent: true,
                  lineStyle: {color: '#b3261e', type: 'dashed'},
                  label: {formatter: `alarm ${threshold.toPrecision(3)}`, color: '#b3261e'},
                  data: [{yAxis: threshold}]}}]};
    if (existing) existing.setOption(option, true); else chart(el, option);
  });
  drawDrift('psi');
  $('#score', main).addEventListener('change', (e) => drawDrift(e.target.value));
}

// --- city map -------------------------------------------------------------------------------
let zonesLoaded = null;
async function loadZones() {
  if (!zonesLoaded) {
    zonesLoaded = Promise.all([api('zones'), needCharts()]).then(([geo]) => {
      echarts.registerMap('tlc_zones', geo);
      const names = {};
      for (const f of geo.features) names[f.properties.name] = f.properties;
      return names;
    });
    zonesLoaded.catch(() => { zonesLoaded = null; });
  }
  return zonesLoaded;
}

// The series select of the map pages: the data folder's series, then each served model that
// answers a surge multiplier per zone (asked live: the surge page).
function seriesOptions(list, current) {
  return list.series.map((x) => `<option value="map/${esc(x.name)}" ${'map/' + x.name === current ? 'selected' : ''}>${esc(x.title)}</option>`)
      .concat((list.surge_models || []).map((m) => `<option value="surge/${esc(m)}"
        ${'surge/' + m === current ? 'selected' : ''}>surge multiplier, live from model ${esc(m)}</option>`)).join('');
}

// Draws `s` (a zone series) on the zone polygons in `el`; returns show(t), which colours time
// bucket t and fills the top-zones table of `main`.
function zoneMap(main, el, s, zones, colorRange) {
  const T = s.times.length;
  let max = 0, min = Infinity;
  for (const v of s.values) if (v !== null) { if (v > max) max = v; if (v < min) min = v; }
  const [lo, hi] = colorRange ? colorRange(min, max) : [0, max || 1];
  const m = chart(el, {
    tooltip: {trigger: 'item', formatter: (p) => {
      const z = zones[p.name] || {};
      return `${esc(z.zone || p.name)} (${esc(p.name)}, ${esc(z.borough || '')}): ${fmt(p.value)} ${esc(s.unit)}`;
    }},
    visualMap: {min: lo, max: hi, calculable: true, left: 10, bottom: 20,
                inRange: {color: ['#f7fbff', '#6baed6', '#08306b']}},
    series: [{type: 'map', map: 'tlc_zones', roam: true, nameProperty: 'name',
              itemStyle: {borderColor: '#555', borderWidth: 0.3, areaColor: '#eeeeee'},
              emphasis: {label: {show: false}, itemStyle: {areaColor: '#e8a400'}}, data: []}]});
  return (t) => {
    const data = s.zones.map((z, i) => ({name: String(z), value: s.values[i * T + t]}))
        .filter((d) => d.value !== null);
    m.setOption({series: [{data}]});
    const top = [...data].sort((a, b) => b.value - a.value).slice(0, 10);
    $('#top tbody', main).innerHTML = top.map((d) => `<tr data-zone="${d.name}"><td class="num">${d.name}</td>
        <td>${esc((zones[d.name] || {}).zone || '(no shape)')}</td><td>${esc((zones[d.name] || {}).borough || '')}</td>
        <td class="num">${fmt(d.value)}</td></tr>`).join('');
    main.dataset.time = s.times[t];
  };
}

async function mapPage(name, at) {
  const [list, zones] = await Promise.all([api('series'), loadZones()]);
  if (!list.series.length && (list.surge_models || []).length && name === undefined) {
    return surgePage(list.surge_models[0]);
  }
  if (!list.series.length) {
    page(`<h1>City map</h1><p>No zone series in the console's data folder: write one with
      <code>bimride console series --name pickups --trips FILE… --out DIR</code> and start
      <code>bimride serve --ui-data DIR</code>.</p>`);
    return;
  }
  const meta = list.series.find((s) => s.name === name) || list.series[0];
  const s = await api('series/' + meta.name);
  const T = s.times.length;
  // First view: the hour given in the address, else the series' busiest hour.
  let busiest = 0, best = -1;
  for (let k = 0; k < T; k++) {
    let sum = 0;
    for (let i = 0; i < s.zones.length; i++) sum += s.values[i * T + k] || 0;
    if (sum > best) { best = sum; busiest = k; }
  }
  let t = Math.max(0, Math.min(T - 1, at !== undefined ? Number(at) || 0 : busiest));
  const main = page(`<h1>City map: ${esc(s.title)}</h1>
    <div class="row"><label for="series">Series</label><select id="series">${seriesOptions(list, 'map/' + s.name)}</select>
      ${T > 1 ? `<label for="time">Hour</label><input id="time" type="range" min="0" max="${T - 1}"
        value="${t}" step="1" style="width: 420px">` : ''}
      <output id="time-text" for="time"></output></div>
    <div class="map" id="map" role="img" aria-label="${esc(s.title)} per taxi zone"></div>
    <h2>Top zones at this time</h2>
    <table id="top"><thead><tr><th scope="col" class="num">Zone</th><th scope="col">Name</th>
      <th scope="col">Borough</th><th scope="col" class="num">${esc(s.unit || 'value')}</th></tr></thead>
      <tbody></tbody></table>`);
  const draw = zoneMap(main, $('#map', main), s, zones);
  const show = () => {
    $('#time-text', main).textContent = s.times[t] || 'all times';
    draw(t);
  };
  show();
  $('#series', main).addEventListener('change', (e) => { location.hash = '#/' + e.target.value; });
  const slider = $('#time', main);
  if (slider) slider.addEventListener('input', () => { t = Number(slider.value); show(); });
}

// "YYYY-MM-DD HH:MM" of a Date in the browser's local time (the server's times carry no zone).
const civil = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-` +
    `${String(d.getDate()).padStart(2, '0')} ${String(d.getHours()).padStart(2, '0')}:` +
    `${String(d.getMinutes()).padStart(2, '0')}`;

// Each zone's surge multiplier at a time, asked of the served pricing model (the console's
// surge endpoint runs the same predict call as POST /v1/models/M:predict, one row per zone).
async function surgePage(model, at) {
  if (STATIC) throw new Error('the live surge map needs a running server (bimride serve)');
  const when = at ? at.replace('T', ' ') : civil(new Date());
  const [list, zones, s] = await Promise.all([api('series'), loadZones(),
      api(`surge?model=${encodeURIComponent(model)}&time=${encodeURIComponent(when)}`)]);
  const priced = s.values.filter((v) => v !== null);
  const above = priced.filter((v) => v > 1 + 1e-9).length;
  const main = page(`<h1>Surge map: ${esc(s.model)} version ${s.version}</h1>
    <div class="row"><label for="series">Series</label><select id="series">${seriesOptions(list, 'surge/' + model)}</select>
      <label for="at">Time</label><input id="at" type="datetime-local" value="${esc(s.times[0].replace(' ', 'T'))}">
      <button id="ask">Ask the server</button></div>
    <p class="muted">Each zone's current multiplier, asked of the served model for the chosen time
      (one preview per zone: what a rider's quote would get; looking fixes no interval's
      multiplier).</p>
    <div class="cards">
      <div class="card"><div class="muted">At</div><div class="v" id="surge-time">${esc(s.times[0])}</div></div>
      <div class="card"><div class="muted">Zones priced</div><div class="v" id="surge-zones">${priced.length}</div></div>
      <div class="card"><div class="muted">Surging (&gt; 1×)</div><div class="v" id="surge-count">${above}</div></div>
      <div class="card"><div class="muted">Highest</div><div class="v" id="surge-max">${fmt(Math.max(...priced))}×</div></div>
    </div>
    <div class="map" id="map" role="img" aria-label="surge multiplier per taxi zone"></div>
    <h2>Highest multipliers</h2>
    <table id="top"><thead><tr><th scope="col" class="num">Zone</th><th scope="col">Name</th>
      <th scope="col">Borough</th><th scope="col" class="num">multiplier</th></tr></thead><tbody></tbody></table>`);
  zoneMap(main, $('#map', main), s, zones, (lo, hi) => [1, Math.max(hi, 1.5)])(0);
  main.dataset.model = s.model;
  $('#series', main).addEventListener('change', (e) => { location.hash = '#/' + e.target.value; });
  const ask = () => { location.hash = `#/surge/${encodeURIComponent(model)}/${$('#at', main).value}`; };
  $('#ask', main).addEventListener('click', ask);
  $('#at', main).addEventListener('keydown', (e) => { if (e.key === 'Enter') ask(); });
}

window.addEventListener('hashchange', route);
window.addEventListener('resize', () => charts.forEach((c) => c.resize()));
document.addEventListener('DOMContentLoaded', () => {
  $('#mode').textContent = STATIC ? 'static export' : 'live';
  route();
});
