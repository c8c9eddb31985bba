// The preview page: one self-contained HTML document (inline CSS and script, no downloads)
// fed by the /events SSE stream: frames with detections and track ids, each source's zones
// and lines drawn over its pictures, and the recent track events with their snapshots
// (/recent-events at load, then as they happen; pictures from /event-snapshot). Its Content-Security-Policy allows exactly these two inline
// blocks by hash, so nothing injected into the page could run. Never holds a token: the
// script reads it from its own address, where the user put it.

import crypto from 'node:crypto';

const STYLE = `
:root{--bg:#0d1016;--panel:#151922;--line:#252b38;--text:#e7eaf1;--muted:#8791a5;--accent:#4f8cff;--ok:#33c98a;--warn:#f1a33b;--bad:#ef4c4c}
*{box-sizing:border-box}html,body{margin:0;height:100%}
body{background:var(--bg);color:var(--text);font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;display:flex;flex-direction:column}
header{display:flex;align-items:center;gap:14px;padding:10px 18px;border-bottom:1px solid var(--line);background:var(--panel)}
.brand{font-weight:700;font-size:17px;letter-spacing:.3px}.brand small{color:var(--muted);font-weight:500;margin-left:6px}
.chips{display:flex;gap:8px;margin-left:auto;flex-wrap:wrap}
.chip{border:1px solid var(--line);border-radius:999px;padding:3px 10px;color:var(--muted);font-size:12.5px;white-space:nowrap}
.chip b{color:var(--text);font-weight:600}
.dot{display:inline-block;width:8px;height:8px;border-radius:50%;background:var(--muted);margin-right:6px;vertical-align:1px}
.ok .dot{background:var(--ok)}.warn .dot{background:var(--warn)}.bad .dot{background:var(--bad)}
main{flex:1;display:grid;grid-template-columns:1fr 300px;gap:16px;padding:16px;min-height:0}
#tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px;align-content:start}
.tile,.card{background:var(--panel);border:1px solid var(--line);border-radius:10px;overflow:hidden}
.tile h2{margin:0;padding:9px 12px;font-size:13.5px;display:flex;gap:10px;align-items:center;border-bottom:1px solid var(--line)}
.tile h2 .meta{margin-left:auto;color:var(--muted);font-weight:400;font-variant-numeric:tabular-nums}
.stage{position:relative;background:#000;aspect-ratio:4/3}
.stage canvas{position:absolute;inset:0;width:100%;height:100%;object-fit:contain}
.overlay{position:absolute}
.box{position:absolute;border:2px solid var(--c);border-radius:3px;box-shadow:0 0 0 1px rgba(0,0,0,.35)}
.box span{position:absolute;left:-2px;bottom:100%;background:var(--c);color:#0b0d12;font-size:12px;font-weight:600;padding:1px 6px;border-radius:3px 3px 3px 0;white-space:nowrap}
.box.low span{top:0;bottom:auto;border-radius:0 0 3px 0}
.box.trk{border-style:dashed;border-width:2px;box-shadow:none}
.box.trk span{top:100%;bottom:auto;border-radius:0 3px 3px 3px;background:#0b0d12;color:var(--c);border:1px solid var(--c)}
.layout{position:absolute;inset:0;width:100%;height:100%;overflow:visible;pointer-events:none}
.layout polygon{fill:rgba(79,140,255,.12);stroke:#4f8cff;stroke-width:2}
.layout polyline{fill:none;stroke:#f1a33b;stroke-width:3;stroke-dasharray:8 4}
.tag{position:absolute;transform:translate(-50%,-50%);font-size:11.5px;font-weight:600;padding:0 5px;border-radius:3px;background:rgba(11,13,18,.75);pointer-events:none;white-space:nowrap}
.tag.zone{color:#8fb4ff}.tag.line{color:#f1a33b}
.evs{list-style:none;margin:0;padding:0;display:flex;flex-direction:column;gap:8px;max-height:420px;overflow:auto}
.evs li{display:flex;gap:8px;align-items:center;font-size:12.5px}
.evs img{width:64px;height:48px;object-fit:cover;border-radius:4px;background:#000;flex:none}
.evs .noimg{width:64px;height:48px;border-radius:4px;background:var(--line);flex:none}
.evs .t{font-weight:650;text-transform:uppercase;font-size:10.5px;letter-spacing:.6px;padding:1px 5px;border-radius:3px;margin-right:4px}
.evs .t.new{background:#33c98a;color:#0b0d12}.evs .t.update{background:#4f8cff;color:#0b0d12}.evs .t.end{background:#8791a5;color:#0b0d12}
.evs small{display:block;color:var(--muted)}
.evs .none{color:var(--muted)}
.wait{position:absolute;inset:0;display:flex;align-items:center;justify-content:center;color:var(--muted)}
.dets{list-style:none;margin:0;padding:8px 10px;display:flex;flex-wrap:wrap;gap:6px;min-height:40px}
.dets li{border:1px solid var(--line);border-left:3px solid var(--c);border-radius:5px;padding:2px 8px;font-size:12.5px}
.dets li b{font-variant-numeric:tabular-nums;margin-left:6px;color:var(--muted);font-weight:500}
.dets .none{border:0;color:var(--muted)}
aside{display:flex;flex-direction:column;gap:12px;min-width:0}
.card{padding:12px 14px}.card h3{margin:0 0 8px;font-size:11.5px;text-transform:uppercase;letter-spacing:.8px;color:var(--muted);font-weight:600}
.big{font-size:26px;font-weight:650;font-variant-numeric:tabular-nums}.big small{font-size:13px;color:var(--muted);font-weight:500;margin-left:4px}
.big .p50{color:#33c98a}.big .p99{color:#f1a33b;margin-right:0}
.spark{width:100%;height:48px;display:block;margin-top:6px}
dl{display:grid;grid-template-columns:auto 1fr;gap:3px 12px;margin:0;font-size:13px}
dt{color:var(--muted)}dd{margin:0;text-align:right;font-variant-numeric:tabular-nums;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
footer{padding:6px 18px;color:var(--muted);font-size:12px;border-top:1px solid var(--line)}
@media (max-width:900px){main{grid-template-columns:1fr}#tiles{grid-template-columns:1fr}}
`;

const SCRIPT = `
'use strict';
const P = (window.__percept = { frames: 0, boxes: [], sources: {}, status: null, connected: false, layout: [], events: [], snapshots: 0 });
const TOKEN = new URLSearchParams(location.search).get('token');
const withToken = (u) => u + (TOKEN ? (u.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(TOKEN) : '');
const SVG = 'http://www.w3.org/2000/svg';
const $ = (id) => document.getElementById(id);
const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };
const PALETTE = ['#4f8cff', '#33c98a', '#f1a33b', '#e25fd0', '#36c5d8', '#ef6c4c', '#a98bff', '#c6d94a'];
const colours = new Map();
const colour = (label) => { if (!colours.has(label)) colours.set(label, PALETTE[colours.size % PALETTE.length]); return colours.get(label); };
const pct = (c) => (c * 100).toFixed(0) + '%';
const fmt = (n, d = 1) => (n == null || !isFinite(n) ? '–' : Number(n).toFixed(d));
const tiles = new Map();
const hist = { fps: [], p50: [], p99: [] };

function tile(id) {
  let t = tiles.get(id);
  if (t) return t;
  const root = el('section', 'tile');
  root.dataset.source = id;
  const h = el('h2');
  h.append(el('span', '', id));
  const meta = el('span', 'meta', 'waiting');
  h.append(meta);
  const stage = el('div', 'stage');
  const canvas = el('canvas');
  const overlay = el('div', 'overlay');
  const shapes = el('div', 'overlay');
  const wait = el('div', 'wait', 'waiting for frames…');
  stage.append(canvas, shapes, overlay, wait);
  const dets = el('ul', 'dets');
  root.append(h, stage, dets);
  $('tiles').append(root);
  t = { id, root, meta, stage, canvas, overlay, shapes, wait, dets, busy: false, frames: 0, times: [], boxes: [], tracks: [], layoutKey: '' };
  tiles.set(id, t);
  return t;
}

// Place the overlay on the drawn picture (the canvas letterboxes inside the tile).
function fit(t) {
  const W = t.stage.clientWidth, H = t.stage.clientHeight, iw = t.canvas.width, ih = t.canvas.height;
  if (!iw || !ih) return;
  const s = Math.min(W / iw, H / ih), w = iw * s, h = ih * s;
  for (const o of [t.overlay, t.shapes]) Object.assign(o.style, { left: (W - w) / 2 + 'px', top: (H - h) / 2 + 'px', width: w + 'px', height: h + 'px' });
}

// A source's zones (polygons) and lines (polylines), in normalised coordinates, with their names.
function drawLayout(t, lay) {
  const key = JSON.stringify(lay || null);
  if (key === t.layoutKey) return;
  t.layoutKey = key;
  t.shapes.replaceChildren();
  if (!lay) return;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'layout');
  svg.setAttribute('viewBox', '0 0 1 1');
  svg.setAttribute('preserveAspectRatio', 'none');
  const pts = (ps) => ps.map((p) => p[0] + ',' + p[1]).join(' ');
  const tag = (cls, name, x, y) => { const g = el('span', 'tag ' + cls, name); g.dataset[cls] = name; Object.assign(g.style, { left: x * 100 + '%', top: y * 100 + '%' }); return g; };
  const tags = [];
  for (const z of lay.zones) {
    const p = document.createElementNS(SVG, 'polygon');
    p.setAttribute('points', pts(z.points));
    p.setAttribute('vector-effect', 'non-scaling-stroke');
    p.dataset.zone = z.name;
    svg.append(p);
    const cx = z.points.reduce((a, q) => a + q[0], 0) / z.points.length, cy = z.points.reduce((a, q) => a + q[1], 0) / z.points.length;
    tags.push(tag('zone', z.name, cx, cy));
  }
  for (const l of lay.lines) {
    const p = document.createElementNS(SVG, 'polyline');
    p.setAttribute('points', pts(l.points));
    p.setAttribute('vector-effect', 'non-scaling-stroke');
    p.dataset.line = l.name;
    svg.append(p);
    const a = l.points[0], b = l.points[l.points.length - 1];
    tags.push(tag('line', l.name, (a[0] + b[0]) / 2, (a[1] + b[1]) / 2));
  }
  t.shapes.append(svg, ...tags);
}
window.addEventListener('resize', () => tiles.forEach(fit));

function b64bytes(s) {
  const bin = atob(s), out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

async function onFrame(m) {
  const t = tile(m.source);
  if (t.busy) return; // still drawing the previous picture: this one is dropped, not queued
  t.busy = true;
  try {
    const bmp = await createImageBitmap(new Blob([b64bytes(m.jpeg)], { type: 'image/jpeg' }));
    if (t.canvas.width !== bmp.width || t.canvas.height !== bmp.height) {
      t.canvas.width = bmp.width; t.canvas.height = bmp.height;
      t.stage.style.aspectRatio = bmp.width + ' / ' + bmp.height;
    }
    t.canvas.getContext('2d').drawImage(bmp, 0, 0);
    bmp.close();
    t.wait.remove();
    fit(t);
    drawBoxes(t, m.detections);
    drawTracks(t, m.tracks || []);
    const now = performance.now();
    t.times.push(now);
    while (t.times.length && now - t.times[0] > 2000) t.times.shift();
    t.meta.textContent = '#' + m.seq + ' · ' + fmt(t.times.length / 2, 0) + ' fps shown · ' + fmt(m.latencyMs, 0) + ' ms';
    t.frames++;
    P.frames++;
    P.sources[m.source] = { frames: t.frames, seq: m.seq, boxes: t.boxes, tracks: t.tracks };
    P.boxes = [...tiles.values()].flatMap((x) => x.boxes);
  } finally {
    t.busy = false;
  }
}

function drawBoxes(t, dets) {
  t.overlay.replaceChildren();
  t.dets.replaceChildren();
  t.boxes = [];
  const sorted = [...dets].sort((a, b) => b.confidence - a.confidence);
  for (const d of sorted) {
    const [x0, y0, x1, y1] = d.box, c = colour(d.label);
    const b = el('div', 'box' + (y0 < 0.05 ? ' low' : ''));
    b.dataset.label = d.label;
    b.dataset.confidence = String(d.confidence);
    b.style.setProperty('--c', c);
    Object.assign(b.style, { left: x0 * 100 + '%', top: y0 * 100 + '%', width: (x1 - x0) * 100 + '%', height: (y1 - y0) * 100 + '%' });
    b.append(el('span', '', d.label + ' ' + pct(d.confidence)));
    t.overlay.append(b);
    const li = el('li', '', d.label);
    li.style.setProperty('--c', c);
    li.dataset.label = d.label;
    li.append(el('b', '', pct(d.confidence)));
    t.dets.append(li);
    t.boxes.push({ source: t.id, label: d.label, confidence: d.confidence, box: d.box });
  }
  if (!sorted.length) t.dets.append(el('li', 'none', 'no detections'));
}

// Confirmed tracks (and stationary ones) with their ids; tentative ones are not shown.
function drawTracks(t, tracks) {
  t.tracks = [];
  for (const k of tracks) {
    if (k.state === 'tentative') continue;
    const [x0, y0, x1, y1] = k.box, c = colour(k.label);
    const b = el('div', 'box trk');
    b.dataset.track = k.id;
    b.dataset.label = k.label;
    b.style.setProperty('--c', c);
    Object.assign(b.style, { left: x0 * 100 + '%', top: y0 * 100 + '%', width: (x1 - x0) * 100 + '%', height: (y1 - y0) * 100 + '%' });
    b.append(el('span', '', k.id + (k.state === 'stationary' ? ' · still' : '')));
    t.overlay.append(b);
    t.tracks.push({ id: k.id, label: k.label, state: k.state, box: k.box });
  }
}

const clock = (iso) => new Date(iso).toLocaleTimeString([], { hour12: false });

// Recent track events, newest first; one row per event, with the track's best snapshot.
function addEvent(e) {
  if (P.events.some((x) => x.id === e.id && x.type === e.type && x.at === e.at)) return;
  P.events.unshift({ type: e.type, id: e.id, label: e.label, source: e.source, at: e.at, zones: e.zones, snapshot: !!e.snapshot });
  if (P.events.length > 30) P.events.length = 30;
  const li = el('li');
  li.dataset.event = e.id;
  li.dataset.type = e.type;
  if (e.snapshot) {
    const img = el('img');
    img.alt = e.label + ' ' + e.id;
    img.addEventListener('load', () => { P.snapshots++; li.dataset.snapshot = 'loaded'; });
    img.src = withToken('/event-snapshot?id=' + encodeURIComponent(e.id) + '&v=' + encodeURIComponent(e.snapshot.at));
    li.append(img);
  } else li.append(el('span', 'noimg'));
  const txt = el('div');
  txt.append(el('span', 't ' + e.type, e.type), el('b', '', e.label + ' ' + e.id));
  const dur = e.type === 'end' ? ' · ' + fmt(e.durationMs / 1000) + ' s' : '';
  txt.append(el('small', '', e.source + ' · ' + clock(e.at) + dur + (e.zones.length ? ' · in ' + e.zones.join(', ') : '') + (e.stationary ? ' · still' : '')));
  li.append(txt);
  const list = $('events');
  list.querySelector('.none')?.remove();
  list.prepend(li);
  while (list.children.length > 30) list.lastChild.remove();
}

function loadEvents() {
  fetch(withToken('/recent-events?limit=30')).then((r) => (r.ok ? r.json() : { events: [] })).then((j) => { for (const e of j.events) addEvent(e); }).catch((err) => console.warn('events', err));
}

function spark(id, series, lines) {
  const c = $(id), r = window.devicePixelRatio || 1, W = c.clientWidth, H = c.clientHeight;
  if (c.width !== W * r) { c.width = W * r; c.height = H * r; }
  const g = c.getContext('2d');
  g.setTransform(r, 0, 0, r, 0, 0);
  g.clearRect(0, 0, W, H);
  const max = Math.max(1e-9, ...series.flat()) * 1.15;
  series.forEach((s, k) => {
    if (s.length < 2) return;
    g.beginPath();
    // Newest point at the right edge; a minute of history fills the width (a short one a quarter).
    const span = Math.min(59, Math.max(15, s.length - 1));
    const x = (i) => W - ((s.length - 1 - i) / span) * W;
    s.forEach((v, i) => { const y = H - 2 - (v / max) * (H - 4); i ? g.lineTo(x(i), y) : g.moveTo(x(i), y); });
    g.strokeStyle = lines[k]; g.lineWidth = 1.6; g.stroke();
    if (k === 0) { g.lineTo(W, H); g.lineTo(x(0), H); g.fillStyle = lines[k] + '22'; g.fill(); }
  });
}

function chip(id, text, state) {
  const c = $(id);
  c.className = 'chip ' + (state || '');
  c.replaceChildren(el('span', 'dot'), text);
}

function onStatus(s) {
  P.status = s;
  const p = s.pipeline;
  for (const src of p.sources) tile(src.id).root.dataset.kind = src.kind;
  P.layout = s.layout || [];
  for (const lay of P.layout) drawLayout(tile(lay.id), lay.zones.length || lay.lines.length ? lay : null);
  const ev = s.events || { zones: [], lines: [] };
  const counts = [...ev.zones.map((z) => [z.source + ' · ' + z.zone, 'in ' + z.present + ' · ↘' + z.entered + ' ↗' + z.exited]), ...ev.lines.map((l) => [l.source + ' · ' + l.line, '→' + l.forward + ' ←' + l.backward])];
  $('counts').replaceChildren(...(counts.length ? counts : [['zones, lines', 'none configured']]).flatMap(([k, v]) => [el('dt', '', k), el('dd', '', v)]));
  const m = p.models[0];
  $('model').replaceChildren('model ', el('b', '', m ? m.name + ' ' + (/^v/i.test(m.version) ? '' : 'v') + m.version : 'loading…'));
  $('provider').replaceChildren('provider ', el('b', '', m ? (m.provider || 'starting') + (m.fallbacks && m.fallbacks.length ? ' (fell back from ' + m.fallbacks.join(', ') + ')' : '') : '–'));
  const h = s.hub;
  if (!h) chip('hub', 'hub: not configured', '');
  else chip('hub', 'hub: ' + h.state + ' · outbox ' + h.outbox.depth, h.state === 'connected' ? 'ok' : h.state === 'connecting' ? 'warn' : 'bad');
  for (const [k, v] of [['fps', p.fps], ['p50', p.latencyMs.p50], ['p99', p.latencyMs.p99]]) { hist[k].push(v); if (hist[k].length > 60) hist[k].shift(); }
  $('fps').replaceChildren(fmt(p.fps), el('small', '', 'fps'));
  $('lat').replaceChildren(fmt(p.latencyMs.p50, 0), el('small', 'p50', 'p50 ms'), ' ' + fmt(p.latencyMs.p99, 0), el('small', 'p99', 'p99 ms'));
  spark('fpsChart', [hist.fps], ['#4f8cff']);
  spark('latChart', [hist.p99, hist.p50], ['#f1a33b', '#33c98a']);
  const sum = (k) => p.sources.reduce((a, x) => a + x[k], 0);
  const rows = [['captured', sum('captured')], ['inferred', p.frames.inferred], ['skipped (no motion)', p.frames.skipped ?? 0], ['dropped (latest wins)', sum('dropped')], ['corrupt', sum('corrupt')], ['failed', p.frames.failed]];
  $('frames').replaceChildren(...rows.flatMap(([k, v]) => [el('dt', '', k), el('dd', '', String(v))]));
  const st = p.stagesMs;
  $('stages').replaceChildren(...['queue', 'preprocess', 'inference', 'decode'].flatMap((k) => [el('dt', '', k), el('dd', '', fmt(st[k]) + ' ms')]));
  const hubRows = !h ? [['link', 'not configured']] : [['link', h.state], ['device', h.deviceId + (h.moduleId ? '/' + h.moduleId : '')], ['outbox', h.outbox.depth + ' msgs'], ['oldest', h.outbox.oldestAgeMs == null ? '–' : fmt(h.outbox.oldestAgeMs / 1000) + ' s'], ['sent / acked', h.sent + ' / ' + h.acknowledged], ['retried', String(h.retried)], ['last error', h.lastError || '–']];
  $('hubinfo').replaceChildren(...hubRows.flatMap(([k, v]) => [el('dt', '', k), el('dd', '', v)]));
  $('foot').textContent = 'percept ' + s.version + ' · up ' + fmt(s.uptimeS, 0) + ' s' + (s.config.error ? ' · config error: ' + s.config.error : '');
}

function connect() {
  const es = new EventSource(withToken('/events'));
  es.addEventListener('open', () => { P.connected = true; chip('link', 'live', 'ok'); loadEvents(); });
  es.addEventListener('error', () => { P.connected = false; chip('link', 'reconnecting', 'warn'); });
  es.addEventListener('status', (e) => onStatus(JSON.parse(e.data)));
  es.addEventListener('frame', (e) => { onFrame(JSON.parse(e.data)).catch((err) => console.warn('frame', err)); });
  es.addEventListener('track', (e) => addEvent(JSON.parse(e.data)));
}
connect();
`;

const sha = (s: string) => `'sha256-${crypto.createHash('sha256').update(s, 'utf8').digest('base64')}'`;

/** The page never changes at run time, so it and its CSP are built once. */
export const PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha(SCRIPT)}`,
  `style-src ${sha(STYLE)}`,
  "connect-src 'self'",
  "img-src data: 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>percept · live preview</title>
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect x='1' y='1' width='14' height='14' rx='3' fill='none' stroke='%234f8cff' stroke-width='2'/%3E%3C/svg%3E">
<style>${STYLE}</style>
</head>
<body>
<header>
  <div class="brand">percept<small>live preview</small></div>
  <div class="chips">
    <span class="chip" id="model">model –</span>
    <span class="chip" id="provider">provider –</span>
    <span class="chip" id="hub"><span class="dot"></span>hub –</span>
    <span class="chip warn" id="link"><span class="dot"></span>connecting</span>
  </div>
</header>
<main>
  <div id="tiles"></div>
  <aside>
    <div class="card"><h3>Throughput</h3><div class="big" id="fps">–</div><canvas class="spark" id="fpsChart"></canvas></div>
    <div class="card"><h3>Latency</h3><div class="big" id="lat">–</div><canvas class="spark" id="latChart"></canvas></div>
    <div class="card"><h3>Frames</h3><dl id="frames"></dl></div>
    <div class="card"><h3>Stages (mean)</h3><dl id="stages"></dl></div>
    <div class="card"><h3>Zones and lines</h3><dl id="counts"></dl></div>
    <div class="card"><h3>Recent events</h3><ul class="evs" id="events"><li class="none">no events yet</li></ul></div>
    <div class="card"><h3>IoT Hub</h3><dl id="hubinfo"></dl></div>
  </aside>
</main>
<footer id="foot">percept</footer>
<script>${SCRIPT}</script>
</body>
</html>
`;
