// The CSDI map viewer: every layer of /api/layers drawn from the server's
// vector tiles, with no basemap (the server has no internet and needs none).
//
// For tests: window.csdiMap is the map; window.csdiReady turns true (and
// <body data-ready="true">) once the first load is drawn; window.csdiError
// holds the message of a failure that stopped the viewer.

// Hong Kong, for when no layer has bounds yet.
const HK_BOUNDS = [[113.82, 22.15], [114.44, 22.57]];

// Distinct, colour-blind-friendly-ish colours; layers take them in order.
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd',
  '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];

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

// For the one place MapLibre takes HTML: source attributions.
function escapeHTML(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
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

// Style layers for one data layer. "$type" matches Multi* geometries too, and
// a mixed layer ("Geometry") gets all three kinds.
function styleLayers(layer, color) {
  const src = { source: layer.id, 'source-layer': layer.id };
  const kind = layer.geometry_type;
  const out = [];
  if (kind === 'Polygon' || kind === 'Geometry') {
    out.push({ id: `${layer.id}:fill`, type: 'fill', ...src, filter: ['==', '$type', 'Polygon'],
      paint: { 'fill-color': color, 'fill-opacity': 0.35 } });
    out.push({ id: `${layer.id}:outline`, type: 'line', ...src, filter: ['==', '$type', 'Polygon'],
      paint: { 'line-color': color, 'line-width': 1.2 } });
  }
  if (kind === 'LineString' || kind === 'Geometry') {
    out.push({ id: `${layer.id}:line`, type: 'line', ...src, filter: ['==', '$type', 'LineString'],
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: { 'line-color': color, 'line-width': 2.5 } });
  }
  if (kind === 'Point' || kind === 'Geometry') {
    out.push({ id: `${layer.id}:circle`, type: 'circle', ...src, filter: ['==', '$type', 'Point'],
      paint: { 'circle-color': color, 'circle-radius': 5, 'circle-stroke-color': '#fff', 'circle-stroke-width': 1.5 } });
  }
  return out;
}

// Draw order: polygons under lines under points, whatever the API order.
const RANK = { Polygon: 0, Geometry: 1, LineString: 2, Point: 3 };

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

async function main() {
  const maplibregl = window.maplibregl;
  if (!maplibregl) {
    fail('Map library missing: the server was built without the MapLibre files (run "make web", then rebuild). ' +
      '地圖程式庫缺失：請先執行 "make web" 再重新建置。');
    return;
  }
  const layers = await fetchLayers();
  const hasHash = /^#\d/.test(location.hash);
  const map = new maplibregl.Map({
    container: 'map',
    style: {
      version: 8,
      sources: {},
      layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#dfe7ea' } }],
    },
    bounds: hasHash ? undefined : unionBounds(layers),
    fitBoundsOptions: { padding: fitPadding(), maxZoom: 16 }, // one point must not zoom to 22
    hash: true,
    attributionControl: { compact: true },
  });
  window.csdiMap = map;
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl(), 'bottom-right');
  map.on('error', (e) => console.error('map:', e.error?.message || e));

  const byStyleLayer = new Map(); // style layer id -> data layer
  const list = document.getElementById('layers');
  const ordered = layers.map((l, i) => ({ layer: l, color: PALETTE[i % PALETTE.length] }))
    .sort((a, b) => (RANK[a.layer.geometry_type] ?? 1) - (RANK[b.layer.geometry_type] ?? 1));
  let popup = null;

  await map.once('load');
  for (const { layer, color } of ordered) {
    const source = { type: 'vector', tiles: [`${location.origin}/tiles/${encodeURIComponent(layer.id)}/{z}/{x}/{y}.mvt`] };
    if (layer.bbox) source.bounds = layer.bbox;
    if (layer.attribution) source.attribution = escapeHTML(layer.attribution);
    map.addSource(layer.id, source);
    const ids = [];
    for (const sl of styleLayers(layer, color)) {
      map.addLayer(sl);
      ids.push(sl.id);
      byStyleLayer.set(sl.id, layer);
    }
    list.append(layerItem(layer, color, (on) => {
      for (const id of ids) map.setLayoutProperty(id, 'visibility', on ? 'visible' : 'none');
      if (!on && popup?.csdiLayer === layer.id) popup.remove();
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

  await map.once('idle');
  // Several layers' attributions make a long line over the map: start folded
  // behind the (i) button, which MapLibre leaves open at first.
  document.querySelector('.maplibregl-ctrl-attrib.maplibregl-compact-show')?.classList.remove('maplibregl-compact-show');
  setStatus('');
  window.csdiReady = true;
  document.body.dataset.ready = 'true';
}

main().catch((err) => fail(`Viewer failed to start: ${err.message} 地圖載入失敗`));
