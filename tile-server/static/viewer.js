// fstgis viewer: layer picker, time/level sliders, colour range, legend, GetFeatureInfo popup,
// and an offline base layer (Natural Earth coastlines and borders, shipped with the server).
(function () {
  'use strict';
  var map = L.map('map', { worldCopyJump: true }).setView([50, -95], 3);
  var osm = L.tileLayer('https://tile.openstreetmap.org/{z}/{x}/{y}.png', { attribution: '© OpenStreetMap', maxZoom: 12 });
  var graticule = L.layerGroup();
  for (var lon = -180; lon <= 180; lon += 10) { L.polyline([[-85, lon], [85, lon]], { color: '#999', weight: 0.5, interactive: false }).addTo(graticule); }
  for (var lat = -80; lat <= 80; lat += 10) { L.polyline([[lat, -540], [lat, 540]], { color: '#999', weight: 0.5, interactive: false }).addTo(graticule); }
  graticule.addTo(map);

  // Coastlines and borders above the field (a pane over the tiles), drawn on one canvas.
  map.createPane('basemap').style.zIndex = 450;
  map.getPane('basemap').style.pointerEvents = 'none';
  var coasts = L.layerGroup();
  var canvas = L.canvas({ pane: 'basemap', padding: 0.5 });

  // TopoJSON arcs (quantized, delta-encoded) to [lat, lon] lines. Longitudes are made
  // continuous: an arc that crosses the antimeridian (Chukotka, Fiji) goes on past ±180
  // instead of jumping across the whole map.
  function decodeArcs(topo) {
    var t = topo.transform;
    return topo.arcs.map(function (arc) {
      var x = 0, y = 0, prev = null;
      return arc.map(function (p) {
        x += p[0]; y += p[1];
        var lon = x * t.scale[0] + t.translate[0];
        if (prev !== null) { while (lon - prev > 180) { lon -= 360; } while (prev - lon > 180) { lon += 360; } }
        prev = lon;
        return [y * t.scale[1] + t.translate[1], lon];
      });
    });
  }

  // Every arc index a geometry collection uses (~i is arc i reversed).
  function arcIndices(objects, out) {
    (function walk(a) {
      if (typeof a === 'number') { out[a < 0 ? ~a : a] = true; } else if (a) { a.forEach(walk); }
    })(objects.geometries.map(function (g) { return g.arcs; }));
    return out;
  }

  // Lines near the antimeridian get a copy one world over, so that a field that crosses it
  // (a map centred on 180°) has coastlines on both sides.
  function withCopies(lines) {
    var out = lines.slice();
    lines.forEach(function (l) {
      var east = l.some(function (p) { return p[1] > 120; }), west = l.some(function (p) { return p[1] < -120; });
      if (east) { out.push(l.map(function (p) { return [p[0], p[1] - 360]; })); }
      if (west) { out.push(l.map(function (p) { return [p[0], p[1] + 360]; })); }
    });
    return out;
  }

  fetch('static/naturalearth/countries-50m.json').then(function (r) { return r.json(); }).then(function (topo) {
    var arcs = decodeArcs(topo);
    var land = arcIndices(topo.objects.land, {});
    var coast = [], borders = [];
    arcs.forEach(function (a, k) { (land[k] ? coast : borders).push(a); });
    L.polyline(withCopies(borders), { renderer: canvas, color: '#555', weight: 0.8, opacity: 0.9, dashArray: '3 2', interactive: false }).addTo(coasts);
    L.polyline(withCopies(coast), { renderer: canvas, color: '#111', weight: 1.2, opacity: 1, interactive: false }).addTo(coasts);
    document.body.setAttribute('data-basemap', 'ready');
  });
  coasts.addTo(map);

  L.control.layers(
    { 'No background': L.layerGroup().addTo(map), 'OpenStreetMap (online)': osm },
    { 'Coastlines and borders (Natural Earth, offline)': coasts, Graticule: graticule }
  ).addTo(map);

  var $ = function (id) { return document.getElementById(id); };
  var layers = [], current = null, tiles = null, fitted = {};

  function runInfo() {
    var run = $('run').value;
    return current.runs.filter(function (r) { return r.reference_time === run; })[0] || current.runs[current.runs.length - 1];
  }

  function selected() {
    var r = runInfo();
    return {
      layer: current,
      style: $('style').value,
      time: r.times[Math.min(+$('time').value, r.times.length - 1)],
      level: r.levels.length ? r.levels[Math.min(+$('level').value, r.levels.length - 1)] : null,
      run: r.reference_time,
      range: $('range').value.trim(),
      opacity: $('opacity').value
    };
  }

  // The sliders of the selected run. With `keep` (the valid time and level shown before a
  // change of run), the same valid time (else the nearest) and the same level (else the
  // first) stay selected: sliders hold indices, and runs have different times and levels,
  // so that an index kept across runs showed another time or level than the one picked.
  function setRanges(keep) {
    var r = runInfo();
    var ti = -1, li = -1;
    if (keep) {
      ti = r.times.indexOf(keep.time);
      if (ti < 0 && keep.time) {
        var t0 = Date.parse(keep.time), best = Infinity;
        r.times.forEach(function (t, k) { var d = Math.abs(Date.parse(t) - t0); if (d < best) { best = d; ti = k; } });
      }
      li = keep.level === null ? -1 : r.levels.indexOf(keep.level);
    } else {
      ti = r.times.indexOf(current.default_time);
      if (ti < 0) ti = r.times.length - 1;
    }
    $('time').max = Math.max(0, r.times.length - 1);
    $('time').value = Math.max(0, ti);
    $('level').max = Math.max(0, r.levels.length - 1);
    // Levels are listed nearest the surface first: the first is the default.
    $('level').value = Math.max(0, li);
  }

  // The query of the tiles, the legend and GetFeatureInfo: style, dimensions, colour range.
  function query(s) {
    var q = 'style=' + encodeURIComponent(s.style) + '&time=' + encodeURIComponent(s.time) + '&reference_time=' + encodeURIComponent(s.run);
    if (s.level !== null) q += '&elevation=' + encodeURIComponent(s.level);
    if (s.range) q += '&colorscalerange=' + encodeURIComponent(s.range);
    return q;
  }

  function refresh() {
    var s = selected();
    shown = { time: s.time, level: s.level, run: s.run };
    $('timeText').textContent = s.time || '';
    $('levelText').textContent = s.level === null ? '' : s.level + ' ' + s.layer.level_units;
    var url = 'tiles/' + encodeURIComponent(s.layer.name) + '/{z}/{x}/{y}.png?' + query(s);
    if (tiles) { map.removeLayer(tiles); }
    tiles = L.tileLayer(url, { opacity: s.opacity / 100, maxZoom: 12, className: 'fst-tiles' }).addTo(map);
    // The legend of the same slice and range as the tiles: with a range from the data, its
    // labels are that range.
    $('message').textContent = '';
    $('legendImg').src = 'wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&FORMAT=image/png&LAYER=' +
      encodeURIComponent(s.layer.name) + '&' + query(s);
  }

  // A legend the server refuses (a colour range it cannot read, say) refuses the tiles too:
  // say why, from the server's exception report, instead of leaving a blank map.
  $('legendImg').addEventListener('error', function () {
    var src = $('legendImg').src;
    fetch(src).then(function (r) { return r.ok ? '' : r.text(); }).then(function (t) {
      if (!t || $('legendImg').src !== src) return;
      $('message').textContent = exceptionText(t);
    }).catch(function () {});
  });

  // The message of a WMS exception report (else the start of the answer).
  function exceptionText(t) {
    var doc = new DOMParser().parseFromString(t, 'text/xml');
    var e = doc.getElementsByTagName('ServiceException')[0];
    return e ? e.textContent.trim() : t.slice(0, 300);
  }

  // With `keep` (the slice shown before), a change of layer stays at the same run, valid time
  // (else the nearest) and level where the new layer has them, as a change of run does: a
  // forecaster going from TT to UU at 850 hPa, 18 UTC wants UU there, not at its defaults.
  function pickLayer(name, keep) {
    current = layers.filter(function (l) { return l.name === name; })[0];
    if (!current) return;
    // Names and titles come from the data (etiket, typvar): escaped, never markup.
    $('style').innerHTML = current.styles.map(function (s) { return '<option value="' + esc(s.name) + '">' + esc(s.title) + '</option>'; }).join('');
    $('run').innerHTML = current.reference_times.slice().reverse().map(function (t) { return '<option>' + esc(t) + '</option>'; }).join('');
    if (keep && current.reference_times.indexOf(keep.run) >= 0) $('run').value = keep.run;
    setRanges(keep && current.reference_times.indexOf(keep.run) >= 0 ? keep : null);
    if (!fitted[name]) {
      var b = current.bbox, shift = b[2] > 180 ? -360 : 0;
      map.fitBounds([[b[1], b[0] + shift], [b[3], b[2] + shift]]);
      fitted[name] = true;
    }
    refresh();
  }

  ['style', 'time', 'level', 'opacity'].forEach(function (id) { $(id).addEventListener('input', refresh); });
  $('range').addEventListener('change', refresh);
  // The slice shown, remembered across a change of run.
  var shown = null;
  $('run').addEventListener('change', function () { setRanges(shown); refresh(); });
  $('layer').addEventListener('change', function () { pickLayer($('layer').value, shown); });

  function esc(t) {
    return String(t).replace(/[&<>"]/g, function (c) { return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]; });
  }

  function degrees(v, pos, neg) {
    return Math.abs(v).toFixed(3) + '°' + (v >= 0 ? pos : neg);
  }

  // Observation layers (/collections): drawn above the field, with their own window, QC
  // filter and radius.
  var obsTiles = null;
  function obsQuery() {
    var q = 'radius=' + encodeURIComponent($('obsRadius').value);
    var t = $('obsTime').value.trim();
    if (t) q += '&time=' + encodeURIComponent(t);
    if ($('obsQc').value) q += '&qc=' + encodeURIComponent($('obsQc').value);
    return q;
  }
  // How many of the layer's observations with a value the QC filter keeps (over all
  // times): a filter that hides most of them says so, rather than leaving an empty map.
  var qcNoteFor = '';
  function noteQc() {
    var name = $('obsLayer').value, qc = $('obsQc').value, key = name + '|' + qc;
    qcNoteFor = key;
    $('obsQcNote').textContent = '';
    if (!name || qc === 'all') return;
    var stats = function (q) {
      return fetch('collections/' + encodeURIComponent(name) + '/stats' + q)
        .then(function (r) { return r.ok ? r.json() : null; });
    };
    Promise.all([stats(qc ? '?qc=' + encodeURIComponent(qc) : ''), stats('?qc=all')]).then(function (s) {
      if (qcNoteFor !== key || !s[0] || !s[1] || s[0].count === s[1].count) return;
      $('obsQcNote').textContent = s[0].count + ' of the ' + s[1].count +
        ' observations with a value pass this QC filter; a wider filter draws the others.';
    }).catch(function () {});
  }
  function refreshObs() {
    var name = $('obsLayer').value;
    $('obsRadiusText').textContent = $('obsRadius').value;
    if (obsTiles) { map.removeLayer(obsTiles); obsTiles = null; }
    if (!name) return;
    obsTiles = L.tileLayer('tiles/' + encodeURIComponent(name) + '/{z}/{x}/{y}.png?' + obsQuery(),
      { maxZoom: 12, zIndex: 10, className: 'obs-tiles' }).addTo(map);
  }
  ['obsLayer', 'obsQc', 'obsRadius'].forEach(function (id) { $(id).addEventListener('input', refreshObs); });
  ['obsLayer', 'obsQc'].forEach(function (id) { $(id).addEventListener('input', noteQc); });
  $('obsTime').addEventListener('change', refreshObs);
  fetch('collections').then(function (r) { return r.json(); }).then(function (cat) {
    // The panel shows only where the data directories hold observations.
    if (!cat.collections.length) return;
    $('obsPanel').style.display = '';
    $('obsLayer').innerHTML = '<option value="">(none)</option>' + cat.collections.map(function (c) {
      return '<option value="' + esc(c.id) + '">' + esc(c.id) + ' — ' + esc(c.title) + '</option>';
    }).join('');
    var query = new URLSearchParams(location.search), want = query.get('obs');
    var qcWanted = query.get('qc');
    if (qcWanted !== null) {
      var listed = Array.prototype.some.call($('obsQc').options, function (o) { return o.value === qcWanted; });
      if (!listed) {
        // Another largest flag (the server checks it): offered as it was asked.
        var o = document.createElement('option');
        o.value = qcWanted;
        o.textContent = 'flags 0 to ' + qcWanted;
        $('obsQc').appendChild(o);
      }
      $('obsQc').value = qcWanted;
    }
    if (want) { $('obsLayer').value = want; refreshObs(); noteQc(); }
  });

  function num(v) { return v === null || v === undefined ? '—' : (Math.round(v * 1000) / 1000); }

  // GetFeatureInfo of the observation layer: a 21×21-pixel CRS:84 image around the click
  // whose pixels are about the screen's, so that the server's pixel tolerance is the
  // screen's; the nearest observations (up to 10) with their metadata.
  function obsInfo(ll, done) {
    var name = $('obsLayer').value;
    if (!name) { done(''); return; }
    var dpp = 360 / (256 * Math.pow(2, map.getZoom())), half = 10.5 * dpp;
    var halfLat = half * Math.cos(ll.lat * Math.PI / 180);
    var url = 'wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&INFO_FORMAT=application/json&CRS=CRS:84' +
      '&LAYERS=' + encodeURIComponent(name) + '&QUERY_LAYERS=' + encodeURIComponent(name) +
      '&BBOX=' + [ll.lng - half, ll.lat - halfLat, ll.lng + half, ll.lat + halfLat].join(',') +
      '&WIDTH=21&HEIGHT=21&I=10&J=10&FEATURE_COUNT=10&' + obsQuery();
    fetch(url).then(function (r) { return r.json(); }).then(function (j) {
      if (!j.observations || !j.observations.length) { done(''); return; }
      var rows = j.observations.map(function (o) {
        return '<tr class="fi-obs" data-index="' + o.index + '"><td>' + esc(o.station || '') + '</td><td>' + esc(o.time || '') +
          '</td><td>' + num(o.value) + '</td><td>' + num(o.error) + '</td><td>' + (o.qc === null ? '—' : o.qc) +
          '</td><td>' + num(o.hofx) + '</td><td>' + num(o.omb) + '</td></tr>';
      }).join('');
      done('<b>' + esc(j.title) + '</b><table style="font-size:11px"><tr><th>station</th><th>time</th><th>value</th>' +
        '<th>error</th><th>QC</th><th>HofX</th><th>O−B</th></tr>' + rows + '</table>');
    }).catch(function () { done(''); });
  }

  // GetFeatureInfo at the clicked point itself: a 3×3-pixel CRS:84 image centred on the
  // clicked longitude and latitude, queried at its centre pixel (whose centre is the point),
  // so that the answer does not depend on the map's projection or extent.
  map.on('click', function (e) {
    if (!current) {
      obsInfo(e.latlng.wrap(), function (html) { if (html) L.popup().setLatLng(e.latlng).setContent(html).openOn(map); });
      return;
    }
    var s = selected();
    var ll = e.latlng.wrap(), d = 1e-4;
    var url = 'wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&INFO_FORMAT=application/json&CRS=CRS:84' +
      '&LAYERS=' + encodeURIComponent(s.layer.name) + '&QUERY_LAYERS=' + encodeURIComponent(s.layer.name) +
      '&BBOX=' + [ll.lng - d, ll.lat - d, ll.lng + d, ll.lat + d].join(',') +
      '&WIDTH=3&HEIGHT=3&I=1&J=1&' + query(s);
    fetch(url).then(function (r) {
      // An exception report (a refused dimension, a layer gone at a reload) is said in the
      // popup rather than lost as a rejected promise.
      if (!r.ok) return r.text().then(function (t) { throw new Error(exceptionText(t)); });
      return r.json();
    }).then(function (j) {
      var v = j.value === null || j.value === undefined ? 'no data' : (Math.round(j.value * 1000) / 1000) + ' ' + esc(j.units);
      var field = '<b>' + esc(j.title) + '</b><br><span class="fi-value" data-value="' + (j.value === null ? '' : j.value) + '">' + v + '</span>' +
        (j.level !== null ? '<br>level ' + esc(j.level) + ' ' + esc(j.level_units) : '') + '<br>' + esc(j.time) +
        '<br><span class="fi-where" data-lat="' + ll.lat + '" data-lon="' + ll.lng + '">' +
        degrees(ll.lat, 'N', 'S') + ', ' + degrees(ll.lng, 'E', 'W') + '</span>';
      // The observations first: they sit above the field.
      obsInfo(ll, function (obs) {
        L.popup({ maxWidth: 520 }).setLatLng(e.latlng).setContent((obs ? obs + '<hr>' : '') + field).openOn(map);
      });
    }).catch(function (err) {
      L.popup({ maxWidth: 520 }).setLatLng(e.latlng)
        .setContent('<span class="fi-error">' + esc(err.message) + '</span>').openOn(map);
    });
  });

  // For scripts and tests: the map and the current selection.
  window.fstViewer = { map: map, basemap: coasts, selected: function () { return current && selected(); } };

  fetch('api/layers').then(function (r) { return r.json(); }).then(function (cat) {
    layers = cat.layers;
    $('layer').innerHTML = layers.map(function (l) { return '<option value="' + esc(l.name) + '">' + esc(l.title) + '</option>'; }).join('');
    var params = new URLSearchParams(location.search);
    var first = params.get('layer') || (layers.filter(function (l) { return l.nomvar === 'TT'; })[0] || layers[0] || {}).name;
    if (params.get('colorscalerange')) { $('range').value = params.get('colorscalerange'); }
    if (first) { $('layer').value = first; pickLayer(first); }
  });
})();
