// The omadm operator dashboard. Everything it shows comes from the REST API under /api/v1 with
// the admin token the operator signs in with; there is no other backend. The page is built
// with createElement/textContent only: every value from the API is device-controlled text.
'use strict';

const API = '/api/v1';
const TOKEN_KEY = 'omadm.token';
const PICKED_KEY = 'omadm.picked';
const PAGE = 50;
const FEED_MAX = 100;
const OPS = ['Get', 'Replace', 'Add', 'Delete', 'Exec', 'Atomic'];
const FORMATS = ['', 'chr', 'int', 'bool', 'float', 'b64', 'xml', 'node', 'null'];
const DM_VERSIONS = ['DM/1.1', 'DM/1.2', 'DM/1.3'];
const ALERT_NAMES = {
  1100: 'display', 1101: 'confirm', 1102: 'text input', 1103: 'single choice',
  1104: 'multiple choice', 1200: 'server-initiated', 1201: 'client-initiated',
  1224: 'client event', 1226: 'generic alert', 1230: 'sessionless report',
};

// ---------- DOM helpers ----------

// h('tag.class#id', {attr: v, onclick: fn, dataset...}, children...). Strings become text nodes,
// never markup.
function h(spec, attrs, ...kids) {
  const m = /^([a-z0-9]+)?((?:[.#][\w-]+)*)$/i.exec(spec) || [];
  const el = document.createElement(m[1] || 'div');
  for (const part of (m[2] || '').match(/[.#][\w-]+/g) || []) {
    if (part[0] === '#') el.id = part.slice(1); else el.classList.add(part.slice(1));
  }
  if (attrs !== null && attrs !== undefined && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    kids.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else if (k === 'value') el.value = v;
    else if (k === 'checked' || k === 'disabled' || k === 'hidden' || k === 'selected') el[k] = true;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, kids);
  return el;
}

function append(el, kids) {
  for (const k of kids.flat(Infinity)) {
    if (k === null || k === undefined || k === false) continue;
    el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...kids) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  return append(el, kids);
}

const $ = (sel, root = document) => root.querySelector(sel);

// Replaces `old` with `fresh`, keeping keyboard focus and opened <details> where they were, so
// that a refresh triggered by a live event does not throw the operator's focus to <body>.
function swap(old, fresh) {
  const active = document.activeElement;
  const fk = old.contains(active) && active.dataset ? active.dataset.fk : null;
  const open = [...old.querySelectorAll('details[open][data-fk]')].map((d) => d.dataset.fk);
  old.replaceWith(fresh);
  for (const k of open) {
    const d = fresh.querySelector(`details[data-fk="${CSS.escape(k)}"]`);
    if (d) d.open = true;
  }
  if (fk) {
    const el = fresh.querySelector(`[data-fk="${CSS.escape(fk)}"]`);
    if (el) el.focus();
  }
  return fresh;
}

function table(id, caption, heads, rows, empty) {
  return h('div.table-wrap', { tabindex: 0, role: 'region', 'aria-label': caption },
    h('table', { id },
      h('caption', caption),
      h('thead', h('tr', heads.map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', rows.length ? rows : h('tr', h('td.empty', { colspan: heads.length }, empty || 'None.')))));
}

// A message in a status region; errors get role=alert so they are announced at once.
function say(region, text, isError, ...extra) {
  if (!region) return;
  region.replaceChildren(h(isError ? 'p.error' : 'p.ok', { role: isError ? 'alert' : null }, text, extra));
}

// ---------- time ----------

function iso(ts) { return new Date(ts * 1000).toISOString(); }
function absTime(ts) { return new Date(ts * 1000).toLocaleString(); }
function ago(ts) {
  const d = Math.max(0, Math.round(Date.now() / 1000 - ts));
  if (d < 10) return 'just now';
  if (d < 60) return `${d} s ago`;
  if (d < 3600) return `${Math.floor(d / 60)} min ago`;
  if (d < 86400) return `${Math.floor(d / 3600)} h ago`;
  return `${Math.floor(d / 86400)} d ago`;
}
// A <time>: relative text (kept fresh by a timer) or the absolute local time; the other one in title.
function when(ts, relative = true) {
  if (ts === null || ts === undefined) return h('span.muted', 'never');
  return h('time', {
    datetime: iso(ts), title: relative ? absTime(ts) : ago(ts),
    'data-ts': relative ? ts : null, text: relative ? ago(ts) : absTime(ts),
  });
}
setInterval(() => {
  for (const t of document.querySelectorAll('time[data-ts]')) t.textContent = ago(+t.dataset.ts);
}, 20000);

// ---------- API ----------

let token = sessionStorage.getItem(TOKEN_KEY) || '';

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let r;
  try {
    r = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, `The server cannot be reached (${e.message}).`);
  }
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { /* not JSON: keep the text */ }
  if (!r.ok) {
    const msg = (data && data.error) || text.trim() || `${r.status} ${r.statusText}`;
    if (r.status === 401) signOut(msg);
    throw new ApiError(r.status, `${msg} (HTTP ${r.status})`);
  }
  return data;
}

const enc = encodeURIComponent;
const devPath = (id) => `/devices/${enc(id)}`;
const devHash = (id) => `#/devices/${enc(id)}`;

// ---------- live events (server-sent events over fetch, since EventSource sends no header) ----------

const listeners = new Set();
const feed = []; // newest first, survives navigation
let liveAbort = null;

function emit(name, data) {
  for (const fn of [...listeners]) {
    try { fn(name, data); } catch (e) { console.error(e); }
  }
}

function liveStatus(text) {
  const el = $('#live-status');
  el.hidden = !text;
  el.textContent = text || '';
}

async function liveLoop() {
  const ctl = new AbortController();
  liveAbort = ctl;
  let backoff = 1;
  while (!ctl.signal.aborted) {
    let good = false;
    let why = 'closed';
    try {
      const r = await fetch(`${API}/events`, {
        headers: { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' },
        signal: ctl.signal, cache: 'no-store',
      });
      if (r.status === 401) { signOut('The server refused the token.'); return; }
      if (!r.ok || !r.body) throw new Error(`HTTP ${r.status}`);
      liveStatus('Live: connected');
      emit('open', {});
      good = true;
      backoff = 1;
      const reader = r.body.getReader();
      const dec = new TextDecoder();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
        let cut;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          dispatchBlock(buf.slice(0, cut));
          buf = buf.slice(cut + 2);
        }
      }
    } catch (e) {
      if (ctl.signal.aborted) return;
      why = e.message;
    }
    if (ctl.signal.aborted) return;
    const wait = Math.min(30, backoff) * (0.75 + Math.random() / 2);
    backoff = Math.min(30, backoff * 2);
    liveStatus(`Live: ${good ? 'disconnected' : `unavailable (${why})`}; retrying in ${Math.round(wait)} s`);
    await new Promise((res) => setTimeout(res, wait * 1000));
  }
}

function dispatchBlock(block) {
  let name = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (!line || line[0] === ':') continue;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? '' : line.slice(i + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (field === 'event') name = value;
    else if (field === 'data') data.push(value);
  }
  // The server dropped events for us: what is shown may be stale, so views reload.
  if (name === 'lagged') { emit('open', {}); return; }
  if (!data.length) return;
  let obj;
  try { obj = JSON.parse(data.join('\n')); } catch { return; }
  if (!obj || typeof obj !== 'object') return;
  const item = { name, data: obj, at: obj.at || Math.floor(Date.now() / 1000) };
  feed.unshift(item);
  if (feed.length > FEED_MAX) feed.length = FEED_MAX;
  const ol = $('#live');
  if (ol) {
    ol.querySelector('.empty')?.remove();
    ol.prepend(feedItem(item));
    while (ol.children.length > FEED_MAX) ol.lastElementChild.remove();
  }
  emit(name, obj);
}

const short = (sid) => (sid && sid.length > 6 ? `${sid.slice(0, 6)}…` : sid || '?');

function describe({ name, data: d }) {
  switch (name) {
    case 'session': {
      let t = `session ${short(d.session_id)} message ${d.message}`;
      if (d.ended) t += ` — ${d.outcome || 'ended'}`;
      return t;
    }
    case 'alert': return `alert ${d.code}${ALERT_NAMES[d.code] ? ` (${ALERT_NAMES[d.code]})` : ''} in session ${short(d.session_id)}`;
    case 'report': return 'sessionless report';
    case 'command': return `command ${d.id} ${d.state}${d.status ? ` (status ${d.status})` : ''}`;
    case 'device': return `device ${d.change}`;
    default: return name;
  }
}

function feedItem(item) {
  const id = item.data.device_id;
  const clock = h('time', { datetime: iso(item.at), title: absTime(item.at) }, new Date(item.at * 1000).toLocaleTimeString());
  return h(`li.ev-${item.name}`, clock, ' ',
    id ? h('a', { href: devHash(id) }, id) : '', `: ${describe(item)}`);
}

function liveFeed(compact) {
  return h(`section.live${compact ? '.compact' : ''}`, { 'aria-labelledby': 'live-h' },
    h('h2#live-h', 'Live activity'),
    h('ol#live', { 'aria-live': 'polite', 'aria-relevant': 'additions' },
      feed.length ? feed.map(feedItem) : h('li.empty.muted', 'Nothing yet; sessions and alerts appear here as they happen.')));
}

// ---------- views: each gets a scope that ends when the route changes ----------

class Scope {
  constructor() { this.alive = true; this.ends = []; }
  on(fn) { listeners.add(fn); this.ends.push(() => listeners.delete(fn)); }
  every(fn, ms) { const t = setInterval(() => this.alive && fn(), ms); this.ends.push(() => clearInterval(t)); }
  // Runs fn at most once per ms, and always once after the last call.
  throttle(fn, ms) {
    let last = 0;
    let timer = null;
    this.ends.push(() => clearTimeout(timer));
    return () => {
      if (timer) return;
      timer = setTimeout(() => { timer = null; last = Date.now(); if (this.alive) fn(); },
        Math.max(0, last + ms - Date.now()));
    };
  }
  end() { this.alive = false; this.ends.forEach((f) => f()); }
}

let scope = null;
let routedByUser = false; // the first render after sign-in or load keeps focus where it is

function route() {
  if (scope) scope.end();
  scope = new Scope();
  const view = $('#view');
  view.replaceChildren();
  if (!token) return;
  const hash = location.hash || '#/';
  const parts = hash.slice(1).split('/').filter(Boolean);
  for (const a of document.querySelectorAll('#nav a')) {
    const here = a.getAttribute('href') === `#/${parts[0] || ''}`;
    if (here) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  let decoded = null;
  if (parts[0] === 'devices' && parts.length > 1) {
    try { decoded = decodeURIComponent(parts.slice(1).join('/')); } catch { decoded = parts.slice(1).join('/'); }
  }
  if (!parts.length) overview(view, scope);
  else if (parts[0] === 'devices' && decoded !== null) devicePage(view, scope, decoded);
  else if (parts[0] === 'devices') devicesPage(view, scope);
  else if (parts[0] === 'queue') queuePage(view, scope);
  else view.append(h('h1', { tabindex: -1 }, 'Not found'), h('p', h('a', { href: '#/' }, 'Back to the overview')));
  const h1 = $('h1', view);
  document.title = `${h1 ? h1.textContent : 'omadm'} — omadm`;
  if (h1 && routedByUser) { h1.setAttribute('tabindex', '-1'); h1.focus(); }
  routedByUser = true;
}

// ---------- overview ----------

function overview(view, sc) {
  const charts = h('div.charts', h('p.muted', 'Loading the last hour…'));
  const figures = h('dl.figures');
  view.append(h('h1', 'Overview'),
    h('div.cols',
      h('div',
        h('section', { 'aria-labelledby': 'charts-h' }, h('h2#charts-h', 'The last hour'), figures, charts)),
      liveFeed(false)));
  let chartsEl = charts;
  const load = async () => {
    let stats;
    try {
      stats = await api('GET', '/stats?minutes=60');
    } catch (e) {
      if (!sc.alive) return;
      chartsEl = swap(chartsEl, h('div.charts',
        barChart('chart-sessions', 'Sessions per minute', [], []),
        barChart('chart-outcomes', 'Command outcomes per minute', [], []),
        h('p.error', { role: 'alert' }, `Statistics unavailable: ${e.message}`)));
      return;
    }
    if (!sc.alive) return;
    const m = stats.minutes || [];
    const sum = (k) => m.reduce((a, x) => a + (x[k] || 0), 0);
    figures.replaceChildren(
      h('div', h('dt', 'Sessions'), h('dd', sum('sessions'))),
      h('div', h('dt', 'Commands done'), h('dd', sum('done'))),
      h('div', h('dt', 'Commands failed'), h('dd', sum('failed'))));
    chartsEl = swap(chartsEl, h('div.charts',
      barChart('chart-sessions', 'Sessions started per minute', m, [['sessions', 'sessions', 'bar-sessions']]),
      barChart('chart-outcomes', 'Command outcomes per minute', m,
        [['done', 'done', 'bar-done'], ['failed', 'failed', 'bar-failed']])));
  };
  load();
  sc.every(load, 30000);
  const soon = sc.throttle(load, 5000);
  sc.on((name) => { if (name === 'session' || name === 'command' || name === 'open') soon(); });
}

// A stacked bar chart, one bar per minute. Its <title> states the numbers, so that a screen
// reader hears what a sighted operator sees.
function barChart(id, label, minutes, series) {
  const W = 600, H = 170, top = 10, bottom = 22, left = 34;
  const n = Math.max(minutes.length, 1);
  const bw = (W - left) / n;
  const max = Math.max(1, ...minutes.map((x) => series.reduce((a, [k]) => a + (x[k] || 0), 0)));
  const y = (v) => top + (H - top - bottom) * (1 - v / max);
  const totals = series.map(([k, name]) => `${minutes.reduce((a, x) => a + (x[k] || 0), 0)} ${name}`);
  const recent = minutes.slice(-5).map((x) => series.map(([k]) => x[k] || 0).join('/')).join(', ');
  const summary = minutes.length
    ? `${label} over the last ${minutes.length} minutes: ${totals.join(', ')} in total; most in one minute: ${max}` +
      `; the last 5 minutes (oldest first${series.length > 1 ? `, ${series.map((x) => x[1]).join('/')}` : ''}): ${recent}.`
    : `${label}: no data.`;
  const svg = s('svg', { id, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': summary, class: 'chart' },
    s('title', {}, summary),
    s('line', { x1: left, x2: W, y1: y(0), y2: y(0), class: 'axis' }),
    s('text', { x: left - 4, y: y(max) + 4, 'text-anchor': 'end', class: 'tick' }, max),
    s('text', { x: left - 4, y: y(0) + 4, 'text-anchor': 'end', class: 'tick' }, 0),
    s('text', { x: left, y: H - 4, class: 'tick' }, minutes.length ? `−${minutes.length} min` : ''),
    s('text', { x: W, y: H - 4, 'text-anchor': 'end', class: 'tick' }, 'now'));
  minutes.forEach((x, i) => {
    let base = 0;
    const t = new Date(x.t * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    const g = s('g', {}, s('title', {}, `${t}: ${series.map(([k, name]) => `${x[k] || 0} ${name}`).join(', ')}`),
      // An invisible full-height target, so the per-minute title shows on hover over empty minutes too.
      s('rect', { x: left + i * bw, y: top, width: bw, height: H - top - bottom, class: 'hit' }));
    for (const [k, , cls] of series) {
      const v = x[k] || 0;
      if (v) g.append(s('rect', { x: left + i * bw + 0.5, y: y(base + v), width: Math.max(bw - 1, 1), height: y(base) - y(base + v), class: cls }));
      base += v;
    }
    svg.append(g);
  });
  const legend = series.length > 1
    ? h('ul.legend', series.map(([, name, cls]) => h('li', h(`span.swatch.${cls}`, { 'aria-hidden': 'true' }), name)))
    : null;
  return h('figure.chart-box', svg, h('figcaption', label), legend);
}

// ---------- devices ----------

const filters = { q: '', man: '', mod: '', dmv: '' };
let picked = new Set(JSON.parse(sessionStorage.getItem(PICKED_KEY) || '[]'));
function savePicked() { sessionStorage.setItem(PICKED_KEY, JSON.stringify([...picked])); }

function deviceState(d) {
  const parts = [];
  if (d.in_session) parts.push('in session');
  if (d.queued) parts.push(`${d.queued} queued`);
  if (d.sent) parts.push(`${d.sent} sent`);
  return parts.length ? parts.join(' · ') : 'idle';
}

function devicesPage(view, sc) {
  let devices = [];
  let full = false;
  const msg = h('div#devices-msg', { role: 'status', 'aria-live': 'polite' });
  const pickInfo = h('p.pickinfo', { 'aria-live': 'polite' });
  let tableEl = h('div');
  const more = h('button#load-more', { type: 'button', hidden: true, onclick: () => load(true) }, 'Load more');

  const dmv = h('select#filter-dmv', h('option', { value: '' }, 'Any'),
    DM_VERSIONS.map((v) => h('option', { value: v }, v.replace('DM/', ''))));
  dmv.value = filters.dmv;
  const input = (id, key, label, type = 'text') => {
    const el = h(`input#${id}`, { type, value: filters[key], autocomplete: 'off' });
    el.addEventListener('input', () => { filters[key] = el.value.trim(); debounced(); });
    return h('div.field', h('label', { for: id }, label), el);
  };
  let debounceTimer = null;
  const debounced = () => { clearTimeout(debounceTimer); debounceTimer = setTimeout(() => load(false), 300); };
  sc.ends.push(() => clearTimeout(debounceTimer));
  dmv.addEventListener('change', () => { filters.dmv = dmv.value; load(false); });

  const query = (after, limit) => {
    const p = new URLSearchParams({ limit });
    if (after) p.set('after', after);
    if (filters.q) p.set('q', filters.q);
    if (filters.man) p.set('devinfo.Man', filters.man);
    if (filters.mod) p.set('devinfo.Mod', filters.mod);
    if (filters.dmv) p.set('dm_version', filters.dmv);
    return `/devices?${p}`;
  };

  const updatePickInfo = () => {
    pickInfo.replaceChildren(picked.size
      ? [`${picked.size} device${picked.size === 1 ? '' : 's'} picked. `, h('a', { href: '#/queue' }, 'Queue commands for them'), ' ',
        h('button.link', { type: 'button', onclick: () => { picked.clear(); savePicked(); render(); } }, 'Clear')]
      : 'Pick devices with the checkboxes to queue commands for several at once.');
  };

  const row = (d) => {
    const box = h('input.pick', { type: 'checkbox', checked: picked.has(d.device_id), 'aria-label': `Pick ${d.device_id}`, 'data-fk': `pick:${d.device_id}` });
    box.addEventListener('change', () => {
      if (box.checked) picked.add(d.device_id); else picked.delete(d.device_id);
      savePicked();
      updatePickInfo();
    });
    const di = d.devinfo || {};
    return h('tr', { 'data-device-id': d.device_id },
      h('td', box),
      h('th', { scope: 'row' }, h('a', { href: devHash(d.device_id), 'data-fk': `a:${d.device_id}` }, d.device_id)),
      h('td', di.Man || '—'), h('td', di.Mod || '—'),
      h('td', d.dm_version ? d.dm_version.replace('DM/', '') : '—'),
      h('td', when(d.last_seen)),
      h(`td.state${d.in_session ? '.busy' : ''}`, deviceState(d)));
  };

  const render = () => {
    tableEl = swap(tableEl, table('devices', 'Enrolled devices',
      ['Pick', 'Device', 'Manufacturer', 'Model', 'DM version', 'Last seen', 'State'],
      devices.map(row), 'No device matches.'));
    more.hidden = !full;
    updatePickInfo();
  };

  // `more`: the next page; otherwise the first pages again, as many rows as are shown now.
  const load = async (moreRows) => {
    const limit = moreRows ? PAGE : Math.min(1000, Math.max(PAGE, devices.length));
    const after = moreRows && devices.length ? devices[devices.length - 1].device_id : null;
    try {
      const got = await api('GET', query(after, limit));
      if (!sc.alive) return;
      devices = moreRows ? devices.concat(got) : got;
      full = got.length === limit;
      render();
    } catch (e) {
      if (sc.alive) say(msg, e.message, true);
    }
  };

  view.append(h('h1', 'Devices'),
    h('div.cols',
      h('div',
        h('form.filters', { role: 'search', 'aria-label': 'Find devices', onsubmit: (e) => { e.preventDefault(); load(false); } },
          input('device-search', 'q', 'Search (id or DevInfo)', 'search'),
          input('filter-man', 'man', 'Manufacturer (Man)'),
          input('filter-mod', 'mod', 'Model (Mod)'),
          h('div.field', h('label', { for: 'filter-dmv' }, 'DM version'), dmv)),
        msg, pickInfo, tableEl, more, enrollForm(() => load(false))),
      liveFeed(true)));
  render();
  load(false);
  const refresh = sc.throttle(() => load(false), 1000);
  sc.on((name) => { if (name === 'session' || name === 'device' || name === 'open') refresh(); });
  sc.every(() => load(false), 30000);
}

function enrollForm(done) {
  const msg = h('div', { role: 'status', 'aria-live': 'polite' });
  const f = (id, label, attrs = {}) => h('div.field', h('label', { for: id }, label), h(`input#${id}`, { autocomplete: 'off', ...attrs }));
  const form = h('form#enroll-form.stack', f('en-id', 'Device id (DevId)', { required: true }),
    h('div.field', h('label', { for: 'en-type' }, 'Client authentication'),
      h('select#en-type', ['digest', 'basic', 'hmac'].map((t) => h('option', { value: t }, t)))),
    f('en-cname', 'Client name', { required: true }), f('en-csecret', 'Client secret', { required: true, type: 'password' }),
    f('en-sname', 'Server name', { required: true, value: 'omadm' }), f('en-ssecret', 'Server secret', { required: true, type: 'password' }),
    f('en-push', 'Push URL (optional)', { type: 'url', placeholder: 'http://127.0.0.1:9000/push' }),
    h('button', { type: 'submit' }, 'Enroll'), msg);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = (id) => $(`#${id}`, form).value.trim();
    const body = {
      device_id: v('en-id'),
      client_auth: { type: v('en-type'), name: v('en-cname'), secret: $('#en-csecret', form).value },
      server_auth: { name: v('en-sname'), secret: $('#en-ssecret', form).value },
    };
    if (v('en-push')) body.push_url = v('en-push');
    try {
      const d = await api('POST', '/devices', body);
      say(msg, `Enrolled ${d.device_id}.`, false);
      form.reset();
      done();
    } catch (err) { say(msg, err.message, true); }
  });
  return h('details.enroll', h('summary', 'Enroll a device'), form);
}

// ---------- device page ----------

function devicePage(view, sc, id) {
  const msg = h('div#device-msg', { role: 'status', 'aria-live': 'polite' });
  const summary = h('dl.summary');
  let devinfoEl = h('section#devinfo');
  let treeBody = h('div');
  let cmdTable = h('div');
  let alertsTable = h('div');
  let reportsTable = h('div');
  let sessionsTable = h('div');
  let tree = null;
  let device = null;
  const expanded = new Set(['.']);
  let treeSeen = false;

  const notifyUi = h('select#notify-ui',
    ['not-specified', 'background', 'informative', 'user-interaction'].map((m) => h('option', { value: m }, m)));
  const notify = async () => {
    try {
      const r = await api('POST', `${devPath(id)}/notify`, { ui_mode: notifyUi.value });
      say(msg, `Notification sent (session ${r.session_id}); the device answered HTTP ${r.push_status}.`, false);
    } catch (e) { say(msg, e.message, true); }
  };

  const treeRoot = h('input#tree-root', { type: 'text', value: '.', autocomplete: 'off' });
  const fetchTree = async (e) => {
    e.preventDefault();
    const root = treeRoot.value.trim() || '.';
    try {
      const r = await api('POST', `${devPath(id)}/commands`, { op: 'Get', target: `${root}?list=StructData` });
      say(msg, `Queued command ${r.id} (Get ${root}?list=StructData); the tree is fetched at the device's next session. `, false,
        h('button', { type: 'button', onclick: notify }, 'Notify the device now'));
      loadCommands();
    } catch (err) { say(msg, err.message, true); }
  };

  const slForm = sessionlessForm(id, msg);
  const qForm = queueForm({
    submit: async (spec) => {
      const r = await api('POST', `${devPath(id)}/commands`, spec);
      say(msg, `Queued command ${r.id}`, false);
      loadCommands();
    },
    msg,
  });

  view.append(
    h('p.crumbs', h('a', { href: '#/devices' }, '← Devices')),
    h('h1.devid', id),
    summary,
    h('div.actions',
      h('div.field', h('label', { for: 'notify-ui' }, 'UI mode'), notifyUi),
      h('button#notify', { type: 'button', onclick: notify }, 'Notify (package #0)'),
      h('button.danger', { type: 'button', onclick: deleteDevice }, 'Delete device')),
    msg,
    h('div.device-grid',
      devinfoEl,
      h('section#tree', { 'aria-labelledby': 'tree-h' }, h('h2#tree-h', 'Management tree'),
        h('form.inline', { onsubmit: fetchTree },
          h('div.field', h('label', { for: 'tree-root' }, 'Subtree root'), treeRoot),
          h('button#tree-refresh', { type: 'submit' }, 'Fetch from device')),
        treeBody)),
    h('section#queue', { 'aria-labelledby': 'queue-h' }, h('h2#queue-h', 'Queue a command'), qForm),
    h('section#commands', { 'aria-labelledby': 'commands-h' }, h('h2#commands-h', 'Commands'), cmdTable),
    h('section#sessionless', { 'aria-labelledby': 'sl-h' }, h('h2#sl-h', 'Sessionless command'),
      h('p.muted', 'Pushed at once to the device\'s push URL (OMA DM Sessionless 1.3); no Get.'), slForm),
    h('section#alerts', { 'aria-labelledby': 'alerts-h' }, h('h2#alerts-h', 'Alerts'), alertsTable),
    h('section#reports', { 'aria-labelledby': 'reports-h' }, h('h2#reports-h', 'Sessionless reports'), reportsTable),
    h('section#sessions', { 'aria-labelledby': 'sessions-h' }, h('h2#sessions-h', 'Sessions'), sessionsTable));

  async function deleteDevice() {
    if (!window.confirm(`Delete device ${id} and everything the server keeps about it?`)) return;
    try {
      await api('DELETE', devPath(id));
      location.hash = '#/devices';
    } catch (e) { say(msg, e.message, true); }
  }

  const guard = async (what, fn) => {
    try { await fn(); } catch (e) {
      if (sc.alive && e.status !== 401) say(msg, `${what}: ${e.message}`, true);
    }
  };

  const loadDevice = () => guard('Device', async () => {
    device = await api('GET', devPath(id));
    if (!sc.alive) return;
    const row = (k, v) => h('div', h('dt', k), h('dd', v));
    summary.replaceChildren(
      row('State', deviceState(device)),
      row('Last seen', when(device.last_seen)),
      row('DM version', device.dm_version || '—'),
      row('Authentication', `${device.client_auth.type} (${device.client_auth.name})`),
      row('Push URL', device.push_url || 'none'),
      row('Enrolled', when(device.created_at, false)));
    renderDevinfo();
  });

  // DevInfo as the device last sent it; DevDetail from the server's view of the tree.
  const renderDevinfo = () => {
    const di = (device && device.devinfo) || {};
    const keys = Object.keys(di);
    const detail = [];
    const dd = tree && (tree.children || []).find((n) => n.name === 'DevDetail');
    const walk = (n, path) => {
      if (n.data !== null && n.data !== undefined && n.format !== 'node') detail.push([path, n.data]);
      for (const c of n.children || []) walk(c, path ? `${path}/${c.name}` : c.name);
    };
    if (dd) walk(dd, '');
    devinfoEl = swap(devinfoEl, h('section#devinfo', { 'aria-labelledby': 'devinfo-h' },
      h('h2#devinfo-h', 'DevInfo'),
      keys.length ? h('dl.kv', keys.map((k) => h('div', h('dt', k), h('dd', di[k]))))
        : h('p.muted', 'No DevInfo yet: the device has not opened a session.'),
      h('h3', 'DevDetail'),
      detail.length ? h('dl.kv', detail.map(([k, v]) => h('div', h('dt', k), h('dd', v))))
        : h('p.muted', 'Not known yet: fetch ./DevDetail into the tree.')));
  };

  const loadTree = () => guard('Tree', async () => {
    try {
      tree = await api('GET', `${devPath(id)}/tree`);
    } catch (e) {
      if (e.status === 401) throw e;
      treeBody = swap(treeBody, h('p.error', `The tree is not available: ${e.message}`));
      return;
    }
    if (!sc.alive) return;
    // Open the first level the first time, so the operator sees what is there.
    if (!treeSeen) for (const c of tree.children || []) expanded.add(c.uri);
    treeSeen = treeSeen || (tree.children || []).length > 0;
    treeBody = swap(treeBody, h('div', tree.truncated ? h('p.muted', 'The tree is too large: only part of it is shown.') : '', treeView(tree, expanded)));
    renderDevinfo();
  });

  const loadCommands = () => guard('Commands', async () => {
    const cmds = await api('GET', `${devPath(id)}/commands`);
    if (!sc.alive) return;
    cmds.sort((a, b) => b.id - a.id);
    cmdTable = swap(cmdTable, table('command-table', 'Command queue and history, newest first',
      ['ID', 'Op', 'Target', 'State', 'Status', 'Results', 'Updated', ''],
      cmds.map((c) => commandRow(c, cancel)), 'No commands yet.'));
  });

  const cancel = async (cid) => {
    try {
      await api('DELETE', `${devPath(id)}/commands/${cid}`);
      say(msg, `Cancelled command ${cid}.`, false);
    } catch (e) { say(msg, e.message, true); }
    loadCommands();
  };

  const items = (its) => (its || []).map((it, i) => h('div.item',
    it.source || it.target || '', it.type ? h('span.badge', it.type) : '', it.format ? h('span.badge', it.format) : '',
    it.mark ? h('span.badge', `mark ${it.mark}`) : '',
    it.data !== null && it.data !== undefined ? [' ', dataView(it.data, it.format, `it:${i}`)] : ''));

  const loadAlerts = () => guard('Alerts', async () => {
    const as = await api('GET', `${devPath(id)}/alerts`);
    if (!sc.alive) return;
    as.sort((a, b) => b.id - a.id);
    alertsTable = swap(alertsTable, table('alert-table', 'Alerts the device sent, newest first',
      ['ID', 'Code', 'Session', 'Items', 'Received'],
      as.map((a) => h('tr', { 'data-alert-id': a.id }, h('td', a.id),
        h('td', `${a.code}${ALERT_NAMES[a.code] ? ` ${ALERT_NAMES[a.code]}` : ''}`, a.correlator ? h('span.badge', `corr ${a.correlator}`) : ''),
        h('td', h('code', short(a.session_id))), h('td', items(a.items)), h('td', when(a.received_at))))));
  });

  const loadReports = () => guard('Reports', async () => {
    const rs = await api('GET', `${devPath(id)}/reports`);
    if (!sc.alive) return;
    rs.sort((a, b) => b.id - a.id);
    reportsTable = swap(reportsTable, table('report-table', 'Sessionless reports, newest first',
      ['ID', 'Items', 'Received'],
      rs.map((r) => h('tr', { 'data-report-id': r.id }, h('td', r.id), h('td', items(r.items)), h('td', when(r.received_at))))));
  });

  const loadSessions = () => guard('Sessions', async () => {
    const ss = await api('GET', `${devPath(id)}/sessions`);
    if (!sc.alive) return;
    ss.sort((a, b) => b.started_at - a.started_at);
    sessionsTable = swap(sessionsTable, table('session-table', 'Sessions, newest first',
      ['Session', 'Started', 'Ended', 'Messages', 'Outcome'],
      ss.map((x) => h('tr', { 'data-session-id': x.session_id }, h('td', h('code', x.session_id)),
        h('td', when(x.started_at)), h('td', x.ended_at ? when(x.ended_at) : h('span.busy', 'open')),
        h('td', x.messages), h('td', x.outcome || '—')))));
  });

  const all = () => { loadDevice(); loadTree(); loadCommands(); loadAlerts(); loadReports(); loadSessions(); };
  all();
  const pending = new Set();
  const flush = sc.throttle(() => {
    const p = new Set(pending);
    pending.clear();
    if (p.has('open')) { all(); return; }
    if (p.has('session')) { loadDevice(); loadSessions(); }
    if (p.has('command')) { loadCommands(); loadTree(); loadDevice(); }
    if (p.has('alert')) loadAlerts();
    if (p.has('report')) loadReports();
  }, 1000);
  sc.on((name, d) => {
    if (name === 'open' || (d && d.device_id === id)) {
      if (name === 'device' && d.change === 'deleted') { say(msg, `Device ${id} was deleted.`, true); return; }
      pending.add(name);
      flush();
    }
  });
}

// Data from the device: short values inline, long ones folded; base64 shortened in the fold's label.
function dataView(data, format, fk) {
  const text = String(data);
  if (text.length <= 80) return h('code.data', text);
  const label = format === 'b64'
    ? `${text.slice(0, 40)}… (${Math.floor((text.replace(/=+$/, '').length * 3) / 4)} bytes)`
    : `${text.slice(0, 60)}… (${text.length} characters)`;
  return h('details.data', { 'data-fk': fk }, h('summary', { 'data-fk': `${fk}:s` }, h('code', label)), h('pre', text));
}

function commandRow(c, cancel) {
  const spec = c.spec || {};
  const inner = spec.commands || [];
  const target = inner.length
    ? h('ol.inner', inner.map((x) => h('li', `${x.op} ${x.target || ''}`, x.data ? [' = ', dataView(x.data, x.format, `in:${c.id}`)] : '')))
    : [spec.target || '', spec.data !== undefined && spec.data !== null ? [' = ', dataView(spec.data, spec.format, `d:${c.id}`)] : ''];
  const results = c.results || [];
  const shown = results.slice(0, 3).map((r, i) => resultItem(r, `r:${c.id}:${i}`));
  const rest = results.length > 3
    ? h('details', { 'data-fk': `rs:${c.id}` }, h('summary', { 'data-fk': `rs:${c.id}:s` }, `${results.length - 3} more results`),
      results.slice(3).map((r, i) => resultItem(r, `r:${c.id}:${i + 3}`)))
    : null;
  const children = (c.children || []).map((x) => `#${x.index}: ${x.status}`).join(', ');
  return h('tr', { 'data-command-id': c.id },
    h('td', c.id),
    h('td.op', spec.op || '?'),
    h('td.target', target),
    h('td.state', h(`span.badge.st-${c.state}`, c.state)),
    h('td.status', c.status === null || c.status === undefined ? '—' : String(c.status), children ? h('div.muted', children) : ''),
    h('td.results', results.length ? [shown, rest] : '—'),
    h('td', when(c.updated_at)),
    h('td', c.state === 'queued'
      ? h('button.small', { type: 'button', 'data-fk': `cancel:${c.id}`, 'aria-label': `Cancel command ${c.id}`, onclick: () => cancel(c.id) }, 'Cancel')
      : ''));
}

function resultItem(r, fk) {
  return h('div.item', r.source ? h('code.src', r.source) : '', r.format ? h('span.badge', r.format) : '',
    r.type ? h('span.badge', r.type) : '', r.data !== null && r.data !== undefined ? [' ', dataView(r.data, r.format, fk)] : '');
}

// The tree as an ARIA tree: interior nodes have a toggle button (keyboard operable as any button).
function treeView(root, expanded) {
  const kids = root.children || [];
  if (!kids.length) return h('p.muted', 'Nothing known yet. Fetch a subtree (Get with ?list=StructData) and let the device open a session.');
  const node = (n, level) => {
    const children = n.children || [];
    const interior = children.length > 0;
    const open = expanded.has(n.uri);
    const li = h('li', { role: 'treeitem', 'data-uri': n.uri, 'aria-level': level,
      'aria-expanded': interior ? String(open) : null,
      title: n.command_id ? `From command ${n.command_id}${n.updated_at ? `, ${absTime(n.updated_at)}` : ''}` : null });
    let group = null;
    if (interior) {
      const btn = h('button.tw', { type: 'button', 'aria-expanded': String(open), 'data-fk': `tw:${n.uri}` },
        h('span.chev', { 'aria-hidden': 'true' }, '▸'), n.name);
      btn.addEventListener('click', () => {
        const now = !expanded.has(n.uri);
        if (now) expanded.add(n.uri); else expanded.delete(n.uri);
        btn.setAttribute('aria-expanded', String(now));
        li.setAttribute('aria-expanded', String(now));
        group.hidden = !now;
      });
      li.append(btn);
    } else {
      li.append(h('span.leaf', n.name));
    }
    if (n.format) li.append(' ', h('span.badge', n.format));
    if (n.type) li.append(' ', h('span.badge', n.type));
    if (n.data !== null && n.data !== undefined) li.append(' ', dataView(n.data, n.format, `tv:${n.uri}`));
    if (interior) {
      group = h('ul', { role: 'group', hidden: !open }, children.map((c) => node(c, level + 1)));
      li.append(group);
    }
    return li;
  };
  return h('ul.tree', { role: 'tree', 'aria-label': 'Management tree' }, kids.map((c) => node(c, 1)));
}

function sessionlessForm(id, msg) {
  const form = h('form#sessionless-form.stack',
    h('div.field', h('label', { for: 'sl-op' }, 'Operation'),
      h('select#sl-op', ['Replace', 'Add', 'Delete', 'Exec'].map((o) => h('option', { value: o }, o)))),
    h('div.field', h('label', { for: 'sl-target' }, 'Target URI'), h('input#sl-target', { required: true, autocomplete: 'off', placeholder: './Vendor/Setting' })),
    h('div.field.wide', h('label', { for: 'sl-data' }, 'Data'), h('textarea#sl-data', { rows: 2 })),
    h('div.field', h('label', { for: 'sl-format' }, 'Format'), formatSelect('sl-format')),
    h('button#sl-submit', { type: 'submit' }, 'Push sessionless command'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const spec = specFrom($('#sl-op', form).value, $('#sl-target', form).value, $('#sl-data', form).value, $('#sl-format', form).value, '');
    try {
      const r = await api('POST', `${devPath(id)}/sessionless`, { commands: [spec] });
      say(msg, `Pushed a sessionless message (${r.bytes} bytes); the device answered HTTP ${r.push_status}.`, false);
    } catch (err) { say(msg, err.message, true); }
  });
  return form;
}

function formatSelect(id) {
  return h(`select#${id}`, FORMATS.map((f) => h('option', { value: f }, f || '(none)')));
}

// Empty fields are left out: the server treats a missing format differently from "".
function specFrom(op, target, data, format, type) {
  const spec = { op };
  if (target.trim()) spec.target = target.trim();
  if (data !== '') spec.data = data;
  if (format) spec.format = format;
  if (type.trim()) spec.type = type.trim();
  return spec;
}

// The queue form: one command, or an Atomic group built row by row. `submit(spec)` sends it.
function queueForm({ submit, msg }) {
  const group = [];
  const op = h('select#op', OPS.map((o) => h('option', { value: o }, o)));
  const target = h('input#target', { type: 'text', autocomplete: 'off', placeholder: './DevInfo/Mod' });
  const data = h('textarea#data', { rows: 2 });
  const format = formatSelect('format');
  const type = h('input#type', { type: 'text', autocomplete: 'off', placeholder: 'text/plain' });
  const groupList = h('ol#group', { 'aria-label': 'Atomic group' });
  const groupBox = h('div.group-box', h('h3', 'Atomic group'), h('p.muted',
    'Add commands with “Add to group”, then choose Atomic and queue: the device applies all of them or none. An Atomic may not hold Get or Exec.'),
  groupList);
  const field = (id, label, el, cls = '') => h(`div.field${cls}`, h('label', { for: id }, label), el);
  const current = () => specFrom(op.value, target.value, data.value, format.value, type.value);

  const renderGroup = () => {
    groupList.replaceChildren(...group.map((g, i) => h('li', h('code', `${g.op} ${g.target || ''}`),
      g.data !== undefined ? ` = ${g.data.length > 40 ? `${g.data.slice(0, 40)}…` : g.data}` : '', ' ',
      h('button.small', { type: 'button', 'aria-label': `Remove ${g.op} ${g.target || ''} from the group`,
        onclick: () => { group.splice(i, 1); renderGroup(); op.focus(); } }, 'Remove'))));
    groupBox.classList.toggle('empty', !group.length);
  };

  const addBtn = h('button#group-add', { type: 'button' }, 'Add to group');
  addBtn.addEventListener('click', () => {
    if (op.value === 'Atomic') { say(msg, 'Choose the operation of the command to add (Replace, Add, Delete).', true); op.focus(); return; }
    if (!target.value.trim()) { say(msg, 'Give a target URI for the command to add.', true); target.focus(); return; }
    group.push(current());
    renderGroup();
    say(msg, `Added ${op.value} ${target.value.trim()} to the Atomic group (${group.length} in it).`, false);
    target.value = '';
    data.value = '';
    target.focus();
  });

  const sync = () => {
    const atomic = op.value === 'Atomic';
    for (const el of [target, data, format, type]) el.closest('.field').classList.toggle('dim', atomic);
  };
  op.addEventListener('change', sync);

  const form = h('form#queue-form.stack', { novalidate: true },
    field('op', 'Operation', op), field('target', 'Target URI', target), field('data', 'Data', data, '.wide'),
    field('format', 'Format', format), field('type', 'Type (MIME)', type),
    h('div.buttons', h('button#queue-submit', { type: 'submit' }, 'Queue'), addBtn), groupBox);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    let spec;
    if (op.value === 'Atomic') {
      if (!group.length) { say(msg, 'The Atomic group is empty: add commands to it first.', true); return; }
      spec = { op: 'Atomic', commands: group.slice() };
    } else {
      spec = current();
    }
    const btn = $('#queue-submit', form);
    btn.disabled = true;
    try {
      await submit(spec);
      if (spec.op === 'Atomic') { group.length = 0; renderGroup(); } else {
        for (const el of [target, data, type]) el.value = '';
        format.value = '';
      }
    } catch (err) {
      say(msg, err.message, true);
    } finally { btn.disabled = false; }
  });
  renderGroup();
  sync();
  return form;
}

// ---------- queue page (several devices: bulk campaigns) ----------

function queuePage(view, sc) {
  const msg = h('div#queue-msg', { role: 'status', 'aria-live': 'polite' });
  let pickedEl = h('div');
  let progressEl = h('div#campaign');
  let campaignsEl = h('div');
  let watching = null;

  const modePicked = h('input#mode-picked', { type: 'radio', name: 'mode', value: 'picked', checked: picked.size > 0 });
  const modeFilter = h('input#mode-filter', { type: 'radio', name: 'mode', value: 'filter', checked: picked.size === 0 });
  const bMan = h('input#bulk-man', { type: 'text', autocomplete: 'off' });
  const bMod = h('input#bulk-mod', { type: 'text', autocomplete: 'off' });
  const bDmv = h('select#bulk-dmv', h('option', { value: '' }, 'Any'), DM_VERSIONS.map((v) => h('option', { value: v }, v.replace('DM/', ''))));

  const renderPicked = () => {
    pickedEl = swap(pickedEl, picked.size
      ? h('ul#picked.picked', [...picked].map((d) => h('li', h('a', { href: devHash(d) }, d), ' ',
        h('button.small', { type: 'button', 'data-fk': `unpick:${d}`, 'aria-label': `Remove ${d}`,
          onclick: () => { picked.delete(d); savePicked(); renderPicked(); } }, 'Remove'))))
      : h('p#picked.muted', 'No device picked. Pick devices on the ', h('a', { href: '#/devices' }, 'Devices'), ' page, or use a filter.'));
    modePicked.disabled = !picked.size;
    if (!picked.size) modeFilter.checked = true;
  };

  const form = queueForm({
    msg,
    submit: async (spec) => {
      const body = { commands: [spec] };
      if (modePicked.checked) {
        if (!picked.size) throw new Error('No device picked.');
        body.devices = [...picked];
      } else {
        const devinfo = {};
        if (bMan.value.trim()) devinfo.Man = bMan.value.trim();
        if (bMod.value.trim()) devinfo.Mod = bMod.value.trim();
        body.filter = { devinfo };
        if (bDmv.value) body.filter.dm_version = bDmv.value;
      }
      const r = await api('POST', '/bulk/commands', body);
      // The server answers {campaign, devices, commands}; accept {id} as well.
      const cid = r.campaign !== undefined ? r.campaign : r.id;
      say(msg, `Queued campaign ${cid}: ${r.commands} commands for ${r.devices} devices.`, false);
      watch(cid);
      loadCampaigns();
    },
  });

  view.append(h('h1', 'Queue for several devices'), msg,
    h('div.cols.even',
      h('section', { 'aria-labelledby': 'targets-h' }, h('h2#targets-h', 'Devices'),
        h('fieldset', h('legend', 'Queue for'),
          h('div.radio', modePicked, h('label', { for: 'mode-picked' }, 'the picked devices')),
          pickedEl,
          h('div.radio', modeFilter, h('label', { for: 'mode-filter' }, 'every device whose DevInfo matches')),
          h('div.filters',
            h('div.field', h('label', { for: 'bulk-man' }, 'Manufacturer (Man)'), bMan),
            h('div.field', h('label', { for: 'bulk-mod' }, 'Model (Mod)'), bMod),
            h('div.field', h('label', { for: 'bulk-dmv' }, 'DM version'), bDmv)),
          h('p.muted', 'An empty filter matches every device.'))),
      h('section', { 'aria-labelledby': 'cmd-h' }, h('h2#cmd-h', 'Command'), form)),
    h('section', { 'aria-labelledby': 'progress-h' }, h('h2#progress-h', 'Campaign progress'), progressEl),
    h('section', { 'aria-labelledby': 'campaigns-h' }, h('h2#campaigns-h', 'Recent campaigns'), campaignsEl));
  for (const el of [bMan, bMod, bDmv]) el.addEventListener('input', () => { modeFilter.checked = true; });
  renderPicked();

  const watch = (cid) => { watching = cid; poll(); };
  const poll = async () => {
    if (watching === null) return;
    try {
      const c = await api('GET', `/bulk/campaigns/${watching}`);
      if (!sc.alive) return;
      const st = c.states || {};
      const finished = (st.done || 0) + (st.failed || 0) + (st.cancelled || 0);
      const total = c.commands || finished + (st.queued || 0) + (st.sent || 0);
      progressEl = swap(progressEl, h('div#campaign', { 'data-campaign-id': c.id },
        h('p', `Campaign ${c.id}, created `, when(c.created_at), `: ${(c.specs || []).map((x) => `${x.op} ${x.target || ''}`).join('; ')} — ${c.devices} devices.`),
        h('label', { for: 'campaign-bar' }, `${finished} of ${total} commands finished`),
        h('progress#campaign-bar', { max: total || 1, value: finished }),
        h('dl.figures', ['queued', 'sent', 'done', 'failed', 'cancelled'].map((k) =>
          h('div', { 'data-state': k }, h('dt', k), h('dd', st[k] || 0)))),
        (st.queued || 0) > 0
          ? h('button.danger', { type: 'button', onclick: () => cancelCampaign(c.id) }, `Cancel the ${st.queued} queued commands`) : ''));
    } catch (e) {
      if (sc.alive) progressEl = swap(progressEl, h('div#campaign', h('p.error', { role: 'alert' }, e.message)));
    }
  };

  const cancelCampaign = async (cid) => {
    try {
      const r = await api('DELETE', `/bulk/campaigns/${cid}`);
      say(msg, `Cancelled ${r.cancelled} queued commands of campaign ${cid}.`, false);
    } catch (e) { say(msg, e.message, true); }
    poll();
  };

  const loadCampaigns = async () => {
    try {
      const cs = await api('GET', '/bulk/campaigns');
      if (!sc.alive) return;
      cs.sort((a, b) => b.id - a.id);
      campaignsEl = swap(campaignsEl, table('campaign-table', 'Recent campaigns, newest first',
        ['ID', 'Created', 'Commands', 'Devices', 'Queued', ''],
        cs.slice(0, 50).map((c) => h('tr', { 'data-campaign-id': c.id }, h('td', c.id), h('td', when(c.created_at)),
          h('td', (c.specs || []).map((x) => `${x.op} ${x.target || ''}`).join('; ')), h('td', c.devices), h('td', c.commands),
          h('td', h('button.small', { type: 'button', 'data-fk': `watch:${c.id}`, 'aria-label': `Show progress of campaign ${c.id}`, onclick: () => watch(c.id) }, 'Progress')))),
        'No campaign yet.'));
      if (watching === null && cs.length) watch(cs[0].id);
    } catch (e) { if (sc.alive) say(msg, e.message, true); }
  };
  if (watching === null) progressEl.append(h('p.muted', 'Queue a campaign to follow its progress here.'));
  loadCampaigns();
  sc.every(poll, 2000);
  sc.every(loadCampaigns, 30000);
}

// ---------- sign-in ----------

let signinView = null;
// The sign-in section leaves the document while signed in, so that the view's h1 is the only one.
function showApp(signedIn) {
  signinView = signinView || $('#signin-view');
  if (signedIn) signinView.remove(); else if (!signinView.isConnected) $('#main').prepend(signinView);
  $('#nav').hidden = !signedIn;
  if (!signedIn) liveStatus('');
}

function signOut(reason) {
  if (liveAbort) { liveAbort.abort(); liveAbort = null; }
  token = '';
  sessionStorage.removeItem(TOKEN_KEY);
  feed.length = 0;
  if (scope) scope.end();
  $('#view').replaceChildren();
  showApp(false);
  $('#signin-error').textContent = reason || '';
  document.title = 'Sign in — omadm';
  $('#token').focus();
}

async function signIn(e) {
  e.preventDefault();
  const err = $('#signin-error');
  const given = $('#token').value.trim();
  err.textContent = '';
  if (!given) { err.textContent = 'Enter the admin token.'; return; }
  try {
    const r = await fetch(`${API}/devices?limit=1`, { headers: { Authorization: `Bearer ${given}` } });
    if (!r.ok) {
      let text = `HTTP ${r.status}`;
      try { text = (await r.json()).error || text; } catch { /* keep the status */ }
      err.textContent = r.status === 401 ? `Wrong token: ${text}` : text;
      return;
    }
  } catch (x) {
    err.textContent = `The server cannot be reached (${x.message}).`;
    return;
  }
  token = given;
  sessionStorage.setItem(TOKEN_KEY, token);
  $('#token').value = '';
  start();
}

function start() {
  showApp(true);
  liveLoop();
  route();
}

document.addEventListener('DOMContentLoaded', () => {
  $('#signin').addEventListener('submit', signIn);
  $('#signout').addEventListener('click', () => signOut(''));
  // The skip link must not become a route: hash routing owns the fragment.
  $('.skip').addEventListener('click', (e) => { e.preventDefault(); $('#main').focus(); });
  window.addEventListener('hashchange', () => { if (token && location.hash.startsWith('#/')) route(); });
  if (token) start(); else { showApp(false); document.title = 'Sign in — omadm'; }
});
