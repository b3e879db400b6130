// The network dashboard: the oracle's public JSON drawn as a map of H3 cells,
// the epochs, a rewards chart and a page per device. Plain browser JavaScript,
// no build step; maplibre-gl and h3-js are served by the oracle itself.
'use strict';

const api = async (path) => {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
};

const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'class') node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child));
  return node;
};

const short = (text) => (text && text.length > 12 ? `${text.slice(0, 4)}…${text.slice(-4)}` : text || '');
const deviceLink = (mint) => el('a', { href: `#/devices/${mint}` }, el('code', {}, short(mint)));

/** A bar chart of `values` ({label, value}) as inline SVG. */
function barChart(container, values, unit) {
  container.replaceChildren();
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  const width = 600;
  const height = 160;
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  const max = Math.max(1, ...values.map((v) => v.value));
  const step = width / Math.max(values.length, 1);
  values.forEach((v, i) => {
    const barHeight = Math.round((v.value / max) * (height - 30));
    const rect = document.createElementNS(ns, 'rect');
    rect.setAttribute('x', String(i * step + step * 0.15));
    rect.setAttribute('y', String(height - 18 - barHeight));
    rect.setAttribute('width', String(step * 0.7));
    rect.setAttribute('height', String(barHeight));
    const title = document.createElementNS(ns, 'title');
    title.textContent = `${v.label}: ${v.value.toLocaleString()} ${unit}`;
    rect.append(title);
    const label = document.createElementNS(ns, 'text');
    label.setAttribute('x', String(i * step + step / 2));
    label.setAttribute('y', String(height - 5));
    label.setAttribute('text-anchor', 'middle');
    label.textContent = v.label;
    svg.append(rect, label);
  });
  svg.dataset.bars = String(values.length);
  container.append(svg);
}

// ---- the map ----------------------------------------------------------------

let map;
let mapReady;

/** A blank style: no tiles, no network access. */
const BLANK_STYLE = {
  version: 8,
  sources: {},
  layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#eef1f4' } }],
};

function devicesAsCells(devices) {
  const features = [];
  for (const d of devices) {
    if (!d.cell || !h3.isValidCell(d.cell)) continue;
    const ring = h3.cellToBoundary(d.cell, true);
    features.push({
      type: 'Feature',
      properties: {
        mint: d.mint,
        status: !d.active ? 'suspended' : d.last_reward > 0 ? 'earning' : 'idle',
        reward: d.last_reward,
      },
      geometry: { type: 'Polygon', coordinates: [ring] },
    });
  }
  return { type: 'FeatureCollection', features };
}

/** The centre of each cell, with its properties. */
function centres(cells) {
  return {
    type: 'FeatureCollection',
    features: cells.features.map((f) => {
      const ring = f.geometry.coordinates[0].slice(0, -1);
      const lng = ring.reduce((sum, c) => sum + c[0], 0) / ring.length;
      const lat = ring.reduce((sum, c) => sum + c[1], 0) / ring.length;
      return { type: 'Feature', properties: f.properties, geometry: { type: 'Point', coordinates: [lng, lat] } };
    }),
  };
}

function drawMap(devices) {
  const cells = devicesAsCells(devices);
  document.getElementById('unplaced').textContent =
    devices.length > cells.features.length
      ? `${devices.length - cells.features.length} device(s) without a location`
      : '';
  if (!map) {
    map = new maplibregl.Map({
      container: 'map',
      style: BLANK_STYLE,
      center: [0, 20],
      zoom: 1,
      attributionControl: false,
    });
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
    mapReady = new Promise((resolve) => map.on('load', resolve));
  }
  mapReady.then(() => {
    if (map.getSource('cells')) {
      map.getSource('cells').setData(cells);
      map.getSource('dots').setData(centres(cells));
    } else {
      map.addSource('cells', { type: 'geojson', data: cells });
      map.addLayer({
        id: 'cells',
        type: 'fill',
        source: 'cells',
        paint: {
          'fill-color': [
            'match', ['get', 'status'],
            'earning', '#2a9d8f',
            'idle', '#e9c46a',
            '#9a9a9a',
          ],
          'fill-opacity': 0.75,
        },
      });
      // A dot at each cell's centre: a cell is metres wide, the network kilometres.
      map.addSource('dots', { type: 'geojson', data: centres(cells) });
      map.addLayer({
        id: 'dots',
        type: 'circle',
        source: 'dots',
        paint: {
          'circle-radius': 5,
          'circle-color': ['match', ['get', 'status'], 'earning', '#2a9d8f', 'idle', '#e9c46a', '#9a9a9a'],
          'circle-stroke-color': '#1d2733',
          'circle-stroke-width': 0.75,
        },
      });
      map.on('click', 'dots', (e) => {
        location.hash = `#/devices/${e.features[0].properties.mint}`;
      });
      map.addLayer({
        id: 'cell-edges',
        type: 'line',
        source: 'cells',
        paint: { 'line-color': '#1d2733', 'line-width': 0.5 },
      });
      map.on('click', 'cells', (e) => {
        location.hash = `#/devices/${e.features[0].properties.mint}`;
      });
      map.on('mouseenter', 'cells', () => (map.getCanvas().style.cursor = 'pointer'));
      map.on('mouseleave', 'cells', () => (map.getCanvas().style.cursor = ''));
    }
    const coords = cells.features.flatMap((f) => f.geometry.coordinates[0]);
    if (coords.length) {
      const lngs = coords.map((c) => c[0]);
      const lats = coords.map((c) => c[1]);
      map.fitBounds(
        [[Math.min(...lngs), Math.min(...lats)], [Math.max(...lngs), Math.max(...lats)]],
        { padding: 40, duration: 0, maxZoom: 14 },
      );
    }
    map.once('idle', () => {
      document.body.dataset.mapCells = String(cells.features.length);
    });
  });
}

// ---- the overview -----------------------------------------------------------

function drawEpochs(epochs) {
  const body = document.querySelector('#epochs tbody');
  body.replaceChildren();
  for (const e of epochs) {
    const refused = Object.entries(e.refused || {});
    const finalized = e.finalized_root && e.finalized_root === e.root;
    body.append(
      el('tr', { 'data-epoch': e.epoch },
        el('td', {}, e.epoch),
        el('td', {}, e.state),
        el('td', { class: 'num' }, e.reports),
        el('td', {}, refused.length
          ? el('span', { class: 'refused' }, refused.map(([rule, n]) => `${rule} ${n}`).join(', '))
          : '—'),
        el('td', { class: 'num' }, e.rewards_paid !== undefined ? e.rewards_paid.toLocaleString() : '—'),
        el('td', { class: 'num' }, e.devices_rewarded ?? '—'),
        el('td', {}, e.root ? el('code', { title: e.root }, short(e.root)) : '—'),
        el('td', {}, finalized ? 'finalized' : e.vote_signature ? 'voted' : '—'),
        el('td', {}, e.root ? el('a', { href: `/v1/epochs/${e.epoch}/bundle` }, 'bundle') : '—'),
      ),
    );
  }
  const scored = epochs.filter((e) => e.rewards_paid !== undefined).reverse();
  barChart(
    document.getElementById('rewards-chart'),
    scored.map((e) => ({ label: String(e.epoch), value: e.rewards_paid })),
    'base units',
  );
}

function drawDeviceTable(devices) {
  const body = document.querySelector('#devices tbody');
  body.replaceChildren();
  for (const d of devices) {
    body.append(
      el('tr', {},
        el('td', {}, deviceLink(d.mint)),
        el('td', {}, d.cell ? el('code', {}, d.cell) : '—'),
        el('td', {}, d.active ? 'active' : 'suspended'),
        el('td', { class: 'num' }, d.last_reward.toLocaleString()),
        el('td', { class: 'num' }, d.cumulative.toLocaleString()),
      ),
    );
  }
}

async function showOverview() {
  document.getElementById('device').hidden = true;
  document.getElementById('overview').hidden = false;
  const [devices, epochs] = await Promise.all([api('/v1/devices'), api('/v1/epochs?limit=24')]);
  document.getElementById('network').textContent =
    `${devices.category} network · ${devices.devices.length} devices`;
  drawMap(devices.devices);
  drawEpochs(epochs.epochs);
  drawDeviceTable(devices.devices);
  document.body.dataset.view = 'overview';
}

// ---- a device -----------------------------------------------------------------

async function showReports(mint, epoch) {
  const title = document.getElementById('reports-title');
  title.textContent = `Reports of epoch ${epoch}`;
  const { reports } = await api(`/v1/devices/${mint}/reports?epoch=${epoch}`);
  const body = document.querySelector('#device-reports tbody');
  body.replaceChildren();
  for (const r of reports) {
    body.append(
      el('tr', { class: r.status === 'refused' ? 'refused' : '' },
        el('td', {}, r.kind),
        el('td', {}, new Date(r.timestamp_ms).toISOString().replace('T', ' ').slice(0, 19)),
        el('td', {}, r.status),
        el('td', {}, r.rule || ''),
        el('td', {}, r.detail || ''),
      ),
    );
  }
  if (!reports.length) body.append(el('tr', {}, el('td', { colspan: 5 }, 'no reports kept')));
  document.body.dataset.reports = String(reports.length);
}

async function showDevice(mint) {
  document.getElementById('overview').hidden = true;
  document.getElementById('device').hidden = false;
  const d = await api(`/v1/devices/${mint}/history?limit=24`);
  document.getElementById('network').textContent = 'device';
  document.getElementById('device-title').replaceChildren('Device ', el('code', {}, d.mint));
  const facts = document.getElementById('device-facts');
  facts.replaceChildren(
    el('dt', {}, 'device key'), el('dd', {}, el('code', {}, d.device_key)),
    el('dt', {}, 'cell'), el('dd', {}, d.cell ? el('code', {}, d.cell) : 'no location'),
    el('dt', {}, 'status'), el('dd', {}, d.active ? 'active' : 'suspended'),
  );
  const locations = document.querySelector('#device-locations tbody');
  locations.replaceChildren();
  for (const l of d.locations) {
    locations.append(
      el('tr', {},
        el('td', {}, l.cell ? el('code', {}, l.cell) : 'no location'),
        el('td', {}, new Date(l.seen_ms).toISOString().replace('T', ' ').slice(0, 19)),
      ),
    );
  }
  if (!d.locations.length) locations.append(el('tr', {}, el('td', { colspan: 2 }, 'not recorded yet')));
  const epochs = [...d.epochs].reverse();
  barChart(
    document.getElementById('device-chart'),
    epochs.map((e) => ({ label: String(e.epoch), value: e.reward })),
    'base units',
  );
  const body = document.querySelector('#device-epochs tbody');
  body.replaceChildren();
  for (const e of d.epochs) {
    const link = el('a', { href: '#', 'data-epoch': e.epoch }, e.epoch);
    link.addEventListener('click', (event) => {
      event.preventDefault();
      showReports(d.mint, e.epoch);
    });
    body.append(
      el('tr', {},
        el('td', {}, link),
        el('td', { class: 'num' }, e.scored ? e.score.toLocaleString() : 'not scored'),
        el('td', { class: 'num' }, e.reward.toLocaleString()),
        el('td', { class: e.refused ? 'num refused' : 'num' }, e.refused),
      ),
    );
  }
  // The latest epoch with a refusal says most about why a device earns less.
  const shown = d.epochs.find((e) => e.refused > 0) || d.epochs[0];
  if (shown) await showReports(d.mint, shown.epoch);
  document.body.dataset.view = 'device';
}

// ---- routing ------------------------------------------------------------------

async function route() {
  const device = location.hash.match(/^#\/devices\/([1-9A-HJ-NP-Za-km-z]{32,44})$/);
  try {
    if (device) await showDevice(device[1]);
    else await showOverview();
    document.getElementById('health').textContent = '';
  } catch (e) {
    document.getElementById('health').textContent = `could not read the oracle: ${e.message}`;
  }
}

window.addEventListener('hashchange', route);
route();
setInterval(() => {
  if (document.body.dataset.view === 'overview') route();
}, 30_000);
