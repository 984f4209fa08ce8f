// Viewer tools on top of viewer.js: an optional basemap, a date slider that plays through a
// collection's dates, a split (swipe) view of two layers, a pixel inspector and scale to view.
"use strict";

// -- basemap: none by default (offline); the server's TILES_BASEMAP or a URL typed in ---------

const basemap = { layer: null };

function setBasemap(url) {
  if (basemap.layer) viewer.map.removeLayer(basemap.layer);
  basemap.layer = null;
  if (!url) return;
  basemap.layer = L.tileLayer(url, { maxZoom: 19, zIndex: 0, attribution: "basemap" });
  basemap.layer.addTo(viewer.map);
}

function onBasemapChoice() {
  const choice = $("basemap").value;
  $("basemap-url").hidden = choice !== "custom";
  setBasemap(choice === "custom" ? $("basemap-url").value.trim() : choice);
}

function loadBasemaps() {
  const custom = document.createElement("option");
  custom.value = "custom";
  custom.textContent = "XYZ URL…";
  $("basemap").appendChild(custom);
  if (viewer.config.basemap) {
    const option = document.createElement("option");
    option.value = viewer.config.basemap;
    option.textContent = "server's basemap";
    $("basemap").insertBefore(option, custom);
  }
}
$("basemap").addEventListener("change", onBasemapChoice);
$("basemap-url").addEventListener("change", onBasemapChoice);

// -- dates: one date of a collection at a time, and play through them ------------------------

const dates = { list: [], layerId: null, playing: false, timer: null };

async function loadDates(view) {
  dates.layerId = view.layer.id;
  dates.list = [];
  $("dates").hidden = true;
  const query = viewQuery({ ...view, date: null });
  try {
    const answer = await getJSON(`/layers/${view.layer.id}/dates?${query}`);
    if (dates.layerId !== view.layer.id) return;
    dates.list = answer.dates;
  } catch (err) {
    return; // e.g. a parameter without a value: no dates until it has one
  }
  $("dates").hidden = dates.list.length === 0;
  $("date-slider").max = String(Math.max(0, dates.list.length - 1));
  const index = view.date ? Math.max(0, dates.list.indexOf(view.date)) : 0;
  $("date-slider").value = String(index);
  $("one-date").checked = Boolean(view.date);
  showDate();
}

function showDate() {
  const view = selectedView();
  const on = $("one-date").checked;
  $("date-slider").disabled = !on;
  $("date-label").textContent = on ? dates.list[Number($("date-slider").value)] : "all dates";
  $("play").textContent = dates.playing ? "Pause" : "Play";
  return view;
}

function chooseDate() {
  const view = showDate();
  if (!view) return;
  view.date = $("one-date").checked ? dates.list[Number($("date-slider").value)] : null;
  refreshView(view);
}

function stepDate() {
  // The next date once the current one has drawn (never piling up requests), then again.
  const view = selectedView();
  if (!dates.playing || !view) return;
  if (view.status.loading) {
    dates.timer = setTimeout(stepDate, 200);
    return;
  }
  const slider = $("date-slider");
  slider.value = String((Number(slider.value) + 1) % dates.list.length);
  chooseDate();
  dates.timer = setTimeout(stepDate, 1000);
}

function togglePlay() {
  dates.playing = !dates.playing;
  clearTimeout(dates.timer);
  if (dates.playing) {
    if (!$("one-date").checked) {
      $("one-date").checked = true;
      chooseDate();
    }
    dates.timer = setTimeout(stepDate, 1000);
  }
  showDate();
}

$("one-date").addEventListener("change", chooseDate);
$("date-slider").addEventListener("input", chooseDate);
$("play").addEventListener("click", togglePlay);

let datesFor = null;
viewer.listeners.push((view) => {
  if (view.layer.id !== viewer.selected) return;
  // Dates depend on the layer and its parameter values, not on its look or date.
  const key = view.layer.id + "?" + JSON.stringify(view.parameters);
  if (key === datesFor) return;
  datesFor = key;
  dates.playing = false;
  clearTimeout(dates.timer);
  loadDates(view);
});

// -- split view: the left layer left of the divider, the right layer right of it -------------

const split = { on: false };

function fillSplitChoices() {
  // By default the top layer on the left and the one below it on the right.
  const ids = [...viewer.order].reverse();
  const chosen = [];
  for (const [id, side] of [["split-left", 0], ["split-right", 1]]) {
    const select = $(id);
    const current = select.value;
    select.replaceChildren();
    for (const layerId of ids) {
      const option = document.createElement("option");
      option.value = layerId;
      option.textContent = viewer.views.get(layerId).layer.name || layerId;
      select.appendChild(option);
    }
    const keep = ids.includes(current) && !chosen.includes(current);
    const free = ids.filter((x) => !chosen.includes(x));
    select.value = keep ? current : free[0] || ids[Math.min(side, ids.length - 1)] || "";
    chosen.push(select.value);
  }
}

function clipSplit() {
  for (const view of viewer.views.values()) {
    if (view.tileLayer) view.tileLayer.getContainer().style.clip = "";
  }
  $("swipe").hidden = !split.on;
  if (!split.on) return;
  const map = viewer.map;
  const nw = map.containerPointToLayerPoint([0, 0]);
  const se = map.containerPointToLayerPoint(map.getSize());
  const x = nw.x + map.getSize().x * Number($("swipe").value);
  const sides = [
    [$("split-left").value, [nw.y, x, se.y, nw.x]],
    [$("split-right").value, [nw.y, se.x, se.y, x]],
  ];
  for (const [id, [top, right, bottom, left]] of sides) {
    const view = viewer.views.get(id);
    if (view && view.tileLayer) {
      view.tileLayer.getContainer().style.clip =
        `rect(${top}px, ${right}px, ${bottom}px, ${left}px)`;
    }
  }
}

function setSplit() {
  split.on = $("split").checked && viewer.order.length >= 2;
  clipSplit();
}

$("split").addEventListener("change", setSplit);
$("split-left").addEventListener("change", clipSplit);
$("split-right").addEventListener("change", clipSplit);
$("swipe").addEventListener("input", clipSplit);
viewer.map.on("move zoom resize", clipSplit);
viewer.listeners.push(() => { fillSplitChoices(); setSplit(); });

// -- pixel inspector: band values of every layer on the map under a click ---------------------

const inspector = { marker: null, round: 0 };

function mercator(latlng) {
  const p = L.CRS.EPSG3857.project(latlng.wrap());
  return [p.x, p.y];
}

async function inspect(latlng) {
  const round = ++inspector.round;
  if (inspector.marker) inspector.marker.setLatLng(latlng);
  else inspector.marker = L.circleMarker(latlng, { radius: 5, fill: false }).addTo(viewer.map);
  const [x, y] = mercator(latlng);
  const views = [...viewer.order].reverse().map((id) => viewer.views.get(id));
  const rows = await Promise.all(views.map(async (view) => {
    const url = `/layers/${view.layer.id}/value?x=${x}&y=${y}&${viewQuery(view)}`;
    try {
      const { values } = await getJSON(url);
      const names = Object.keys(values);
      if (!names.length) return [view, ["no data here"]];
      return [view, names.map((n) => `${n}: ${values[n] === null ? "∅" : values[n].toPrecision(6)}`)];
    } catch (err) {
      return [view, [`error: ${err.message || err}`]];
    }
  }));
  if (round !== inspector.round) return;
  const table = $("inspector");
  table.replaceChildren();
  for (const [view, lines] of rows) {
    const row = table.insertRow();
    row.dataset.id = view.layer.id;
    row.insertCell().textContent = view.layer.name || view.layer.id;
    row.insertCell().textContent = lines.join("\n");
  }
}

$("inspect").addEventListener("change", () => {
  viewer.map.getContainer().style.cursor = $("inspect").checked ? "crosshair" : "";
  if (!$("inspect").checked && inspector.marker) {
    viewer.map.removeLayer(inspector.marker);
    inspector.marker = null;
  }
});
viewer.map.on("click", (e) => { if ($("inspect").checked) inspect(e.latlng); });

// -- scale to view: stretch the 2nd-98th percentile of what the map shows ---------------------

$("scale-to-view").addEventListener("click", async () => {
  const view = selectedView();
  if (!view) return;
  const b = viewer.map.getBounds();
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  const bbox = [
    clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -85, 85),
    clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -85, 85),
  ].join(",");
  showStatus("scaling to the view…");
  try {
    const { scales } = await getJSON(`/layers/${view.layer.id}/view_scales?bbox=${bbox}&${viewQuery(view)}`);
    view.scales = JSON.stringify(view.colormap ? scales.slice(0, 1) : scales);
    $("scales").value = view.scales;
    refreshView(view);
  } catch (err) {
    showStatus(String(err.message || err));
  }
});

viewer.ready.then(loadBasemaps);
