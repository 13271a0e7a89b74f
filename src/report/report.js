// The report's page: renders the embedded data (#sb-data) into the sections,
// lays out the message graph (one small layered graph per procedure, and an
// overview of window classes -> procedures), and shows a function's listing
// when a node, an edge or a search result is clicked. No network, no library.
'use strict';
(function () {
  const D = JSON.parse(document.getElementById('sb-data').textContent);
  const $ = (id) => document.getElementById(id);
  const hex = (n) => n.toString(16);
  const ENTITIES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ENTITIES[c]);
  const clip = (s, n) => (s.length > n ? s.slice(0, n - 1) + '\u2026' : s);
  // <name attr="value" ...>inner</name>; attribute values are escaped, inner is HTML.
  function tag(name, attrs, inner) {
    let out = '<' + name;
    for (const k in attrs) if (attrs[k] !== undefined) out += ' ' + k + '="' + esc(attrs[k]) + '"';
    return out + '>' + (inner === undefined ? '' : inner) + '</' + name + '>';
  }
  const row = (cells) => '<tr>' + cells.map((c) => '<td>' + c + '</td>').join('') + '</tr>';

  // --- names and functions -------------------------------------------------
  const names = new Map(D.names.map((n) => [n[0], n[1]]));
  const fns = D.functions.slice().sort((x, y) => x[0] - y[0]);
  const fnAt = new Map(fns.map((f) => [f[0], f]));
  function fnContaining(rva) {
    let lo = 0, hi = fns.length - 1, best = null;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (fns[mid][0] <= rva) { best = fns[mid]; lo = mid + 1; } else hi = mid - 1;
    }
    return best && rva < Math.max(best[1], best[0] + 1) ? best : null;
  }
  function nameOf(rva) {
    const n = names.get(rva);
    if (n !== undefined) return n;
    const f = fnAt.get(rva) || fnContaining(rva);
    if (f) return f[0] === rva ? f[2] : f[2] + '+0x' + hex(rva - f[0]);
    return D.summary.module + '+0x' + hex(rva);
  }
  const link = (rva, text) => tag('span', { class: 'link', 'data-go': rva }, esc(text === undefined ? nameOf(rva) : text));

  // --- edges: [kind, from, function of from, to, label, exactness, evidence, detail]
  const E = D.edges.list;
  const K = (name) => D.edges.kinds.indexOf(name);
  const kindName = (e) => D.edges.kinds[e[0]];
  function targetsOf(e) {
    const t = e[3];
    if (typeof t === 'number') return [t];
    if (Array.isArray(t)) return D.edges.sets[String(t[0])].targets;
    return [];
  }
  function targetText(e) {
    const t = e[3];
    if (typeof t === 'number') return nameOf(t);
    if (!Array.isArray(t)) return t;
    const s = D.edges.sets[String(t[0])];
    return s.count + ' candidates: ' + s.targets.slice(0, 4).map(nameOf).join(', ') + (s.count > 4 ? ', ...' : '');
  }

  // --- the listing panel -----------------------------------------------------
  const listings = new Map(D.listings.map((l) => [l[0], l[1]]));
  // Where the listing shows an edge's comment: at its site (a funclet edge:
  // at the funclet); calls and tail calls have none.
  const hiddenSites = new Set();
  for (const e of E) {
    if (e[0] === K('call') || e[0] === K('tail_call')) continue;
    for (const t of e[0] === K('funclet') ? targetsOf(e) : [e[1]]) hiddenSites.add(t);
  }
  function listingOf(rva) {
    if (listings.has(rva)) return rva;
    const f = fnContaining(rva);
    return f && listings.has(f[0]) ? f[0] : null;
  }
  function listingLine(line) {
    if (line[0] === ':') return tag('div', { class: 'label' }, esc(line.slice(1)) + ':');
    const [a, text, note] = line.split('\t');
    const at = parseInt(a, 16);
    const noteHtml = note ? '  ' + tag('span', { class: hiddenSites.has(at) ? 'edge-note' : 'note' }, '; ' + esc(note)) : '';
    return tag('div', { class: 'ins', 'data-rva': at }, tag('span', { class: 'addr' }, a.padStart(8, '0')) + '  ' +
      esc(text) + noteHtml);
  }
  function showListing(rva, focus) {
    const fn = listingOf(rva);
    const shown = fn === null ? rva : fn;
    const panel = $('listing');
    $('listing-title').textContent = nameOf(shown) + ' (' + hex(shown) + ')';
    panel.dataset.rva = String(shown);
    if (fn === null) {
      panel.innerHTML = tag('div', { class: 'muted', id: 'no-listing' }, 'No listing of this function in the report ' +
        '(it lists the functions the message graph, classes and hidden edges name, within a budget).');
      return;
    }
    panel.innerHTML = listings.get(fn).split('\n').filter((l) => l).map(listingLine).join('');
    const target = focus !== undefined && panel.querySelector('.ins[data-rva="' + focus + '"]');
    if (target) {
      target.classList.add('focus');
      target.scrollIntoView({ block: 'center' });
    } else $('listing-panel').scrollTop = 0;
  }
  function go(rva) {
    const p = procIndex.get(rva);
    if (p !== undefined) selectProc(p);
    showListing(rva, rva);
  }
  document.addEventListener('click', (ev) => {
    const t = ev.target.closest('[data-go]');
    if (t) go(Number(t.dataset.go));
  });

  // --- summary ---------------------------------------------------------------
  function renderSummary() {
    const s = D.summary;
    const rows = [['File', s.file], ['Module', s.module], ['Architecture', s.arch], ['Type', s.type],
      ['Image base', s.image_base], ['Functions', s.functions], ['Names', s.names], ['Edges', s.edges],
      ['Window classes', s.window_classes], ['Procedures', s.procedures], ['Handled messages', s.handled_messages],
      ['Send sites', s.sends], ['C++ classes', s.classes], ['Vftables', s.vftables],
      ['Listings', s.listings + ' functions, ' + s.listed_instructions + ' instructions']];
    for (const k of D.edges.kinds) rows.push(['Edges: ' + k, s.edges_by_kind[k]]);
    $('summary-table').innerHTML = rows.map((r) => '<tr><th>' + esc(r[0]) + '</th><td>' + esc(r[1]) + '</td></tr>').join('');
  }

  // --- the message graph -----------------------------------------------------
  const M = D.messages;
  const procIndex = new Map(M.procedures.map((p, i) => [p.rva, i]));
  const NODE_H = 20, ROW = 26, W = 230;
  const procLabel = (p, extra) => nameOf(p.rva) + ' [' + p.kind + extra + ']';
  function node(kind, x, y, text, rva, attrs) {
    const all = Object.assign({ class: 'node ' + kind, 'data-kind': kind, 'data-rva': rva,
      transform: 'translate(' + x + ',' + y + ')' }, attrs || {});
    return tag('g', all, tag('title', {}, esc(text + ' (' + hex(rva) + ')')) +
      tag('rect', { width: W, height: NODE_H, rx: 3 }) + tag('text', { x: 5, y: 14 }, esc(clip(text, Math.floor(W / 7)))));
  }
  function curve(x1, y1, x2, y2, cls, attrs, title) {
    const mx = (x1 + x2) / 2;
    const d = 'M' + x1 + ',' + y1 + ' C' + mx + ',' + y1 + ' ' + mx + ',' + y2 + ' ' + x2 + ',' + y2;
    return tag('path', Object.assign({ class: 'edge ' + cls, d }, attrs || {}), title ? tag('title', {}, esc(title)) : '');
  }
  const svg = (id, width, height, parts, attrs) => tag('svg', Object.assign({ id, width, height }, attrs || {}), parts.join(''));
  // Window classes on the left, each procedure on the right at the height of
  // its first class (in order, so that the lines barely cross).
  function renderOverview() {
    const rows = [];
    M.procedures.forEach((p, i) => { for (const c of p.classes) rows.push([c, i]); });
    const rowY = (k) => 10 + k * ROW;
    const parts = rows.map((r, k) => node('class', 10, rowY(k), r[0], M.procedures[r[1]].rva, { 'data-class': r[0] }));
    const procY = [];
    let y = 10;
    M.procedures.forEach((p, i) => {
      const first = rows.findIndex((r) => r[1] === i);
      y = Math.max(y, first >= 0 ? rowY(first) : 0);
      procY.push(y);
      parts.push(node('procedure', W + 100, y, procLabel(p, ', ' + p.cases.length), p.rva, { 'data-proc': i }));
      y += ROW;
    });
    rows.forEach((r, k) => parts.push(curve(10 + W, rowY(k) + NODE_H / 2, W + 100, procY[r[1]] + NODE_H / 2, '')));
    if (M.procedures.length) $('overview').innerHTML = svg('overview-svg', 2 * W + 120, Math.max(y, rowY(rows.length)) + 10, parts);
    else $('overview').hidden = true;
    $('proc-list').innerHTML = M.procedures.map((p, i) =>
      tag('button', { 'data-proc-button': i, title: p.kind + ': ' + p.classes.join(', ') }, esc(nameOf(p.rva)))).join('');
  }
  // A procedure's cases (and its default path, for what reaches it but no
  // case), and the functions whose message edges reach each.
  function casesOf(p) {
    const cases = p.cases.map((c) => ({ text: c[0], rva: c[1], edges: c[2] }));
    if (p.unhandled.length) cases.push({ text: '(default path)', rva: p.rva, edges: p.unhandled, unhandled: true });
    return cases;
  }
  // Each sending function once, near the mean height of the cases it reaches.
  function sendersOf(cases) {
    const senders = new Map();
    cases.forEach((c, k) => {
      for (const ei of c.edges) {
        const fn = E[ei][2] >= 0 ? E[ei][2] : E[ei][1];
        if (!senders.has(fn)) senders.set(fn, { rva: fn, edges: [] });
        senders.get(fn).edges.push([ei, k]);
      }
    });
    const list = [...senders.values()];
    for (const s of list) s.want = 10 + (s.edges.reduce((x, e) => x + e[1], 0) / s.edges.length) * ROW;
    list.sort((x, y) => x.want - y.want || x.rva - y.rva);
    let y = 10;
    for (const s of list) { s.y = Math.max(y, s.want); y = s.y + ROW; }
    return list;
  }
  function procInfo(p, senders) {
    const info = [];
    const site = (ei) => link(E[ei][1], (E[ei][7] ? E[ei][7] + ' in ' : '') + nameOf(E[ei][1]));
    if (p.classes.length) info.push('classes: ' + p.classes.map(esc).join(', '));
    if (p.cxx_class) info.push('map of ' + esc(p.cxx_class));
    if (p.defaults.length) info.push('default: ' + p.defaults.map(esc).join(', '));
    if (p.forwarded_to.length) info.push('forwards to: ' + p.forwarded_to.map((r) => link(r)).join(', '));
    if (p.installed_by.length) info.push('installed by: ' + p.installed_by.map(site).join(', '));
    return '<b>' + esc(nameOf(p.rva)) + '</b> (' + esc(p.kind) + ', ' + p.cases.length + ' handled messages, ' +
      senders.length + ' sending functions) ' + info.join('; ');
  }
  function renderProc(i) {
    const p = M.procedures[i];
    const cases = casesOf(p), senders = sendersOf(cases);
    const caseY = (k) => 10 + k * ROW;
    const procY = 10 + Math.max(0, (cases.length - 1) * ROW / 2);
    const X0 = 10, X1 = W + 50, X2 = 2 * W + 100;
    const parts = [node('procedure', X0, procY, procLabel(p, ''), p.rva, { 'data-proc': i })];
    cases.forEach((c, k) => {
      parts.push(curve(X0 + W, procY + NODE_H / 2, X1, caseY(k) + NODE_H / 2, ''));
      parts.push(node('case', X1, caseY(k), c.text, c.rva, { 'data-case': k, 'data-unhandled': c.unhandled ? 1 : undefined }));
    });
    for (const s of senders) {
      parts.push(node('sender', X2, s.y, nameOf(s.rva), s.rva, { 'data-site': E[s.edges[0][0]][1] }));
      for (const [ei, k] of s.edges) {
        const e = E[ei];
        const title = e[7] + ' at ' + nameOf(e[1]) + ': ' + e[4] + ' [' + D.edges.exactness[e[5]] + ']';
        parts.push(curve(X2, s.y + NODE_H / 2, X1 + W, caseY(k) + NODE_H / 2, e[5] === 0 ? 'send' : 'send inexact',
          { 'data-edge': ei, 'data-site': e[1] }, title));
      }
    }
    const last = senders.length ? senders[senders.length - 1].y + ROW : 0;
    const h = Math.max(caseY(cases.length), last, procY + ROW) + 10;
    $('proc-info').innerHTML = procInfo(p, senders);
    $('proc-graph').innerHTML = svg('proc-svg', X2 + W + 20, h, parts, { 'data-proc': i });
  }
  let selected = -1;
  function selectProc(i) {
    if (selected === i) return;
    selected = i;
    renderProc(i);
    for (const b of document.querySelectorAll('[data-proc-button]'))
      b.classList.toggle('selected', Number(b.dataset.procButton) === i);
    for (const n of document.querySelectorAll('#overview-svg .node.procedure'))
      n.classList.toggle('selected', Number(n.dataset.proc) === i);
  }
  function onGraphClick(ev) {
    const b = ev.target.closest('[data-proc-button]');
    if (b) {
      selectProc(Number(b.dataset.procButton));
      showListing(M.procedures[selected].rva);
      return;
    }
    const edge = ev.target.closest('path[data-edge]');
    if (edge) { showListing(Number(edge.dataset.site), Number(edge.dataset.site)); return; }
    const n = ev.target.closest('.node');
    if (!n) return;
    const rva = Number(n.dataset.rva);
    if (n.dataset.proc !== undefined) selectProc(Number(n.dataset.proc));
    else if (n.dataset.kind === 'class') selectProc(procIndex.get(rva));
    if (n.dataset.kind === 'case') showListing(M.procedures[selected].rva, rva);
    else if (n.dataset.kind === 'sender') showListing(rva, Number(n.dataset.site));   // at its first send here
    else showListing(rva);
  }

  // --- C++ classes -----------------------------------------------------------
  const C = D.classes;
  function baseText(b) {
    return esc(b[0]) + (b[2] === null ? '' : ' at +' + hex(b[2])) + (b[3] ? ' (virtual)' : '');
  }
  function vftableHtml(v) {
    const head = 'vftable ' + link(v.rva) + (v.for ? ' for ' + esc(v.for) : '') + ' at +' + hex(v.offset) + ', ' +
      v.slots.length + ' slots';
    const slots = v.slots.map((s, k) => row([k, esc(s[1]) + (s[2] ? ' (pure)' : ''), link(s[0])])).join('');
    return tag('div', { class: 'vftable' }, head) + tag('table', { class: 'slots mono' }, slots);
  }
  function classBody(c) {
    const out = ['<div>size: ' + (c.size === null ? '?' : c.size + ' bytes') +
      (c.bases.length ? '; bases: ' + c.bases.map(baseText).join(', ') : '') + '</div>'];
    const fnList = (label, list) => (list.length ? '<div>' + label + ': ' + list.map((r) => link(r)).join(', ') + '</div>' : '');
    out.push(fnList('constructors', c.constructors), fnList('destructors', c.destructors),
      fnList('deleting destructors', c.deleting_destructors));
    for (const v of c.vftables) out.push(vftableHtml(v));
    if (c.fields.length)
      out.push(tag('table', { class: 'fields mono' }, '<tr><th>offset</th><th>size</th><th>field</th></tr>' +
        c.fields.map((f) => row(['+' + hex(f[0]), f[1], esc(f[2])])).join('')));
    return out.join('');
  }
  // A class and, once opened, its body and its derived classes.
  function classNode(i, depth) {
    const c = C[i];
    const d = document.createElement('details');
    d.className = 'class';
    d.dataset.class = c.name;
    const derived = c.derived.length ? ' ' + tag('span', { class: 'muted' }, '(' + c.derived.length + ' derived)') : '';
    d.innerHTML = tag('summary', {}, esc(c.name) + derived);
    d.addEventListener('toggle', () => {
      if (!d.open || d.dataset.filled) return;
      d.dataset.filled = '1';
      const body = document.createElement('div');
      body.className = 'class-body';
      body.innerHTML = classBody(c);
      d.append(body);
      if (depth < 32) for (const k of c.derived) d.append(classNode(k, depth + 1));
    });
    return d;
  }
  function renderClasses() {
    const tree = $('class-tree');
    if (!C.length) { tree.innerHTML = '<p class="muted">No C++ classes recovered.</p>'; return; }
    // Roots: classes none of whose bases is a class of the model.
    C.forEach((c, i) => { if (!c.bases.some((b) => b[1] >= 0)) tree.append(classNode(i, 0)); });
  }

  // --- edges -----------------------------------------------------------------
  const PAGE = 500;
  const HEAD = '<tr><th>kind</th><th>from</th><th>to</th><th>label</th><th>exactness</th><th>evidence</th><th>detail</th></tr>';
  function edgeRow(ei) {
    const e = E[ei];
    const to = typeof e[3] === 'number' ? link(e[3]) : esc(targetText(e));
    const cells = [esc(kindName(e)), link(e[1]), to, esc(e[4]), esc(D.edges.exactness[e[5]]), esc(D.edges.evidence[e[6]]),
      esc(e[7])];
    return tag('tr', { 'data-edge': ei }, cells.map((c, k) => (k === 1 || k === 2 ? '<td class="mono">' : '<td>') + c + '</td>').join(''));
  }
  function renderEh() {
    const rows = [];
    E.forEach((e, i) => { if (e[0] === K('throw') || e[0] === K('funclet')) rows.push(i); });
    const more = rows.length > PAGE ? ', the first ' + PAGE + ' shown (all under "All edges")' : '';
    $('eh-count').textContent = rows.length + ' exception edges' + more;
    $('eh-table').innerHTML = HEAD + rows.slice(0, PAGE).map(edgeRow).join('');
  }
  // What the text filter searches in: both ends' names and addresses, the label, the detail.
  let haystack = null;
  function edgeText(e) {
    const to = typeof e[3] === 'number' ? hex(e[3]) : '';
    return [nameOf(e[1]), hex(e[1]), targetText(e), to, e[4], e[7]].join(' ').toLowerCase();
  }
  function renderEdges() {
    const kind = $('edge-kind').value, q = $('edge-filter').value.trim().toLowerCase();
    if (q && !haystack) haystack = E.map(edgeText);
    const rows = [];
    let count = 0;
    for (let i = 0; i < E.length; ++i) {
      if (kind !== '' && E[i][0] !== Number(kind)) continue;
      if (q && !haystack[i].includes(q)) continue;
      if (++count <= PAGE) rows.push(i);
    }
    const more = count > PAGE ? ', the first ' + PAGE + ' shown' : '';
    $('edge-count').textContent = count + ' of ' + E.length + ' edges match' + more;
    $('edge-table').innerHTML = HEAD + rows.map(edgeRow).join('');
  }
  function setupEdges() {
    const counts = D.edges.kinds.map(() => 0);
    for (const e of E) counts[e[0]]++;
    const options = D.edges.kinds.map((k, i) => (counts[i] ? tag('option', { value: i }, esc(k) + ' (' + counts[i] + ')') : ''));
    $('edge-kind').innerHTML = '<option value="">all kinds</option>' + options.join('');
    let timer = 0;
    $('edge-kind').addEventListener('change', renderEdges);
    $('edge-filter').addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(renderEdges, 150); });
    renderEdges();
  }

  // --- search ----------------------------------------------------------------
  const base = BigInt(D.summary.image_base);
  // An RVA, or a VA (0x..., WinDbg's 00000001`40001000) made one.
  function addressOf(q) {
    const m = /^(?:0x)?([0-9a-f`]+)$/i.exec(q);
    if (!m) return null;
    let v = BigInt('0x' + m[1].replace(/`/g, ''));
    if (v >= base) v -= base;
    return v < 0x100000000n ? Number(v) : null;
  }
  const MAX_RESULTS = 100;
  const result = (rva, text, note) => tag('li', { 'data-go': rva, 'data-result': rva },
    esc(text) + (note ? ' ' + tag('span', { class: 'muted' }, esc(note)) : ''));
  function search() {
    const q = $('search').value.trim(), lq = q.toLowerCase();
    const out = [];
    if (q) {
      const rva = addressOf(q);
      if (rva !== null) out.push(result(rva, hex(rva) + ': ' + nameOf(rva)));
      for (const n of D.names) {
        if (out.length >= MAX_RESULTS) break;
        if (n[1].toLowerCase().includes(lq)) out.push(result(n[0], n[1], hex(n[0]) + ' ' + n[3]));
      }
      for (const f of fns) {
        if (out.length >= MAX_RESULTS) break;
        if (!names.has(f[0]) && f[2].toLowerCase().includes(lq)) out.push(result(f[0], f[2], hex(f[0])));
      }
      if (!out.length) out.push('<li class="muted">nothing found</li>');
    }
    $('search-results').innerHTML = out.join('');
  }

  renderSummary();
  renderOverview();
  $('messages').addEventListener('click', onGraphClick);
  if (M.procedures.length) selectProc(0);
  else $('proc-info').textContent = 'No window, dialog or subclass procedures recovered.';
  renderClasses();
  renderEh();
  setupEdges();
  $('search').addEventListener('input', search);
  $('search-results').addEventListener('click', () => { $('search-results').innerHTML = ''; });
  document.body.dataset.ready = '1';
})();
