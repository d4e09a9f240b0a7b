/* The dispatcher's map: Leaflet (vendored), markers and lines from /app/api/geojson, optional tiles. */
"use strict";
(async function () {
  const el = document.getElementById("map");
  if (!el || !window.L) return;
  const COLOURS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#008080", "#f032e6", "#9a6324", "#800000", "#000075"];
  document.querySelectorAll(".swatch").forEach((s) => { s.style.background = COLOURS[Number(s.dataset.index) % COLOURS.length]; });
  const map = L.map(el);
  const url = el.dataset.tileUrl;
  if (url) {
    let loaded = 0, failed = 0;
    const tiles = L.tileLayer(url, { maxZoom: 18, attribution: el.dataset.tileAttribution || "" });
    tiles.on("tileload", () => { loaded++; el.classList.remove("no-tiles"); });
    // No tile reachable: drop the layer and keep the plain background.
    tiles.on("tileerror", () => { failed++; if (!loaded && failed >= 4) { map.removeLayer(tiles); el.classList.add("no-tiles"); } });
    tiles.addTo(map);
  }
  const response = await fetch(`/app/api/geojson?plan_id=${el.dataset.planId}&date=${el.dataset.date}`, { credentials: "same-origin" });
  const data = await response.json();
  // Name every place only on a small map; on a county's map names show on hover.
  const few = data.features.filter((f) => f.properties.kind !== "bus").length <= 30;
  const used = new Set();
  for (const f of data.features) if (f.properties.kind === "bus") f.properties.stops.forEach((s) => used.add(s));
  const layer = L.geoJSON(data, {
    style: (f) => ({ color: COLOURS[f.properties.index % COLOURS.length], weight: 3, opacity: 0.8 }),
    pointToLayer: (f, latlng) => {
      const kind = f.properties.kind;
      const colour = kind === "factory" ? "#c0392b" : kind === "township" ? "#1f5fa8" : "#7d3c98";
      return L.circleMarker(latlng, { radius: kind === "factory" ? 5 : 6, color: "#fff", weight: 1, fillColor: colour, fillOpacity: 0.95 });
    },
    onEachFeature: (f, lyr) => {
      const p = f.properties;
      if (p.kind === "bus") lyr.bindPopup(`${p.public_id}: ${p.load}/${p.seats} · ${p.stops.join(" → ")}`);
      else {
        lyr.bindTooltip(p.name, { permanent: few && (p.kind === "township" || used.has(p.name)), direction: "right", className: "place-label" });
      }
    },
  }).addTo(map);
  const bounds = layer.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { padding: [20, 20] });
  else map.setView([25.96, 115.41], 8);
  el.dataset.features = String(data.features.length);
})();
