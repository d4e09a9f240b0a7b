/* The dispatcher's map: Leaflet (vendored) over the service's own base map (province and city boundaries,
   /app/static/basemap.geojson, so it draws without any tile server), optional tiles, and from /app/api/geojson
   the places, the corridors (one line per township and destination area, with its bus count) and, for the bus
   picked in the table, its route. The region's page gives its own data (data-geojson) and has every route drawn
   (data-routes="all"): the pooled coaches across its counties. */
"use strict";
(async function () {
  const el = document.getElementById("map");
  if (!el || !window.L) return;
  const COLOURS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#008080", "#f032e6", "#9a6324", "#800000", "#000075"];
  document.querySelectorAll(".swatch").forEach((s) => { s.style.background = COLOURS[Number(s.dataset.index) % COLOURS.length]; });
  const map = L.map(el);
  const base = await (await fetch("/app/static/basemap.geojson")).json();
  L.geoJSON(base, {
    interactive: false,
    style: (f) => f.properties.level === "province"
      ? { color: "#8a96a3", weight: 1.2, fillColor: "#f3f0e8", fillOpacity: 1 }
      : { color: "#c3cad2", weight: 0.6, dashArray: "3 3", fill: false },
  }).addTo(map);
  const provinceLabels = L.layerGroup().addTo(map);
  for (const f of base.features) {
    if (f.properties.level !== "province" || !f.properties.name) continue;
    const centre = L.geoJSON(f).getBounds().getCenter();
    provinceLabels.addLayer(L.tooltip({ permanent: true, direction: "center", className: "province-label", interactive: false })
      .setLatLng(centre).setContent(f.properties.name));
  }
  const url = el.dataset.tileUrl;
  if (url) {
    let loaded = 0, failed = 0;
    const tiles = L.tileLayer(url, { maxZoom: 18, attribution: el.dataset.tileAttribution || "" });
    tiles.on("tileload", () => { loaded++; el.classList.remove("no-tiles"); });
    // No tile reachable: drop the layer and keep the base map.
    tiles.on("tileerror", () => { failed++; if (!loaded && failed >= 4) { map.removeLayer(tiles); el.classList.add("no-tiles"); } });
    tiles.addTo(map);
  }
  const source = el.dataset.geojson || `/app/api/geojson?plan_id=${el.dataset.planId}&date=${el.dataset.date}`;
  const response = await fetch(source, { credentials: "same-origin" });
  const data = await response.json();
  const busFeatures = data.features.filter((f) => f.properties.kind === "bus");
  const corridors = data.features.filter((f) => f.properties.kind === "corridor");
  const most = Math.max(1, ...corridors.map((f) => f.properties.buses));
  const corridorLayer = L.geoJSON({ type: "FeatureCollection", features: corridors }, {
    style: (f) => ({ color: "#1f5fa8", weight: 1.5 + 6 * f.properties.buses / most, opacity: 0.55 }),
    onEachFeature: (f, lyr) => lyr.bindTooltip(`${f.properties.from} → ${f.properties.area}：${f.properties.buses} 车 ${f.properties.riders} 人`, { sticky: true }),
  }).addTo(map);
  const routeLayer = L.geoJSON({ type: "FeatureCollection", features: el.dataset.routes === "all" ? busFeatures : [] }, {
    style: (f) => ({ color: COLOURS[f.properties.index % COLOURS.length], weight: 3, opacity: 0.8 }),
    onEachFeature: (f, lyr) => lyr.bindTooltip(`${f.properties.public_id}：${f.properties.load}/${f.properties.seats} · ${f.properties.stops.join(" → ")}`, { sticky: true }),
  }).addTo(map);
  const used = new Set();
  for (const f of busFeatures) f.properties.stops.forEach((s) => used.add(s));
  const places = L.geoJSON({ type: "FeatureCollection", features: data.features.filter((f) => f.geometry.type === "Point") }, {
    pointToLayer: (f, latlng) => {
      const kind = f.properties.kind;
      if (kind === "area") return L.circleMarker(latlng, { radius: 9, color: "#c0392b", weight: 2, fillColor: "#fff", fillOpacity: 0.9 });
      const colour = kind === "factory" ? "#c0392b" : kind === "township" ? "#1f5fa8" : "#7d3c98";
      return L.circleMarker(latlng, { radius: kind === "factory" ? 4 : 6, color: "#fff", weight: 1, fillColor: colour, fillOpacity: 0.95 });
    },
    onEachFeature: (f, lyr) => {
      const p = f.properties;
      // Townships and destination areas are named on the map; factories on hover (a county has hundreds).
      const permanent = p.kind === "township" || p.kind === "area" || p.kind === "assembly_point";
      const label = p.kind === "area" ? `${p.name}（${p.buses} 车）` : p.name;
      lyr.bindTooltip(label, { permanent: permanent && (p.kind !== "township" || used.has(p.name) || busFeatures.length === 0),
                               direction: "right", className: "place-label" });
    },
  }).addTo(map);
  // A bus picked in the table: its route drawn over the corridors, the map fitted to it.
  let picked = null;
  const show = (index) => {
    if (picked) map.removeLayer(picked);
    document.querySelectorAll("#buses tbody tr").forEach((row, i) => row.classList.toggle("picked", i === index));
    const f = busFeatures.find((b) => b.properties.index === index);
    if (!f) return;
    picked = L.geoJSON(f, { style: { color: COLOURS[index % COLOURS.length], weight: 5, opacity: 0.95 } })
      .bindPopup(`${f.properties.public_id}: ${f.properties.load}/${f.properties.seats} · ${f.properties.stops.join(" → ")}`)
      .addTo(map);
    map.fitBounds(picked.getBounds(), { padding: [30, 30] });
    el.dataset.picked = f.properties.bus_id;
  };
  document.querySelectorAll("#buses tbody tr").forEach((row, i) => {
    row.addEventListener("click", () => show(i));
  });
  const bounds = [corridorLayer, routeLayer, places].map((layer) => layer.getBounds()).find((b) => b.isValid()) || places.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20] });
  else map.setView([25.96, 115.41], 6);
  el.dataset.features = String(data.features.length);
  el.dataset.corridors = String(corridors.length);
  el.dataset.drawn = String(routeLayer.getLayers().length);
})();
