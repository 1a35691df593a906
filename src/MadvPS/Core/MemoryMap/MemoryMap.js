// Draws the memory map from the JSON in #madvps-data. Every text goes in through textContent or
// an attribute, never as markup, so nothing in a path can become HTML.
(function () {
  'use strict';
  var errors = [];
  window.addEventListener('error', function (e) {
    errors.push(String(e.message));
    document.documentElement.setAttribute('data-errors', errors.join('\n'));
  });
  var SVG = 'http://www.w3.org/2000/svg';
  var layoutLater = [];
  // Colour classes: [resident, idle (resident, not referenced), absent (mapped, not in memory)].
  var KIND = {
    file: ['#4e79a7', '#a7bcd3', '#e4ebf3'],
    anon: ['#59a14f', '#acd0a7', '#e6f1e4'],
    heap: ['#e3b51d', '#f1da8e', '#faf3d9'],
    stack: ['#e15759', '#f0abac', '#fae3e3'],
    shm: ['#b07aa1', '#d7bcd0', '#f3eaf1'],
    special: ['#8c8c8c', '#c5c5c5', '#ececec']
  };
  var SWAPPED = '#3d3d3d';
  var CLASS = { File: 'file', Anonymous: 'anon', NamedAnonymous: 'anon', Heap: 'heap', Stack: 'stack',
    SharedMemory: 'shm', Memfd: 'shm' };
  var CLASS_NAME = { file: 'file', anon: 'anonymous', heap: 'heap', stack: 'stack', shm: 'shared memory', special: 'special' };
  function cls(kind) { return CLASS[kind] || 'special'; }

  var UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  function bytes(n) {
    if (n < 0) return 'n/a';
    var v = n, u = 0;
    while (Math.abs(v) >= 1024 && u < UNITS.length - 1) { v /= 1024; u++; }
    return u === 0 ? n + ' B' : (Math.round(v * 10) / 10) + ' ' + UNITS[u];
  }
  function exact(n) { return bytes(n) + ' (' + n + ' bytes)'; }
  function pct(part, whole) { return whole > 0 ? (100 * part / whole).toFixed(1) + '%' : '0%'; }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function sv(tag, attrs, title) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (title) e.appendChild(svTitle(title));
    return e;
  }
  function svTitle(text) { var t = document.createElementNS(SVG, 'title'); t.textContent = text; return t; }
  function svText(x, y, text, anchor) {
    var t = sv('text', { x: x, y: y }); if (anchor) t.setAttribute('text-anchor', anchor);
    t.textContent = text; return t;
  }
  function shorten(text, max) {
    if (text.length <= max) return text;
    var slash = text.lastIndexOf('/');
    var tail = slash >= 0 ? text.slice(slash) : text.slice(text.length - max + 1);
    return tail.length + 1 >= max ? '\u2026' + tail.slice(tail.length - max + 1) : text.slice(0, max - tail.length - 1) + '\u2026' + tail;
  }

  var data = JSON.parse(document.getElementById('madvps-data').textContent);
  var root = document.getElementById('madvps-root');
  root.appendChild(el('h1', {}, data.title));
  root.appendChild(el('div', { 'class': 'meta' }, 'Written ' + data.generated + ' by MadvPS ' + data.version +
    ' (Export-MemoryMap). ' + data.processes.length + ' process(es).'));
  root.appendChild(legend());
  if (data.processes.length === 0) root.appendChild(el('p', {}, 'Nothing was piped in that could be drawn.'));
  root.appendChild(summary(data.processes));
  data.processes.forEach(function (p, i) { root.appendChild(section(p, i)); });

  function legend() {
    var d = el('div', { 'class': 'legend' });
    function item(colour, text) {
      var s = el('span'); var sw = el('span', { 'class': 'sw', style: 'background:' + colour }); s.appendChild(sw);
      s.appendChild(document.createTextNode(text)); d.appendChild(s);
    }
    Object.keys(KIND).forEach(function (c) { item(KIND[c][0], CLASS_NAME[c] + ' (resident)'); });
    item(KIND.anon[1], 'lighter: resident, idle in every window');
    item(KIND.anon[2], 'palest: mapped, not in memory');
    item(SWAPPED, 'swapped');
    return d;
  }

  function hostOf(p) { return p.host || '(this host)'; }

  function summary(procs) {
    var cols = [['Host', function (p) { return hostOf(p); }, 't'], ['Process', function (p) { return p.name; }, 't'],
      ['PID', function (p) { return p.pid; }], ['Mappings', function (p) { return p.mappings; }],
      ['Size', function (p) { return p.size; }, 'b'], ['Resident', function (p) { return p.resident; }, 'b'],
      ['Swapped', function (p) { return p.swapped; }, 'b'], ['Idle', function (p) { return p.idle; }, 'b'],
      ['Advised', function (p) { return p.advice.reduce(function (s, a) { return s + a.advised; }, 0); }, 'b'],
      ['Data', function (p) { return p.source; }, 't']];
    var t = el('table', { 'class': 'sortable', id: 'madvps-summary' });
    var head = el('tr');
    cols.forEach(function (c, ci) {
      var th = el('th', { 'class': c[2] === 't' ? 't' : '' }, c[0]);
      th.addEventListener('click', function () { sortBy(t, ci, th); });
      head.appendChild(th);
    });
    var thead = el('thead'); thead.appendChild(head); t.appendChild(thead);
    var body = el('tbody');
    procs.forEach(function (p, i) {
      var tr = el('tr');
      cols.forEach(function (c, ci) {
        var v = c[1](p);
        var td = el('td', { 'class': c[2] === 't' ? 't' : '', 'data-v': v });
        if (ci === 1) { var a = el('a', { href: '#p' + i }, v); td.appendChild(a); } else td.textContent = c[2] === 'b' ? bytes(v) : v;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    t.appendChild(body);
    return t;
  }

  function sortBy(table, ci, th) {
    var desc = !th.classList.contains('desc');
    Array.prototype.forEach.call(table.querySelectorAll('th'), function (h) { h.classList.remove('asc', 'desc'); });
    th.classList.add(desc ? 'desc' : 'asc');
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[ci].getAttribute('data-v'), y = b.cells[ci].getAttribute('data-v');
      var nx = Number(x), ny = Number(y);
      var r = (!isNaN(nx) && !isNaN(ny) && x !== '' && y !== '') ? nx - ny : x < y ? -1 : x > y ? 1 : 0;
      return desc ? -r : r;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }

  function section(p, index) {
    var s = el('section', { id: 'p' + index, 'data-pid': p.pid });
    s.appendChild(el('h2', {}, p.name + ' (' + p.pid + ')' + (p.host ? ' on ' + p.host : '')));
    s.appendChild(el('div', { 'class': 'meta' }, p.mappings + ' mappings, ' + bytes(p.size) + ' mapped, ' + bytes(p.resident) +
      ' resident, ' + bytes(p.swapped) + ' swapped' + (p.idle >= 0 ? ', ' + bytes(p.idle) + ' idle' : '') +
      (p.rollup ? '; smaps_rollup: Rss ' + bytes(p.rollup.rss) + ', Pss ' + bytes(p.rollup.pss) + ', Swap ' + bytes(p.rollup.swap) : '') +
      (p.source ? '. Residency from ' + p.source + '.' : '') + (p.startTime !== '0' ? ' Start time ' + p.startTime + ' ticks, boot ' + p.bootId + '.' : '')));
    if (p.blocks.length) { s.appendChild(el('h3', {}, 'Address space')); s.appendChild(addressSpace(p)); }
    if (p.backings.length) { s.appendChild(el('h3', {}, 'Where the memory is')); s.appendChild(backings(p, s)); }
    if (p.heat) { s.appendChild(el('h3', {}, 'Access over time')); s.appendChild(heat(p.heat)); }
    if (p.processAccess) { s.appendChild(el('h3', {}, 'Working set per window')); s.appendChild(windows(p.processAccess)); }
    if (p.advice.length) { s.appendChild(el('h3', {}, 'Before and after advice')); s.appendChild(advice(p.advice)); }
    return s;
  }

  // Blocks in address order, wrapped into rows; the width grows with the logarithm of the size,
  // so a page and a terabyte reservation are both visible; unmapped gaps are a narrow mark.
  function addressSpace(p) {
    var W = 1100, H = 26, ROW = 32, GAP = 7;
    var svg = sv('svg', { width: W, 'class': 'aspace' });
    var x = 0, y = 0, prevEnd = null, merged = 0;
    p.blocks.forEach(function (b) {
      var w = Math.round(8 + 9 * Math.log2(b.z / 4096 + 1));
      if (prevEnd !== null && prevEnd !== b.s) {
        if (x + GAP > W) { x = 0; y += ROW; }
        var gap = BigInt('0x' + b.s) - BigInt('0x' + prevEnd);
        svg.appendChild(sv('rect', { x: x + 2, y: y + 3, width: 2, height: H - 6, fill: '#bbb' },
          'unmapped gap of ' + bytes(Number(gap)) + ' between ' + prevEnd + ' and ' + b.s));
        x += GAP;
      }
      if (x + w > W) { x = 0; y += ROW; }
      svg.appendChild(block(b, x, y, w, H));
      if (b.n > 1) merged++;
      x += w + 1; prevEnd = b.e;
    });
    svg.setAttribute('height', y + ROW);
    var d = el('div');
    d.appendChild(svg);
    if (merged) d.appendChild(el('div', { 'class': 'note' }, p.mappings + ' mappings drawn as ' + p.blocks.length +
      ' blocks: neighbours of one kind that are small next to the rest are merged (the block says how many it holds).'));
    return d;
  }

  function block(b, x, y, w, h) {
    var c = KIND[cls(b.k)];
    var lines = [];
    if (b.p) { lines.push(b.p.join('\n') + (b.q > b.p.length ? '\n\u2026 and ' + (b.q - b.p.length) + ' more paths' : '')); }
    lines.push(b.s + '-' + b.e + '  ' + b.k + (b.c ? ' and other kinds' : '') + (b.n > 1 ? ', ' + b.n + ' mappings merged' : ''));
    lines.push('Size ' + exact(b.z));
    lines.push('Resident ' + bytes(b.r) + ' (' + pct(b.r, b.z) + '), swapped ' + bytes(b.w) + ', not in memory ' + bytes(b.a) +
      (b.i >= 0 ? ', idle ' + bytes(b.i) : '') + (b.g ? ' (from page data)' : ''));
    lines.push('Rss ' + bytes(b.x) + ', Pss ' + bytes(b.y) + ', Swap ' + bytes(b.v));
    if (b.m || b.f) lines.push((b.m || '') + (b.f ? '  ' + b.f : ''));
    var g = sv('g', { 'class': 'blk', 'data-kind': b.k }, lines.join('\n'));
    g.appendChild(sv('rect', { x: x, y: y, width: w, height: h, fill: c[2], stroke: c[0], 'stroke-width': 1 }));
    var total = b.z > 0 ? b.z : 1, cx = x + 1, inner = w - 2;
    var idle = b.i > 0 ? Math.min(b.i, b.r) : 0;
    [[b.r - idle, c[0]], [idle, c[1]], [b.w, SWAPPED]].forEach(function (seg) {
      if (seg[0] <= 0) return;
      var sw = Math.max(1, inner * seg[0] / total);
      g.appendChild(sv('rect', { x: cx, y: y + 1, width: sw, height: h - 2, fill: seg[1] }));
      cx += sw;
    });
    if (b.n > 1 && w >= 30) g.appendChild(svText(x + w / 2, y + h / 2 + 3, '\u00d7' + b.n, 'middle'));
    return g;
  }

  // Resident (active, idle) and swapped bytes by backing, one bar each on one linear scale.
  function backings(p, s) {
    var LABEL = 330, BAR = 560, ROW = 18, H = 13;
    var rows = p.backings;
    var max = rows.reduce(function (m, r) { return Math.max(m, r.r + r.w); }, 1);
    var svg = sv('svg', { width: LABEL + BAR + 260, height: rows.length * ROW + 4, 'class': 'backings' });
    var bars = sv('g', { 'shape-rendering': 'crispEdges' });
    var areaResident = 0, areaSwapped = 0;
    rows.forEach(function (r, i) {
      var y = i * ROW + 2, c = KIND[cls(r.k)];
      var g = sv('g', {}, r.label + '\n' + r.k + (r.b ? ', ' + r.b + ' backings' : '') + ', ' + r.n + ' mapping(s)\nResident ' + exact(r.r) +
        (r.i > 0 ? ', of which idle ' + bytes(r.i) : '') + '\nSwapped ' + exact(r.w));
      g.appendChild(svText(0, y + 10, shorten(r.label, 56)));
      var x = LABEL;
      [[r.r - r.i, c[0]], [r.i, c[1]], [r.w, SWAPPED]].forEach(function (seg, si) {
        var w = BAR * seg[0] / max;
        if (w <= 0) return;
        bars.appendChild(sv('rect', { x: x, y: y, width: w, height: H, fill: seg[1] }, r.label + ': ' + exact(seg[0])));
        if (si < 2) areaResident += w * H; else areaSwapped += w * H;
        x += w;
      });
      g.appendChild(svText(LABEL + BAR + 8, y + 10, bytes(r.r) + ' resident' + (r.w > 0 ? ', ' + bytes(r.w) + ' swapped' : '')));
      svg.appendChild(g);
    });
    svg.appendChild(bars);
    s.setAttribute('data-area-resident', areaResident.toFixed(1));
    s.setAttribute('data-area-swapped', areaSwapped.toFixed(1));
    layoutLater.push(function () {
      var r = bars.getBoundingClientRect();
      s.setAttribute('data-bars-rect', [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height].map(Math.round).join(','));
    });
    return svg;
  }

  function heatColour(share) {
    if (share <= 0) return '#f4f4f4';
    var t = Math.min(1, share);
    var from = [222, 235, 247], to = [8, 48, 107];
    return 'rgb(' + from.map(function (f, i) { return Math.round(f + (to[i] - f) * Math.sqrt(t)); }).join(',') + ')';
  }

  // Windows (columns, oldest left) by mappings (rows, address order), coloured by the share of
  // the resident bytes referenced in the window.
  function heat(h) {
    var LABEL = 330, CELL = Math.max(3, Math.min(24, Math.floor(700 / Math.max(1, h.windows)))), ROW = 12;
    var svg = sv('svg', { width: LABEL + CELL * h.windows + 10, height: h.rows.length * ROW + 18, 'class': 'heat' });
    for (var wi = 0; wi < h.windows; wi++) if (h.windows <= 30 || wi % 10 === 0) svg.appendChild(svText(LABEL + wi * CELL + CELL / 2, 10, String(wi + 1), 'middle'));
    h.rows.forEach(function (r, i) {
      var y = 14 + i * ROW;
      var g = sv('g', {}, r.label + '\n' + r.s + '-' + r.e + (r.n > 1 ? ' (' + r.n + ' mappings)' : '') + '\nRss ' + bytes(r.x) +
        (r.i >= 0 ? ', idle ' + bytes(r.i) : '') + '\nReferenced per window: ' + r.ref.map(bytes).join(' | '));
      g.appendChild(svText(0, y + 9, shorten(r.label, 56)));
      var offset = h.windows - r.ref.length;
      r.ref.forEach(function (v, j) {
        var share = r.x > 0 ? v / r.x : (v > 0 ? 1 : 0);
        g.appendChild(sv('rect', { x: LABEL + (offset + j) * CELL, y: y, width: CELL - 1, height: ROW - 1, fill: heatColour(share) },
          'window ' + (offset + j + 1) + ': ' + bytes(v) + ' referenced, ' + pct(v, r.x) + ' of Rss'));
      });
      svg.appendChild(g);
    });
    var d = el('div'); d.appendChild(svg);
    d.appendChild(el('div', { 'class': 'note' }, h.windows + ' window(s) of ' + h.window + ' s; ' + h.rows.length + ' of ' + h.measured +
      ' measured blocks shown (the most resident). Darker: more of the resident bytes referenced in that window.'));
    return d;
  }

  function windows(a) {
    var BAR = 24, HMAX = 60;
    var svg = sv('svg', { width: Math.max(200, a.referenced.length * BAR + 10), height: HMAX + 16 });
    a.referenced.forEach(function (v, i) {
      var h = a.rss > 0 ? Math.max(1, HMAX * Math.min(1, v / a.rss)) : 0;
      svg.appendChild(sv('rect', { x: i * BAR, y: HMAX - h, width: BAR - 3, height: h, fill: KIND.file[0] },
        'window ' + (i + 1) + ': ' + bytes(v) + ' referenced of ' + bytes(a.rss) + ' resident'));
    });
    svg.appendChild(svText(0, HMAX + 12, 'working set ' + bytes(a.workingSet) + ', idle ' + bytes(a.idle) + ' (' + a.mappingType + ', windows of ' + a.window + ' s)'));
    return svg;
  }

  function advice(list) {
    var d = el('div');
    var t = el('table');
    var head = el('tr');
    ['Advice', 'From', 'Ranges', 'Requested', 'Advised', 'Skipped', 'Failed', 'Rss before', 'Rss after', 'Swap before', 'Swap after', 'Refaulted']
      .forEach(function (c, i) { head.appendChild(el('th', { 'class': i < 2 ? 't' : '' }, c)); });
    t.appendChild(head);
    list.forEach(function (a) {
      var tr = el('tr');
      [a.advice, a.source, a.ranges, bytes(a.requested), bytes(a.advised), bytes(a.skipped) + ' (' + a.rangesSkipped + ')',
        bytes(a.failed) + ' (' + a.rangesFailed + ')', bytes(a.rssBefore), bytes(a.rssAfter), bytes(a.swapBefore), bytes(a.swapAfter), bytes(a.refaulted)]
        .forEach(function (v, i) { tr.appendChild(el('td', { 'class': i < 2 ? 't' : '' }, String(v))); });
      t.appendChild(tr);
    });
    d.appendChild(t);
    list.forEach(function (a) {
      if (a.rssBefore < 0) return;
      var max = Math.max(a.rssBefore, a.rssAfter, a.swapBefore, a.swapAfter, 1), LABEL = 110, BAR = 500;
      var svg = sv('svg', { width: LABEL + BAR + 120, height: 4 * 16 + 4, 'shape-rendering': 'crispEdges' });
      [['Rss before', a.rssBefore, KIND.anon[0]], ['Rss after', a.rssAfter, KIND.anon[0]], ['Swap before', a.swapBefore, SWAPPED], ['Swap after', a.swapAfter, SWAPPED]]
        .forEach(function (r, i) {
          var y = i * 16 + 2;
          svg.appendChild(svText(0, y + 10, a.advice + ' ' + r[0]));
          svg.appendChild(sv('rect', { x: LABEL, y: y, width: Math.max(1, BAR * r[1] / max), height: 12, fill: r[2] }, r[0] + ': ' + exact(r[1])));
          svg.appendChild(svText(LABEL + BAR + 6, y + 10, bytes(r[1])));
        });
      d.appendChild(svg);
    });
    return d;
  }

  // Positions are read once everything is in the page (one layout, not one per chart).
  function finish() {
    layoutLater.forEach(function (f) { f(); });
    document.documentElement.setAttribute('data-render-ms', performance.now().toFixed(1));
    if (errors.length) document.documentElement.setAttribute('data-errors', errors.join('\n'));
  }
  finish();
})();
