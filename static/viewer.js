// Standalone viewer for the tiles server: list layers, show one on a Leaflet map, edit its
// look and parameters, and print the tile URL. Everything comes from the server's JSON API.
"use strict";

const state = { layers: [], layer: null, tileLayer: null, sessionId: newSessionId() };

const $ = (id) => document.getElementById(id);

function newSessionId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const map = L.map("map", { worldCopyJump: true }).setView([20, 0], 2);

async function getJSON(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

async function loadColormaps() {
  const { colormaps } = await getJSON("/colormaps");
  const select = $("colormap");
  for (const name of colormaps) {
    const option = document.createElement("option");
    option.value = option.textContent = name;
    select.appendChild(option);
  }
}

async function loadLayers() {
  const { layers } = await getJSON("/layers");
  state.layers = layers;
  const list = $("layers");
  list.replaceChildren();
  $("no-layers").hidden = layers.length > 0;
  for (const layer of layers) {
    const item = document.createElement("li");
    item.dataset.id = layer.id;
    item.textContent = layer.name || "(unnamed)";
    const id = document.createElement("small");
    id.textContent = " " + layer.id.slice(0, 8);
    item.appendChild(id);
    item.addEventListener("click", () => selectLayer(layer.id));
    list.appendChild(item);
  }
  const wanted = new URLSearchParams(location.search).get("layer");
  const first = layers.find((l) => l.id === wanted) || layers[layers.length - 1];
  if (first) selectLayer(first.id);
}

function scalesText(scales) {
  return scales ? JSON.stringify(scales) : "";
}

function buildParameterInputs(parameters) {
  const box = $("parameters");
  box.querySelectorAll("label").forEach((el) => el.remove());
  const names = Object.keys(parameters || {});
  box.hidden = names.length === 0;
  for (const name of names) {
    const label = document.createElement("label");
    label.textContent = name + " ";
    const input = document.createElement("input");
    input.type = "text";
    input.name = name;
    input.dataset.parameter = name;
    const value = parameters[name];
    input.value = value === null ? "" : JSON.stringify(value);
    input.addEventListener("change", refreshTiles);
    label.appendChild(input);
    box.appendChild(label);
  }
}

async function selectLayer(id) {
  const layer = state.layers.find((l) => l.id === id);
  if (!layer) return;
  state.layer = layer;
  document.querySelectorAll("#layers li").forEach((li) => {
    li.classList.toggle("selected", li.dataset.id === id);
  });
  $("layer-controls").hidden = false;
  $("layer-title").textContent = layer.name || layer.id;
  $("colormap").value = layer.colormap || "";
  $("scales").value = scalesText(layer.scales);
  $("reduction").value = layer.reduction || "mosaic";
  $("checkerboard").checked = layer.checkerboard !== false;
  buildParameterInputs(layer.parameters);
  refreshTiles();
  try {
    const tj = await getJSON(layer.tilejson_url);
    const [w, s, e, n] = tj.bounds;
    map.fitBounds([[s, w], [n, e]], { maxZoom: tj.maxzoom });
  } catch (err) {
    $("status").textContent = String(err);
  }
}

function currentQuery() {
  // The original client's vocabulary, in its order.
  const query = new URLSearchParams();
  query.set("session_id", state.sessionId);
  query.set("colormap", $("colormap").value);
  query.set("reduction", $("reduction").value);
  query.set("checkerboard", $("checkerboard").checked ? "true" : "false");
  const scales = $("scales").value.trim();
  query.set("scales", scales === "" ? "null" : scales);
  for (const input of document.querySelectorAll("[data-parameter]")) {
    if (input.value.trim() !== "") query.set(input.dataset.parameter, input.value.trim());
  }
  return query;
}

function tileUrl() {
  return state.layer.url_template + "?" + currentQuery().toString();
}

function updateLegend() {
  const cmap = $("colormap").value;
  const legend = $("legend");
  legend.hidden = !cmap;
  if (!cmap) return;
  $("colorbar").src = `/colormaps/${encodeURIComponent(cmap)}.png`;
  let lo = "tile min", hi = "tile max";
  try {
    const scales = JSON.parse($("scales").value || "null");
    const pair = Array.isArray(scales) && Array.isArray(scales[0]) ? scales[0] : scales;
    if (Array.isArray(pair) && pair.length === 2 && pair[0] !== null) [lo, hi] = pair;
  } catch (err) { /* shown as per-tile scaling until the text parses */ }
  $("legend-min").textContent = lo;
  $("legend-max").textContent = hi;
}

function refreshTiles() {
  if (!state.layer) return;
  const url = tileUrl();
  $("tile-url").value = url;
  updateLegend();
  const opacity = Number($("opacity").value);
  if (state.tileLayer) {
    state.tileLayer.setUrl(url);
    state.tileLayer.setOpacity(opacity);
  } else {
    state.tileLayer = L.tileLayer(url, { opacity, maxZoom: 22, tileSize: 256 }).addTo(map);
    state.tileLayer.on("tileerror", showErrors);
    state.tileLayer.on("load", () => { $("status").textContent = "tiles loaded"; });
  }
}

async function showErrors() {
  if (!state.layer) return;
  const url = `/layers/${state.layer.id}/errors?session_id=${state.sessionId}`;
  try {
    const { records } = await getJSON(url);
    const list = $("errors");
    list.replaceChildren();
    for (const record of records.slice(-5)) {
      const item = document.createElement("li");
      item.textContent = `${record.level}: ${record.message}`;
      list.appendChild(item);
    }
  } catch (err) {
    $("status").textContent = String(err);
  }
}

$("opacity").addEventListener("input", () => {
  if (state.tileLayer) state.tileLayer.setOpacity(Number($("opacity").value));
});
for (const id of ["colormap", "scales", "reduction", "checkerboard"]) {
  $(id).addEventListener("change", refreshTiles);
}
$("copy-url").addEventListener("click", async () => {
  const text = $("tile-url").value;
  try {
    await navigator.clipboard.writeText(text);
    $("status").textContent = "URL copied";
  } catch (err) {
    $("tile-url").select();
    $("status").textContent = "select the URL and copy it";
  }
});

loadColormaps().then(loadLayers).catch((err) => { $("status").textContent = String(err); });
