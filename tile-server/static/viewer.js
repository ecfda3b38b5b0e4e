// fstgis viewer: layer picker, time/level sliders, legend, GetFeatureInfo popup.
(function () {
  'use strict';
  var map = L.map('map', { worldCopyJump: true }).setView([50, -95], 3);
  var osm = L.tileLayer('https://tile.openstreetmap.org/{z}/{x}/{y}.png', { attribution: '© OpenStreetMap', maxZoom: 12 });
  var graticule = L.layerGroup();
  for (var lon = -180; lon <= 180; lon += 10) { L.polyline([[-85, lon], [85, lon]], { color: '#999', weight: 0.5 }).addTo(graticule); }
  for (var lat = -80; lat <= 80; lat += 10) { L.polyline([[lat, -540], [lat, 540]], { color: '#999', weight: 0.5 }).addTo(graticule); }
  graticule.addTo(map);
  L.control.layers({ 'None (offline)': L.layerGroup().addTo(map), 'OpenStreetMap (online)': osm }, { Graticule: graticule }).addTo(map);

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
      opacity: $('opacity').value
    };
  }

  function setRanges(pickDefault) {
    var r = runInfo();
    $('time').max = Math.max(0, r.times.length - 1);
    if (pickDefault) {
      var dt = r.times.indexOf(current.default_time);
      $('time').value = dt < 0 ? r.times.length - 1 : dt;
      $('level').value = 0;
    }
    $('level').max = Math.max(0, r.levels.length - 1);
  }

  function query(s) {
    var q = 'style=' + encodeURIComponent(s.style) + '&time=' + encodeURIComponent(s.time) + '&reference_time=' + encodeURIComponent(s.run);
    if (s.level !== null) q += '&elevation=' + encodeURIComponent(s.level);
    return q;
  }

  function refresh() {
    var s = selected();
    $('timeText').textContent = s.time || '';
    $('levelText').textContent = s.level === null ? '' : s.level + ' ' + s.layer.level_units;
    var url = 'tiles/' + encodeURIComponent(s.layer.name) + '/{z}/{x}/{y}.png?' + query(s);
    if (tiles) { map.removeLayer(tiles); }
    tiles = L.tileLayer(url, { opacity: s.opacity / 100, maxZoom: 12, className: 'fst-tiles' }).addTo(map);
    $('legendImg').src = 'wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&FORMAT=image/png&LAYER=' +
      encodeURIComponent(s.layer.name) + '&STYLE=' + encodeURIComponent(s.style);
  }

  function pickLayer(name) {
    current = layers.filter(function (l) { return l.name === name; })[0];
    if (!current) return;
    $('style').innerHTML = current.styles.map(function (s) { return '<option value="' + s.name + '">' + s.title + '</option>'; }).join('');
    $('run').innerHTML = current.reference_times.slice().reverse().map(function (t) { return '<option>' + t + '</option>'; }).join('');
    setRanges(true);
    if (!fitted[name]) {
      var b = current.bbox, shift = b[2] > 180 ? -360 : 0;
      map.fitBounds([[b[1], b[0] + shift], [b[3], b[2] + shift]]);
      fitted[name] = true;
    }
    refresh();
  }

  ['style', 'time', 'level', 'opacity'].forEach(function (id) { $(id).addEventListener('input', refresh); });
  $('run').addEventListener('change', function () { setRanges(false); refresh(); });
  $('layer').addEventListener('change', function () { pickLayer($('layer').value); });

  map.on('click', function (e) {
    if (!current) return;
    var s = selected();
    var size = map.getSize(), b = map.getBounds();
    var p = map.latLngToContainerPoint(e.latlng);
    var url = 'wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetFeatureInfo&INFO_FORMAT=application/json&CRS=CRS:84' +
      '&LAYERS=' + encodeURIComponent(s.layer.name) + '&QUERY_LAYERS=' + encodeURIComponent(s.layer.name) +
      '&BBOX=' + [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].join(',') +
      '&WIDTH=' + size.x + '&HEIGHT=' + size.y + '&I=' + Math.floor(p.x) + '&J=' + Math.floor(p.y) + '&' + query(s);
    fetch(url).then(function (r) { return r.json(); }).then(function (j) {
      var v = j.value === null ? 'no data' : (Math.round(j.value * 1000) / 1000) + ' ' + j.units;
      L.popup().setLatLng(e.latlng).setContent('<b>' + j.title + '</b><br>' + v +
        (j.level !== null ? '<br>level ' + j.level + ' ' + j.level_units : '') + '<br>' + j.time).openOn(map);
    });
  });

  fetch('api/layers').then(function (r) { return r.json(); }).then(function (cat) {
    layers = cat.layers;
    $('layer').innerHTML = layers.map(function (l) { return '<option value="' + l.name + '">' + l.title + '</option>'; }).join('');
    var params = new URLSearchParams(location.search);
    var first = params.get('layer') || (layers.filter(function (l) { return l.nomvar === 'TT'; })[0] || layers[0] || {}).name;
    if (first) { $('layer').value = first; pickLayer(first); }
  });
})();
