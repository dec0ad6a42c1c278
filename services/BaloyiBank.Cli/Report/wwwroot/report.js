// BaloyiBank dashboards: every figure comes from the JSON endpoints, which read the warehouse's reporting views.
// Money is grouped by currency everywhere and never summed across currencies.
'use strict';

const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];
const state = { version: 0, charts: {}, data: {}, land: null, currencies: [] };
window.baloyiReport = state;

const $ = id => document.getElementById(id);
const filterIds = ['from', 'to', 'category', 'country', 'currency'];

function colour(currency) {
  const i = state.currencies.indexOf(currency);
  return palette[(i < 0 ? 0 : i) % palette.length];
}

function money(value, currency) {
  return `${Number(value).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ${currency}`;
}

function query() {
  const params = new URLSearchParams();
  for (const id of filterIds) {
    const value = $(id).value;
    if (value) params.set(id, value);
  }
  return params.toString();
}

async function get(path) {
  const response = await fetch(`${path}?${query()}`);
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

function cell(row, text, value, numeric) {
  const td = document.createElement('td');
  td.textContent = text;
  if (value !== undefined) td.dataset.value = String(value);
  if (numeric) td.className = 'num';
  row.appendChild(td);
}

function fillTable(id, rows, render) {
  const body = $(id).querySelector('tbody');
  body.replaceChildren(...rows.map(r => { const tr = document.createElement('tr'); render(tr, r); return tr; }));
}

function lineChart(id, label, points, value) {
  const dates = [...new Set(points.map(p => p.date))].sort();
  const byCurrency = Map.groupBy(points, p => p.currency);
  const datasets = [...byCurrency.keys()].sort().map(currency => {
    const values = new Map(byCurrency.get(currency).map(p => [p.date, value(p)]));
    return { label: currency, data: dates.map(d => values.get(d) ?? 0), borderColor: colour(currency), backgroundColor: colour(currency), pointRadius: 2, tension: 0.2 };
  });
  draw(id, { type: 'line', data: { labels: dates, datasets }, options: { animation: false, responsive: true, plugins: { title: { display: false, text: label } }, scales: { y: { beginAtZero: true } } } });
}

function draw(id, config) {
  if (state.charts[id]) state.charts[id].destroy();
  state.charts[id] = new Chart($(id), config);
}

function categoryChart(rows) {
  const categories = [...new Set(rows.map(r => r.category))].sort();
  const byCurrency = Map.groupBy(rows, r => r.currency);
  const datasets = [...byCurrency.keys()].sort().map(currency => {
    const values = new Map(byCurrency.get(currency).map(r => [r.category, r.totalAmount]));
    return { label: currency, data: categories.map(c => values.get(c) ?? 0), backgroundColor: colour(currency) };
  });
  draw('categories', { type: 'bar', data: { labels: categories, datasets }, options: { animation: false, indexAxis: 'y', responsive: true } });
}

// Equirectangular projection onto the canvas: x from longitude, y from latitude.
function project(canvas, lon, lat) {
  return [(lon + 180) / 360 * canvas.width, (90 - lat) / 180 * canvas.height];
}

function drawMap(places) {
  const canvas = $('map');
  const ctx = canvas.getContext('2d');
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (state.land) {
    ctx.fillStyle = '#f2efe6';
    ctx.strokeStyle = '#9aa5b1';
    ctx.lineWidth = 0.6;
    for (const feature of state.land.features) {
      const polygons = feature.geometry.type === 'Polygon' ? [feature.geometry.coordinates] : feature.geometry.coordinates;
      for (const polygon of polygons) {
        ctx.beginPath();
        for (const ring of polygon) {
          ring.forEach(([lon, lat], i) => { const [x, y] = project(canvas, lon, lat); if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y); });
          ctx.closePath();
        }
        ctx.fill('evenodd');
        ctx.stroke();
      }
    }
  }
  // One currency at a time: the filter's, else the one with the most transactions.
  const counts = new Map();
  for (const p of places) counts.set(p.currency, (counts.get(p.currency) ?? 0) + p.transactionCount);
  const currency = $('currency').value || [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  const shown = places.filter(p => p.currency === currency);
  const largest = Math.max(1, ...shown.map(p => p.totalAmount));
  ctx.fillStyle = colour(currency) + 'aa';
  ctx.strokeStyle = '#1d2733';
  for (const p of shown) {
    const [x, y] = project(canvas, p.longitude, p.latitude);
    ctx.beginPath();
    ctx.arc(x, y, 2 + 14 * Math.sqrt(p.totalAmount / largest), 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
  }
  $('map-currency').textContent = currency ? `(${currency})` : '(no data)';
  state.data.map = { currency, points: shown };
}

async function update() {
  document.body.dataset.state = 'loading';
  try {
    const [trends, categories, places, top] = await Promise.all([get('api/trends'), get('api/categories'), get('api/places'), get('api/top-customers')]);
    state.data = { trends, categories, places, top };
    const totals = [...Map.groupBy(trends, t => t.currency).entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([currency, points]) => ({
      currency,
      transactionCount: points.reduce((s, p) => s + p.transactionCount, 0),
      totalAmount: points.reduce((s, p) => s + Math.round(p.totalAmount * 100), 0) / 100,
      netAmount: points.reduce((s, p) => s + Math.round(p.netAmount * 100), 0) / 100,
    }));
    state.data.totals = totals;
    fillTable('totals', totals, (tr, t) => {
      cell(tr, t.currency); cell(tr, t.transactionCount.toLocaleString('en-US'), t.transactionCount, true);
      cell(tr, money(t.totalAmount, t.currency), t.totalAmount.toFixed(2), true); cell(tr, money(t.netAmount, t.currency), t.netAmount.toFixed(2), true);
    });
    lineChart('trend-count', 'transactions', trends, p => p.transactionCount);
    lineChart('trend-amount', 'amount', trends, p => p.totalAmount);
    categoryChart(categories);
    drawMap(places);
    fillTable('places', places, (tr, p) => {
      cell(tr, p.country); cell(tr, p.city); cell(tr, p.currency); cell(tr, p.transactionCount.toLocaleString('en-US'), p.transactionCount, true);
      cell(tr, money(p.totalAmount, p.currency), p.totalAmount.toFixed(2), true); cell(tr, p.latitude.toFixed(4), p.latitude, true); cell(tr, p.longitude.toFixed(4), p.longitude, true);
    });
    fillTable('top-customers', top, (tr, c) => {
      cell(tr, c.currency); cell(tr, String(c.rank), c.rank, true); cell(tr, c.customerId); cell(tr, [c.firstName, c.lastName].filter(Boolean).join(' '));
      cell(tr, c.country ?? ''); cell(tr, c.city ?? ''); cell(tr, money(c.deposits, c.currency), c.deposits.toFixed(2), true);
      cell(tr, money(c.loansOutstanding, c.currency), c.loansOutstanding.toFixed(2), true); cell(tr, money(c.netPosition, c.currency), c.netPosition.toFixed(2), true);
    });
    $('error').hidden = true;
  } catch (e) {
    $('error').textContent = String(e.message ?? e);
    $('error').hidden = false;
  }
  state.version++;
  document.body.dataset.version = String(state.version);
  document.body.dataset.state = 'ready';
}

function options(id, values) {
  const select = $(id);
  for (const value of values) {
    const option = document.createElement('option');
    option.value = option.textContent = value;
    select.appendChild(option);
  }
}

async function start() {
  try {
    const land = await (await fetch('vendor/land-110m.json')).json();
    state.land = topojson.feature(land, land.objects.land);
  } catch {
    state.land = null; // the points still draw without the outline
  }
  const facets = await (await fetch('api/facets')).json();
  state.currencies = facets.currencies;
  options('category', facets.categories);
  options('country', facets.countries);
  options('currency', facets.currencies);
  for (const id of ['from', 'to']) {
    $(id).min = facets.firstDate ?? '';
    $(id).max = facets.lastDate ?? '';
  }
  for (const id of filterIds) $(id).addEventListener('change', update);
  $('reset').addEventListener('click', () => { for (const id of filterIds) $(id).value = ''; update(); });
  await update();
}

start();
