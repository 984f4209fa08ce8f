// Standalone viewer for the tiles server: put registered layers on a Leaflet map, in order and
// with opacity, edit each one's look and parameters, and show honest status and a legend for
// every layer. Everything comes from the server's JSON API. tools.js adds the basemap, dates,
// split view, pixel inspector and scale to view on top of the `viewer` object defined here.
"use strict";

const $ = (id) => document.getElementById(id);

function newSessionId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function getJSON(url) {
  const response = await fetch(url);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `${url}: ${response.status}`);
  return body;
}

const viewer = {
  map: L.map("map", { worldCopyJump: true }).setView([20, 0], 2),
  sessionId: newSessionId(),
  layers: [], // every registered layer, as GET /layers lists them
  views: new Map(), // layer id -> what the map shows of it (see newView)
  order: [], // ids of the layers on the map, bottom first
  selected: null, // id of the layer whose controls are shown
  listeners: [], // functions called with a view whenever its URL changes
  config: {}, // GET /viewer/config.json: the basemap and the reductions a layer takes
};

function newView(layer) {
  const parameters = {};
  for (const [name, value] of Object.entries(layer.parameters || {})) {
    parameters[name] = value === null ? "" : JSON.stringify(value);
  }
  return {
    layer,
    colormap: layer.colormap || "",
    scales: layer.scales ? JSON.stringify(layer.scales) : "",
    reduction: layer.reduction || "mosaic",
    checkerboard: layer.checkerboard !== false,
    parameters, // name -> JSON text ("" when not given)
    date: null, // one day of a collection (image_date), or null for all of them
    opacity: 1,
    tileLayer: null,
    status: { url: "", loaded: 0, failed: 0, error: null, loading: false },
  };
}

// -- the tile URL of a view ---------------------------------------------------------------------

function viewQuery(view) {
  // The original client's vocabulary, in its order, then the viewer's own image_date.
  const query = new URLSearchParams();
  query.set("session_id", viewer.sessionId);
  query.set("colormap", view.colormap);
  query.set("reduction", view.reduction);
  query.set("checkerboard", view.checkerboard ? "true" : "false");
  query.set("scales", view.scales.trim() === "" ? "null" : view.scales.trim());
  for (const [name, text] of Object.entries(view.parameters)) {
    if (text.trim() !== "") query.set(name, text.trim());
  }
  if (view.date) query.set("image_date", view.date);
  return query;
}

function viewUrl(view) {
  return view.layer.url_template + "?" + viewQuery(view).toString();
}

// -- layers on the map --------------------------------------------------------------------------

function addToMap(id) {
  const view = viewer.views.get(id);
  if (viewer.order.includes(id)) return;
  viewer.order.push(id);
  view.tileLayer = L.tileLayer(viewUrl(view), {
    opacity: view.opacity, maxZoom: 22, tileSize: 256,
  });
  watchTiles(view);
  view.tileLayer.addTo(viewer.map);
  view.status = { url: viewUrl(view), loaded: 0, failed: 0, error: null, loading: true };
  restack();
  refreshView(view);
  fitToLayer(view);
}

function removeFromMap(id) {
  const view = viewer.views.get(id);
  viewer.order = viewer.order.filter((x) => x !== id);
  if (view.tileLayer) viewer.map.removeLayer(view.tileLayer);
  view.tileLayer = null;
  restack();
  renderLists();
  viewer.listeners.forEach((f) => f(view));
}

function moveLayer(id, step) {
  const i = viewer.order.indexOf(id);
  const j = i + step;
  if (i < 0 || j < 0 || j >= viewer.order.length) return;
  [viewer.order[i], viewer.order[j]] = [viewer.order[j], viewer.order[i]];
  restack();
  renderLists();
}

function restack() {
  // Higher in the order draws on top; the basemap (tools.js) stays at z-index 0.
  viewer.order.forEach((id, i) => viewer.views.get(id).tileLayer.setZIndex(i + 1));
}

async function fitToLayer(view) {
  if (viewer.order.length !== 1) return; // only the first layer moves the map
  try {
    const tj = await getJSON(view.layer.tilejson_url);
    const [w, s, e, n] = tj.bounds;
    if (e - w < 359) viewer.map.fitBounds([[s, w], [n, e]], { maxZoom: tj.maxzoom });
  } catch (err) {
    showStatus(String(err));
  }
}

// Counts of the tiles of a view's current URL, and the first error of that URL, once.
function watchTiles(view) {
  const layer = view.tileLayer;
  layer.on("loading", () => { view.status.loading = true; renderStatus(view); });
  layer.on("tileload", () => { view.status.loaded += 1; });
  layer.on("tileerror", (e) => {
    view.status.failed += 1;
    if (view.status.error === null) {
      view.status.error = "";
      firstError(view, e.tile.src);
    }
    renderStatus(view);
  });
  layer.on("load", () => { view.status.loading = false; renderStatus(view); });
}

async function firstError(view, src) {
  const url = view.status.url;
  let message;
  try {
    const response = await fetch(src);
    const body = await response.json().catch(() => ({}));
    message = body.error || `HTTP ${response.status}`;
  } catch (err) {
    message = String(err);
  }
  if (view.status.url === url) {
    view.status.error = message;
    renderStatus(view);
  }
}

function statusText(view) {
  const { loaded, failed, error, loading } = view.status;
  if (failed) {
    const total = loaded + failed;
    return `${failed} of ${total} tiles failed` + (error ? `: ${error}` : "");
  }
  if (loading) return loaded ? `loading… ${loaded} tiles so far` : "loading…";
  return `${loaded} tiles loaded`;
}

function renderStatus(view) {
  const item = document.querySelector(`#layers li[data-id="${view.layer.id}"] .layer-status`);
  if (item) {
    item.textContent = view.tileLayer ? statusText(view) : "";
    item.classList.toggle("failed", view.status.failed > 0);
  }
}

function showStatus(text) {
  $("status").textContent = text;
}

// Apply a view's options: new URL (old tiles are dropped), legend, URL box.
function refreshView(view) {
  const url = viewUrl(view);
  if (view.tileLayer) {
    if (url !== view.status.url) {
      view.status = { url, loaded: 0, failed: 0, error: null, loading: true };
      view.tileLayer.setUrl(url); // redraws: no tile of the old URL stays
    }
    view.tileLayer.setOpacity(view.opacity);
  }
  if (view.layer.id === viewer.selected) $("tile-url").value = url;
  renderLists();
  renderStatus(view);
  viewer.listeners.forEach((f) => f(view));
}

// -- the layer list -----------------------------------------------------------------------------

function button(label, title, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.title = title;
  b.setAttribute("aria-label", title);
  b.addEventListener("click", (e) => { e.stopPropagation(); onClick(); });
  return b;
}

function renderLists() {
  const list = $("layers");
  list.replaceChildren();
  $("no-layers").hidden = viewer.layers.length > 0;
  // Layers on the map first, top layer first, then the others.
  const onMap = [...viewer.order].reverse();
  const others = viewer.layers.map((l) => l.id).filter((id) => !onMap.includes(id));
  for (const id of [...onMap, ...others]) {
    const view = viewer.views.get(id);
    const item = document.createElement("li");
    item.dataset.id = id;
    item.classList.toggle("selected", id === viewer.selected);
    const shown = document.createElement("input");
    shown.type = "checkbox";
    shown.checked = Boolean(view.tileLayer);
    shown.setAttribute("aria-label", "show on the map");
    shown.addEventListener("click", (e) => e.stopPropagation());
    shown.addEventListener("change", () => (shown.checked ? addToMap(id) : removeFromMap(id)));
    const name = document.createElement("span");
    name.className = "layer-name";
    name.textContent = view.layer.name || "(unnamed)";
    const small = document.createElement("small");
    small.textContent = " " + id.slice(0, 8);
    item.append(shown, name, small);
    if (view.tileLayer) {
      const opacity = document.createElement("input");
      opacity.type = "range";
      opacity.min = "0";
      opacity.max = "1";
      opacity.step = "0.05";
      opacity.value = String(view.opacity);
      opacity.className = "opacity";
      opacity.setAttribute("aria-label", "opacity");
      opacity.addEventListener("click", (e) => e.stopPropagation());
      opacity.addEventListener("input", () => {
        view.opacity = Number(opacity.value);
        view.tileLayer.setOpacity(view.opacity);
      });
      const status = document.createElement("div");
      status.className = "layer-status";
      item.append(
        button("↑", "move up", () => moveLayer(id, 1)),
        button("↓", "move down", () => moveLayer(id, -1)),
        opacity,
        status,
      );
    }
    item.addEventListener("click", () => selectLayer(id));
    list.appendChild(item);
  }
  for (const view of viewer.views.values()) {
    const status = document.querySelector(`#layers li[data-id="${view.layer.id}"] .layer-status`);
    if (status) {
      status.textContent = statusText(view);
      status.classList.toggle("failed", view.status.failed > 0);
    }
  }
}

// -- the selected layer's controls --------------------------------------------------------------

function buildParameterInputs(view) {
  const box = $("parameters");
  box.querySelectorAll("label").forEach((el) => el.remove());
  const names = Object.keys(view.parameters);
  box.hidden = names.length === 0;
  for (const name of names) {
    const label = document.createElement("label");
    label.textContent = name + " ";
    const input = document.createElement("input");
    input.type = "text";
    input.name = name;
    input.dataset.parameter = name;
    input.value = view.parameters[name];
    label.appendChild(input);
    const number = Number(view.parameters[name]);
    if (view.parameters[name] !== "" && Number.isFinite(number)) {
      // A slider around the default value for numbers; the text box stays exact.
      const slider = document.createElement("input");
      slider.type = "range";
      slider.min = String(Math.min(0, 2 * number));
      slider.max = String(Math.max(1, 2 * number));
      slider.step = String((Number(slider.max) - Number(slider.min)) / 100);
      slider.value = String(number);
      slider.setAttribute("aria-label", name);
      slider.addEventListener("change", () => {
        input.value = slider.value;
        view.parameters[name] = slider.value;
        refreshView(view);
      });
      label.appendChild(slider);
    }
    input.addEventListener("change", () => {
      view.parameters[name] = input.value;
      refreshView(view);
    });
    box.appendChild(label);
  }
}

function selectLayer(id) {
  const view = viewer.views.get(id);
  if (!view) return;
  viewer.selected = id;
  $("layer-controls").hidden = false;
  $("layer-title").textContent = view.layer.name || id;
  $("colormap").value = view.colormap;
  $("scales").value = view.scales;
  $("reduction").value = view.reduction;
  $("checkerboard").checked = view.checkerboard;
  buildParameterInputs(view);
  $("tile-url").value = viewUrl(view);
  renderLists();
  renderStatus(view);
  viewer.listeners.forEach((f) => f(view));
}

function selectedView() {
  return viewer.selected ? viewer.views.get(viewer.selected) : null;
}

for (const [id, key] of [["colormap", "colormap"], ["scales", "scales"], ["reduction", "reduction"]]) {
  $(id).addEventListener("change", () => {
    const view = selectedView();
    if (!view) return;
    view[key] = $(id).value;
    refreshView(view);
  });
}
$("checkerboard").addEventListener("change", () => {
  const view = selectedView();
  if (!view) return;
  view.checkerboard = $("checkerboard").checked;
  refreshView(view);
});
$("copy-url").addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText($("tile-url").value);
    showStatus("URL copied");
  } catch (err) {
    $("tile-url").select();
    showStatus("select the URL and copy it");
  }
});

// -- legend: one entry per layer on the map, from its TileJSON -----------------------------------

function rangeText(pair) {
  if (!pair) return "each tile's own range";
  const fmt = (v) => Number(v).toPrecision(3).replace(/\.?0+$/, "");
  return `${fmt(pair[0])} – ${fmt(pair[1])}`;
}

async function legendEntry(view) {
  const entry = document.createElement("div");
  entry.className = "legend-entry";
  entry.dataset.id = view.layer.id;
  const title = document.createElement("div");
  title.className = "legend-title";
  title.textContent = view.layer.name || view.layer.id;
  entry.appendChild(title);
  let legend;
  try {
    legend = (await getJSON(view.layer.tilejson_url + "?" + viewQuery(view))).legend;
  } catch (err) {
    const p = document.createElement("div");
    p.textContent = String(err.message || err);
    entry.appendChild(p);
    return entry;
  }
  if (legend.colorbar) {
    const img = document.createElement("img");
    img.className = "colorbar";
    img.src = legend.colorbar;
    img.alt = `${legend.colormap} from ${rangeText((legend.scales || [])[0])}`;
    entry.appendChild(img);
    return entry;
  }
  const bands = legend.bands || [];
  const channels = bands.length === 1 ? ["grey"] : ["R", "G", "B"];
  const table = document.createElement("table");
  bands.forEach((band, i) => {
    const row = table.insertRow();
    row.className = "channel";
    row.insertCell().textContent = channels[i];
    row.insertCell().textContent = band;
    row.insertCell().textContent = rangeText((legend.scales || [])[i]);
  });
  if (!bands.length) table.insertRow().insertCell().textContent = "bands not known yet";
  entry.appendChild(table);
  return entry;
}

let legendRound = 0;
async function renderLegend() {
  const round = ++legendRound;
  const views = [...viewer.order].reverse().map((id) => viewer.views.get(id));
  const entries = await Promise.all(views.map(legendEntry));
  if (round === legendRound) $("legend").replaceChildren(...entries);
}
viewer.listeners.push(() => renderLegend());

// -- start --------------------------------------------------------------------------------------

function addOptions(select, names) {
  for (const name of names) {
    const option = document.createElement("option");
    option.value = option.textContent = name;
    select.appendChild(option);
  }
}

// The server's choices for the controls, before any layer selects one of them.
async function loadOptions() {
  const [{ colormaps }, config] = await Promise.all([
    getJSON("/colormaps"),
    getJSON("/viewer/config.json"),
  ]);
  viewer.config = config;
  addOptions($("colormap"), colormaps);
  addOptions($("reduction"), config.reductions);
}

async function loadLayers() {
  const { layers } = await getJSON("/layers");
  viewer.layers = layers;
  for (const layer of layers) viewer.views.set(layer.id, newView(layer));
  renderLists();
  // ?layer=<id> (repeatable, bottom first) puts those layers on the map, else the newest one.
  const wanted = new URLSearchParams(location.search).getAll("layer");
  const first = wanted.filter((id) => viewer.views.has(id));
  if (!first.length && layers.length) first.push(layers[layers.length - 1].id);
  for (const id of first) addToMap(id);
  if (first.length) selectLayer(first[first.length - 1]);
}

viewer.ready = loadOptions()
  .then(loadLayers)
  .catch((err) => showStatus(String(err)));
