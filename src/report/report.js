// The report's page: renders the embedded data (#sb-data) into the sections,
// lays out the message graph (one small layered graph per procedure, and an
// overview of window classes -> procedures), and shows a function's listing
// when a node, an edge or a search result is clicked. No network, no library.
'use strict';
(function () {
  const D = JSON.parse(document.getElementById('sb-data').textContent);
  const $ = (id) => document.getElementById(id);
  const hex = (n) => n.toString(16);
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  const clip = (s, n) => (s.length > n ? s.slice(0, n - 1) + '\u2026' : s);

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
  const E = D.edges.list;
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
    if (Array.isArray(t)) {
      const s = D.edges.sets[String(t[0])];
      return s.count + ' candidates: ' + s.targets.slice(0, 4).map(nameOf).join(', ') + (s.count > 4 ? ', ...' : '');
    }
    return t;
  }

  // --- the listing panel -----------------------------------------------------
  const listings = new Map(D.listings.map((l) => [l[0], l[1]]));
  const hiddenSites = new Set();
  // Where the listing shows an edge's comment: at its site (a funclet edge:
  // at the funclet); calls and tail calls have none.
  const K = (name) => D.edges.kinds.indexOf(name);
  for (const e of E)
    if (e[0] !== K('call') && e[0] !== K('tail_call')) for (const t of e[0] === K('funclet') ? targetsOf(e) : [e[1]]) hiddenSites.add(t);
  function listingOf(rva) {
    if (listings.has(rva)) return rva;
    const f = fnContaining(rva);
    return f && listings.has(f[0]) ? f[0] : null;
  }
  function showListing(rva, focus) {
    const fn = listingOf(rva);
    const panel = $('listing');
    $('listing-title').textContent = nameOf(fn === null ? rva : fn) + ' (' + hex(fn === null ? rva : fn) + ')';
    panel.dataset.rva = String(fn === null ? rva : fn);
    if (fn === null) {
      panel.innerHTML = '<div class="muted" id="no-listing">No listing of this function in the report ' +
        '(it lists the functions the message graph, classes and hidden edges name, within a budget).</div>';
      return;
    }
    const out = [];
    for (const line of listings.get(fn).split('\n')) {
      if (!line) continue;
      if (line[0] === ':') { out.push('<div class="label">' + esc(line.slice(1)) + ':</div>'); continue; }
      const [a, text, note] = line.split('\t');
      const at = parseInt(a, 16);
      const cls = hiddenSites.has(at) ? 'edge-note' : 'note';
      out.push('<div class="ins" data-rva="' + at + '"><span class="addr">' + a.padStart(8, '0') + '</span>  ' + esc(text) +
        (note ? '  <span class="' + cls + '">; ' + esc(note) + '</span>' : '') + '</div>');
    }
    panel.innerHTML = out.join('');
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
  const link = (rva, text) => '<span class="link" data-go="' + rva + '">' + esc(text === undefined ? nameOf(rva) : text) + '</span>';

  // --- summary ---------------------------------------------------------------
  function renderSummary() {
    const s = D.summary;
    const rows = [['File', s.file], ['Module', s.module], ['Architecture', s.arch], ['Type', s.type], ['Image base', s.image_base],
      ['Functions', s.functions], ['Names', s.names], ['Edges', s.edges], ['Window classes', s.window_classes],
      ['Procedures', s.procedures], ['Handled messages', s.handled_messages], ['Send sites', s.sends],
      ['C++ classes', s.classes], ['Vftables', s.vftables], ['Listings', s.listings + ' functions, ' + s.listed_instructions + ' instructions']];
    for (const k of D.edges.kinds) rows.push(['Edges: ' + k, s.edges_by_kind[k]]);
    $('summary-table').innerHTML = rows.map((r) => '<tr><th>' + esc(r[0]) + '</th><td>' + esc(r[1]) + '</td></tr>').join('');
  }

  // --- the message graph -----------------------------------------------------
  const M = D.messages;
  const procIndex = new Map(M.procedures.map((p, i) => [p.rva, i]));
  const NODE_H = 20, ROW = 26, W = 230;
  function node(kind, x, y, w, text, rva, extra) {
    return '<g class="node ' + kind + '" data-kind="' + kind + '" data-rva="' + rva + '"' + (extra || '') +
      ' transform="translate(' + x + ',' + y + ')"><title>' + esc(text + ' (' + hex(rva) + ')') + '</title>' +
      '<rect width="' + w + '" height="' + NODE_H + '" rx="3"></rect><text x="5" y="14">' + esc(clip(text, Math.floor(w / 7))) + '</text></g>';
  }
  function curve(x1, y1, x2, y2, cls, attrs, title) {
    const mx = (x1 + x2) / 2;
    return '<path class="edge ' + cls + '"' + (attrs || '') + ' d="M' + x1 + ',' + y1 + ' C' + mx + ',' + y1 + ' ' + mx + ',' + y2 + ' ' +
      x2 + ',' + y2 + '">' + (title ? '<title>' + esc(title) + '</title>' : '') + '</path>';
  }
  // Window classes on the left, each procedure on the right at the height of
  // its first class (in order, so that the lines barely cross).
  function renderOverview() {
    const rows = [];
    M.procedures.forEach((p, i) => { for (const c of p.classes) rows.push([c, i]); });
    const procY = new Map();
    let y = 10;
    const parts = [];
    rows.forEach((r) => { parts.push(node('class', 10, y, W, r[0], M.procedures[r[1]].rva, ' data-class="' + esc(r[0]) + '"')); y += ROW; });
    y = 10;
    M.procedures.forEach((p, i) => {
      const first = rows.findIndex((r) => r[1] === i);
      const want = first >= 0 ? 10 + first * ROW : 0;
      y = Math.max(y, want);
      procY.set(i, y);
      parts.push(node('procedure', W + 100, y, W, nameOf(p.rva) + ' [' + p.kind + ', ' + p.cases.length + ']', p.rva, ' data-proc="' + i + '"'));
      y += ROW;
    });
    rows.forEach((r, k) => parts.push(curve(10 + W, 10 + k * ROW + NODE_H / 2, W + 100, procY.get(r[1]) + NODE_H / 2, '')));
    const h = Math.max(y, 10 + rows.length * ROW) + 10;
    $('overview').innerHTML = '<svg id="overview-svg" width="' + (2 * W + 120) + '" height="' + h + '">' + parts.join('') + '</svg>';
    $('proc-list').innerHTML = M.procedures.map((p, i) =>
      '<button data-proc-button="' + i + '" title="' + esc(p.kind + ': ' + p.classes.join(', ')) + '">' + esc(nameOf(p.rva)) + '</button>').join('');
  }
  // One procedure: its node, its cases, the functions whose sends reach them.
  function renderProc(i) {
    const p = M.procedures[i];
    const cases = p.cases.map((c) => ({ text: c[0], rva: c[1], edges: c[2] }));
    if (p.unhandled.length) cases.push({ text: '(default path)', rva: p.rva, edges: p.unhandled, unhandled: true });
    const senders = new Map();
    cases.forEach((c, k) => {
      for (const ei of c.edges) {
        const e = E[ei];
        const key = e[2] >= 0 ? e[2] : e[1];
        if (!senders.has(key)) senders.set(key, { rva: key, rows: [], edges: [] });
        const s = senders.get(key);
        s.rows.push(k);
        s.edges.push([ei, k]);
      }
    });
    const list = [...senders.values()];
    for (const s of list) s.want = 10 + (s.rows.reduce((x, y) => x + y, 0) / s.rows.length) * ROW;
    list.sort((x, y) => x.want - y.want || x.rva - y.rva);
    let y = 10;
    for (const s of list) { s.y = Math.max(y, s.want); y = s.y + ROW; }
    const caseY = (k) => 10 + k * ROW;
    const procYv = 10 + Math.max(0, (cases.length - 1) * ROW / 2);
    const X0 = 10, X1 = W + 50, X2 = 2 * W + 100;
    const parts = [node('procedure', X0, procYv, W, nameOf(p.rva) + ' [' + p.kind + ']', p.rva, ' data-proc="' + i + '"')];
    cases.forEach((c, k) => {
      parts.push(curve(X0 + W, procYv + NODE_H / 2, X1, caseY(k) + NODE_H / 2, ''));
      parts.push(node('case', X1, caseY(k), W, c.text, c.rva, ' data-case="' + k + '"' + (c.unhandled ? ' data-unhandled="1"' : '')));
    });
    for (const s of list) {
      parts.push(node('sender', X2, s.y, W, nameOf(s.rva), s.rva, ' data-site="' + E[s.edges[0][0]][1] + '"'));
      for (const [ei, k] of s.edges) {
        const e = E[ei];
        parts.push(curve(X2, s.y + NODE_H / 2, X1 + W, caseY(k) + NODE_H / 2, 'send' + (e[5] === 0 ? '' : ' inexact'),
          ' data-edge="' + ei + '" data-site="' + e[1] + '"', e[7] + ' at ' + nameOf(e[1]) + ': ' + e[4] + ' [' + D.edges.exactness[e[5]] + ']'));
      }
    }
    const h = Math.max(caseY(cases.length), y, procYv + ROW) + 10;
    const info = [];
    if (p.classes.length) info.push('classes: ' + p.classes.map(esc).join(', '));
    if (p.defaults.length) info.push('default: ' + p.defaults.map(esc).join(', '));
    if (p.forwarded_to.length) info.push('forwards to: ' + p.forwarded_to.map((r) => link(r)).join(', '));
    if (p.installed_by.length) info.push('installed by: ' + p.installed_by.map((ei) => link(E[ei][1], E[ei][7] ? E[ei][7] + ' in ' + nameOf(E[ei][1]) : nameOf(E[ei][1]))).join(', '));
    $('proc-info').innerHTML = '<b>' + esc(nameOf(p.rva)) + '</b> (' + esc(p.kind) + ', ' + p.cases.length + ' handled messages, ' +
      list.length + ' sending functions) ' + info.join('; ');
    $('proc-graph').innerHTML = '<svg id="proc-svg" data-proc="' + i + '" width="' + (X2 + W + 20) + '" height="' + h + '">' + parts.join('') + '</svg>';
  }
  let selected = -1;
  function selectProc(i) {
    if (selected === i) return;
    selected = i;
    renderProc(i);
    for (const b of document.querySelectorAll('[data-proc-button]')) b.classList.toggle('selected', Number(b.dataset.procButton) === i);
    for (const n of document.querySelectorAll('#overview-svg .node.procedure')) n.classList.toggle('selected', Number(n.dataset.proc) === i);
  }
  function onGraphClick(ev) {
    const b = ev.target.closest('[data-proc-button]');
    if (b) { const i = Number(b.dataset.procButton); selectProc(i); showListing(M.procedures[i].rva); return; }
    const edge = ev.target.closest('path[data-edge]');
    if (edge) { showListing(Number(edge.dataset.site), Number(edge.dataset.site)); return; }
    const n = ev.target.closest('.node');
    if (!n) return;
    const rva = Number(n.dataset.rva);
    if (n.dataset.proc !== undefined) { selectProc(Number(n.dataset.proc)); showListing(rva); return; }
    if (n.dataset.kind === 'class') { selectProc(procIndex.get(rva)); showListing(rva); return; }
    if (n.dataset.kind === 'case') { showListing(M.procedures[selected].rva, rva); return; }
    // A sender: its listing at its first send into this procedure.
    showListing(rva, Number(n.dataset.site));
  }

  // --- C++ classes -----------------------------------------------------------
  const C = D.classes;
  function classBody(i) {
    const c = C[i];
    const out = [];
    out.push('<div>size: ' + (c.size === null ? '?' : c.size + ' bytes') +
      (c.bases.length ? '; bases: ' + c.bases.map((b) => esc(b[0]) + (b[2] === null ? '' : ' at +' + hex(b[2])) + (b[3] ? ' (virtual)' : '')).join(', ') : '') + '</div>');
    const fnList = (label, list) => list.length ? '<div>' + label + ': ' + list.map((r) => link(r)).join(', ') + '</div>' : '';
    out.push(fnList('constructors', c.constructors), fnList('destructors', c.destructors), fnList('deleting destructors', c.deleting_destructors));
    for (const v of c.vftables) {
      out.push('<div class="vftable">vftable ' + link(v.rva, nameOf(v.rva)) + (v.for ? ' for ' + esc(v.for) : '') + ' at +' + hex(v.offset) + ', ' + v.slots.length + ' slots</div>');
      out.push('<table class="slots mono">' + v.slots.map((s, k) => '<tr><td>' + k + '</td><td>' + esc(s[1]) + (s[2] ? ' (pure)' : '') + '</td><td>' + link(s[0]) + '</td></tr>').join('') + '</table>');
    }
    if (c.fields.length)
      out.push('<table class="fields mono"><tr><th>offset</th><th>size</th><th>field</th></tr>' +
        c.fields.map((f) => '<tr><td>+' + hex(f[0]) + '</td><td>' + f[1] + '</td><td>' + esc(f[2]) + '</td></tr>').join('') + '</table>');
    return out.join('');
  }
  function classNode(i, depth) {
    const c = C[i];
    const d = document.createElement('details');
    d.className = 'class';
    d.dataset.class = c.name;
    d.innerHTML = '<summary>' + esc(c.name) + (c.derived.length ? ' <span class="muted">(' + c.derived.length + ' derived)</span>' : '') + '</summary>';
    d.addEventListener('toggle', () => {
      if (!d.open || d.dataset.filled) return;
      d.dataset.filled = '1';
      const body = document.createElement('div');
      body.className = 'class-body';
      body.innerHTML = classBody(i);
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
  function edgeRow(ei) {
    const e = E[ei];
    return '<tr data-edge="' + ei + '"><td>' + esc(kindName(e)) + '</td><td class="mono">' + link(e[1], nameOf(e[1])) + '</td><td class="mono">' +
      (typeof e[3] === 'number' ? link(e[3], nameOf(e[3])) : esc(targetText(e))) + '</td><td>' + esc(e[4]) + '</td><td>' +
      esc(D.edges.exactness[e[5]]) + '</td><td>' + esc(D.edges.evidence[e[6]]) + '</td><td>' + esc(e[7]) + '</td></tr>';
  }
  const HEAD = '<tr><th>kind</th><th>from</th><th>to</th><th>label</th><th>exactness</th><th>evidence</th><th>detail</th></tr>';
  function renderEh() {
    const rows = [];
    E.forEach((e, i) => { if (kindName(e) === 'throw' || kindName(e) === 'funclet') rows.push(i); });
    $('eh-count').textContent = rows.length + ' exception edges' + (rows.length > PAGE ? ', the first ' + PAGE + ' shown (all under "All edges")' : '');
    $('eh-table').innerHTML = HEAD + rows.slice(0, PAGE).map(edgeRow).join('');
  }
  let haystack = null;
  function edgeText(e) {
    return (nameOf(e[1]) + ' ' + hex(e[1]) + ' ' + targetText(e) + ' ' + (typeof e[3] === 'number' ? hex(e[3]) : '') + ' ' + e[4] + ' ' + e[7]).toLowerCase();
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
    $('edge-count').textContent = count + ' of ' + E.length + ' edges match' + (count > PAGE ? ', the first ' + PAGE + ' shown' : '');
    $('edge-table').innerHTML = HEAD + rows.map(edgeRow).join('');
  }
  function setupEdges() {
    const counts = D.edges.kinds.map(() => 0);
    for (const e of E) counts[e[0]]++;
    $('edge-kind').innerHTML = '<option value="">all kinds</option>' +
      D.edges.kinds.map((k, i) => counts[i] ? '<option value="' + i + '">' + esc(k) + ' (' + counts[i] + ')</option>' : '').join('');
    let timer = 0;
    $('edge-kind').addEventListener('change', renderEdges);
    $('edge-filter').addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(renderEdges, 150); });
    renderEdges();
  }

  // --- search ----------------------------------------------------------------
  const base = BigInt(D.summary.image_base);
  function addressOf(q) {
    const m = /^(?:0x)?([0-9a-f`]+)$/i.exec(q);
    if (!m) return null;
    let v = BigInt('0x' + m[1].replace(/`/g, ''));
    if (v >= base) v -= base;
    return v < 0x100000000n ? Number(v) : null;
  }
  function search() {
    const q = $('search').value.trim();
    const out = [];
    if (q) {
      const rva = addressOf(q);
      if (rva !== null) out.push('<li data-go="' + rva + '" data-result="' + rva + '">' + esc(hex(rva) + ': ' + nameOf(rva)) + '</li>');
      const lq = q.toLowerCase();
      for (const n of D.names) {
        if (out.length >= 100) break;
        if (n[1].toLowerCase().includes(lq)) out.push('<li data-go="' + n[0] + '" data-result="' + n[0] + '">' + esc(n[1]) + ' <span class="muted">' + hex(n[0]) + ' ' + esc(n[3]) + '</span></li>');
      }
      if (out.length < 100)
        for (const f of fns) {
          if (out.length >= 100) break;
          if (!names.has(f[0]) && f[2].toLowerCase().includes(lq)) out.push('<li data-go="' + f[0] + '" data-result="' + f[0] + '">' + esc(f[2]) + ' <span class="muted">' + hex(f[0]) + '</span></li>');
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
