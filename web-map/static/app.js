// The CSDI map viewer: every layer of /api/layers drawn with the server's
// style for them (/styles/{ids}.json), whose sources all point at one
// composite TileJSON, so each tile of the view is one request for every
// layer. There is no basemap: the server has no internet and needs none.
//
// For tests: window.csdiMap is the map; window.csdiReady turns true (and
// <body data-ready="true">) once the first load is drawn; window.csdiError
// holds the message of a failure that stopped the viewer.

// Hong Kong, for when no layer has bounds yet.
const HK_BOUNDS = [[113.82, 22.15], [114.44, 22.57]];

const statusEl = document.getElementById('status');

function setStatus(text, isError = false) {
  statusEl.textContent = text;
  statusEl.classList.toggle('error', isError);
}

function fail(message) {
  window.csdiError = message;
  setStatus(message, true);
  console.error(message);
}

// The element builder keeps every server-supplied string as text, never HTML.
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  e.append(...children.filter((c) => c !== null && c !== undefined));
  return e;
}

// Accepts [[minLon,minLat],[maxLon,maxLat]], [minLon,minLat,maxLon,maxLat]
// and orb's {"Min":[..],"Max":[..]}; anything else (an empty layer) is null.
function normBounds(b) {
  if (!b) return null;
  let r = null;
  if (Array.isArray(b) && b.length === 2 && Array.isArray(b[0])) r = [b[0][0], b[0][1], b[1][0], b[1][1]];
  else if (Array.isArray(b) && b.length === 4) r = b;
  else if (b.Min && b.Max) r = [b.Min[0], b.Min[1], b.Max[0], b.Max[1]];
  if (!r || !r.every(Number.isFinite) || r[0] > r[2] || r[1] > r[3]) return null;
  if (r[0] === 0 && r[1] === 0 && r[2] === 0 && r[3] === 0) return null;
  return r;
}

function unionBounds(list) {
  const bs = list.map((l) => l.bbox).filter(Boolean);
  if (bs.length === 0) return HK_BOUNDS;
  return [
    [Math.min(...bs.map((b) => b[0])), Math.min(...bs.map((b) => b[1]))],
    [Math.max(...bs.map((b) => b[2])), Math.max(...bs.map((b) => b[3]))],
  ];
}

// Keeps the fitted layers clear of the side panel where there is room for it.
function fitPadding() {
  if (window.innerWidth > 600) return { top: 20, bottom: 20, left: 300, right: 20 };
  // The panel is at the bottom (app.css): 35% of the height plus its margin.
  return { top: 10, bottom: Math.round(window.innerHeight * 0.35) + 46, left: 10, right: 10 };
}

function formatValue(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function popupContent(layer, feature) {
  const props = feature.properties || {};
  // The layer's field order first, then anything the tile has beyond it.
  const names = (layer.fields || []).map((f) => f.name).filter((n) => n in props);
  for (const n of Object.keys(props)) if (!names.includes(n)) names.push(n);
  const rows = names.map((n) => el('tr', {}, el('th', {}, n), el('td', {}, formatValue(props[n]))));
  if (feature.id !== undefined) rows.unshift(el('tr', {}, el('th', {}, 'id'), el('td', {}, String(feature.id))));
  return el('div', { class: 'popup' },
    el('h3', {}, layer.title || layer.id, layer.title_zh ? el('span', { class: 'zh', lang: 'zh-Hant' }, ` ${layer.title_zh}`) : null),
    el('div', { class: 'scroll' }, el('table', {}, el('tbody', {}, ...rows))));
}

function layerItem(layer, color, onToggle) {
  const box = el('input', { type: 'checkbox', 'data-layer': layer.id });
  box.checked = true;
  box.addEventListener('change', () => onToggle(box.checked));
  const count = Number(layer.feature_count || 0).toLocaleString('en');
  const meta = [`${count} features 個要素`, layer.department].filter(Boolean).join(' · ');
  const label = el('label', { title: layer.description || '' },
    box,
    el('span', { class: `swatch ${layer.geometry_type}`, style: `background:${color}` }),
    el('span', { class: 'names' },
      el('span', { class: 'title' }, layer.title || layer.id),
      layer.title_zh ? el('span', { class: 'title-zh', lang: 'zh-Hant' }, layer.title_zh) : null,
      el('span', { class: 'meta' }, meta)));
  return el('li', { 'data-layer': layer.id }, label);
}

async function fetchLayers() {
  const res = await fetch('/api/layers', { headers: { Accept: 'application/json' } });
  if (!res.ok) throw new Error(`GET /api/layers: HTTP ${res.status}`);
  const list = await res.json();
  if (!Array.isArray(list)) throw new Error('GET /api/layers: expected a JSON array');
  return list.map((l) => ({ ...l, bbox: normBounds(l.bounds) }));
}

// Fetched here rather than by MapLibre so that a failure stops the viewer
// with a message instead of a map that never loads.
async function fetchStyle(layers) {
  // Ids are lower-case identifiers (catalog.ValidateID): nothing to escape.
  const url = `/styles/${layers.map((l) => l.id).join(',')}.json`;
  const res = await fetch(url, { headers: { Accept: 'application/json' } });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return res.json();
}

// An empty catalog has no style to ask for: the background alone.
const EMPTY_STYLE = {
  version: 8,
  sources: {},
  layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#dfe7ea' } }],
};

// The colour the style gives a style layer, for the swatch in the panel.
function colorOf(map, styleLayer) {
  const prop = { fill: 'fill-color', line: 'line-color', circle: 'circle-color' }[styleLayer.type];
  const c = prop && map.getPaintProperty(styleLayer.id, prop);
  return typeof c === 'string' ? c : '#7f7f7f';
}

// The upload form: a department's token and a file make a new layer
// (POST /api/layers) or, for a layer id that exists, its next version
// (PUT /api/layers/{id}/data). The import runs on the server; the form
// follows its job until the report, then reloads the viewer so the new
// version draws, and shows the report again after the reload.
const UPLOAD_RESULT = 'csdi-upload-result';

function reportText(job) {
  const r = job.report || {};
  const lines = [];
  if (job.state === 'done') {
    lines.push(`Layer ${job.layer}: ${Number(r.imported || 0).toLocaleString('en')} features imported 已匯入` +
      (r.version ? ` (version ${r.version})` : ''));
  } else {
    lines.push(`Layer ${job.layer}: import failed 匯入失敗: ${job.error || r.error || 'unknown error'}`);
  }
  if (r.read !== undefined) lines.push(`read ${r.read}, repaired ${r.repaired || 0}, rejected ${r.rejected || 0}; ${r.format || ''} in ${r.source_crs || '?'}`);
  for (const p of (r.rejects || []).slice(0, 5)) lines.push(`  feature ${p.feature}: ${p.reason}`);
  return lines.join('\n');
}

function setupUpload(byId) {
  const form = document.getElementById('upload-form');
  const out = document.getElementById('upload-status');
  const show = (text, isError = false) => {
    out.textContent = text;
    out.classList.toggle('error', isError);
  };
  form.elements.token.value = sessionStorage.getItem('csdi-token') || '';
  const last = sessionStorage.getItem(UPLOAD_RESULT);
  if (last) {
    sessionStorage.removeItem(UPLOAD_RESULT);
    document.getElementById('upload').open = true;
    show(last);
  }
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const token = form.elements.token.value.trim();
    const id = form.elements.id.value.trim();
    const body = new FormData();
    for (const name of ['title', 'title_zh', 'crs']) {
      const v = form.elements[name].value.trim();
      if (v) body.append(name, v);
    }
    if (form.elements.strict.checked) body.append('strict', 'true');
    const exists = byId.has(id);
    if (!exists) body.append('id', id);
    body.append('file', form.elements.file.files[0]);
    const url = exists ? `/api/layers/${encodeURIComponent(id)}/data` : '/api/layers';
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      show(exists ? `Uploading new data for ${id}… 上載中…` : `Uploading ${id}… 上載中…`);
      const res = await fetch(url, { method: exists ? 'PUT' : 'POST', body, headers: { Authorization: `Bearer ${token}` } });
      const answer = await res.json().catch(() => ({}));
      if (res.status !== 202) {
        show(`Upload refused (HTTP ${res.status}) 上載被拒: ${answer.error || res.statusText}`, true);
        return;
      }
      sessionStorage.setItem('csdi-token', token);
      for (;;) {
        await new Promise((r) => setTimeout(r, 400));
        const jr = await fetch(`/api/imports/${encodeURIComponent(answer.job)}`);
        if (!jr.ok) throw new Error(`GET /api/imports/${answer.job}: HTTP ${jr.status}`);
        const job = await jr.json();
        if (job.state === 'done') {
          sessionStorage.setItem(UPLOAD_RESULT, reportText(job));
          location.reload();
          return;
        }
        if (job.state === 'failed') {
          show(reportText(job), true);
          return;
        }
        const p = job.progress || {};
        const pct = p.size && p.bytes ? ` ${Math.round((100 * p.bytes) / p.size)}%` : '';
        show(`${job.state} ${p.stage || ''}${pct}: ${Number(p.read || 0).toLocaleString('en')} features read 已讀取`);
      }
    } catch (err) {
      show(`Upload failed 上載失敗: ${err.message}`, true);
    } finally {
      button.disabled = false;
    }
  });
}

async function main() {
  const maplibregl = window.maplibregl;
  if (!maplibregl) {
    fail('Map library missing: the server was built without the MapLibre files (run "make web", then rebuild). ' +
      '地圖程式庫缺失：請先執行 "make web" 再重新建置。');
    return;
  }
  const layers = await fetchLayers();
  const byId = new Map(layers.map((l) => [l.id, l]));
  setupUpload(byId);
  const style = layers.length ? await fetchStyle(layers) : EMPTY_STYLE;
  const hasHash = /^#\d/.test(location.hash);
  const map = new maplibregl.Map({
    container: 'map',
    style,
    bounds: hasHash ? undefined : unionBounds(layers),
    fitBoundsOptions: { padding: fitPadding(), maxZoom: 16 }, // one point must not zoom to 22
    hash: true,
    attributionControl: { compact: true },
  });
  window.csdiMap = map;
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl(), 'bottom-right');
  map.on('error', (e) => console.error('map:', e.error?.message || e));
  // Listened for now: with every layer in the style from the start, the
  // first 'idle' can come in the same frame as 'load', before the code
  // after "await" runs.
  const idle = map.once('idle');

  await map.once('load');
  // The style names each data layer's source by its id (tiles/tilejson.go)
  // and draws polygons under lines under points; the panel lists the layers
  // in that order too.
  const byStyleLayer = new Map(); // style layer id -> data layer
  const styleLayersOf = new Map(); // data layer id -> its style layers
  for (const sl of map.getStyle().layers) {
    const layer = byId.get(sl.source);
    if (!layer) continue;
    byStyleLayer.set(sl.id, layer);
    if (!styleLayersOf.has(layer.id)) styleLayersOf.set(layer.id, []);
    styleLayersOf.get(layer.id).push(sl);
  }
  const list = document.getElementById('layers');
  let popup = null;
  for (const [id, sls] of styleLayersOf) {
    const layer = byId.get(id);
    list.append(layerItem(layer, colorOf(map, sls[0]), (on) => {
      for (const sl of sls) map.setLayoutProperty(sl.id, 'visibility', on ? 'visible' : 'none');
      if (!on && popup?.csdiLayer === id) popup.remove();
    }));
  }
  if (layers.length === 0) list.append(el('li', {}, 'No layers yet. 暫無圖層。'));

  const queryable = () => [...byStyleLayer.keys()];
  // The exact pixel first, so the feature on top wins; then a few pixels
  // around it, so thin lines and small points are easy to hit.
  function featureAt(p) {
    const exact = map.queryRenderedFeatures(p, { layers: queryable() });
    if (exact.length) return exact[0];
    const r = 4;
    return map.queryRenderedFeatures([[p.x - r, p.y - r], [p.x + r, p.y + r]], { layers: queryable() })[0];
  }
  map.on('click', (e) => {
    const f = featureAt(e.point);
    popup?.remove();
    popup = null;
    if (!f) return;
    const layer = byStyleLayer.get(f.layer.id);
    popup = new maplibregl.Popup({ maxWidth: '380px' })
      .setLngLat(e.lngLat)
      .setDOMContent(popupContent(layer, f))
      .addTo(map);
    popup.csdiLayer = layer.id;
  });
  map.on('mousemove', (e) => {
    map.getCanvas().style.cursor = featureAt(e.point) ? 'pointer' : '';
  });

  await idle;
  // Several layers' attributions make a long line over the map: start folded
  // behind the (i) button, which MapLibre leaves open at first.
  document.querySelector('.maplibregl-ctrl-attrib.maplibregl-compact-show')?.classList.remove('maplibregl-compact-show');
  setStatus('');
  window.csdiReady = true;
  document.body.dataset.ready = 'true';
}

main().catch((err) => fail(`Viewer failed to start: ${err.message} 地圖載入失敗`));
