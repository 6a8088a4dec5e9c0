// 地图: the unit grid cells coloured by the counts of /map/data, over the district outline, both
// from /map/geometry.json (GeoJSON, GCJ-02) registered with ECharts; nothing from outside.
// A click on a cell (or a street in the table) shows its count and a link to its cases.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  var el = document.getElementById("map");
  if (!el) { return; }
  var summary = document.getElementById("map-summary");
  var panel = document.getElementById("cell-panel");
  var geometryUrl = el.getAttribute("data-geometry");
  // The page's language (`<html lang>`, from the console's switch): Chinese unless English.
  var en = document.documentElement.lang === "en";
  function L(zh, english) { return en ? english : zh; }
  function cases(n) { return en ? " " + n + " cases" : " " + n + " 件"; }

  function getJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().catch(function () { throw new Error(L("登录已过期，请刷新页面", "Session expired: reload the page")); }).then(function (body) {
        if (!r.ok) {
          var e = body && body.error;
          var fields = e && e.fields ? e.fields.map(function (f) { return f.field + L("：", ": ") + f.message; }) : [];
          throw new Error(fields.length ? fields.join(L("；", "; ")) : (e ? e.message : r.status));
        }
        return body;
      });
    });
  }

  function text(tag, content, cls) {
    var n = document.createElement(tag);
    n.textContent = content;
    if (cls) { n.className = cls; }
    return n;
  }

  function setSummary(d) {
    summary.textContent = "";
    summary.appendChild(document.createTextNode(d.period_label + " · " + d.measure_label + " "));
    var b = text("b", String(d.total));
    b.id = "map-total";
    summary.appendChild(b);
    var unplaced = en ? " (" + d.without_cell + " without a grid cell)" : "（其中 " + d.without_cell + " 件未定位到网格）";
    summary.appendChild(document.createTextNode(L(" 件", " cases") + (d.without_cell ? unplaced : "")));
  }

  function show(title, info, href) {
    document.getElementById("cell-title").textContent = title;
    document.getElementById("cell-info").textContent = info;
    document.getElementById("cell-cases").setAttribute("href", href);
    panel.hidden = false;
    // On a phone the panel is under the map: bring it into view.
    if (window.matchMedia("(max-width: 760px)").matches) { panel.scrollIntoView({ block: "nearest" }); }
  }

  function streetTable(d, pick) {
    var body = document.querySelector("#street-table tbody");
    body.textContent = "";
    d.streets.forEach(function (s) {
      var tr = document.createElement("tr");
      var name = document.createElement("td");
      var a = text("a", s.name);
      a.href = "/cases?" + d.list + (s.code ? "&street=" + encodeURIComponent(s.code) : "");
      a.addEventListener("click", function (ev) {
        if (s.code && pick) { ev.preventDefault(); pick(s.code, tr); }
      });
      name.appendChild(a);
      tr.appendChild(name);
      tr.appendChild(text("td", String(s.cases), "n"));
      if (s.code) { tr.setAttribute("data-street", s.code); }
      body.appendChild(tr);
    });
  }

  var counts = getJson(el.getAttribute("data-counts"));
  if (!geometryUrl || !window.echarts) {
    counts.then(function (d) { setSummary(d); streetTable(d, null); })
      .catch(function (e) { summary.textContent = L("加载失败：", "Could not load: ") + e.message; });
    return;
  }

  Promise.all([getJson(geometryUrl), counts]).then(function (both) {
    var g = both[0], d = both[1];
    var echarts = window.echarts;
    echarts.registerMap("jiesu-outline", g.outline);
    echarts.registerMap("jiesu-grid", g.cells);
    var streetName = {}, streetTotal = {}, cellCount = {}, cellStreet = {};
    g.streets.forEach(function (s) { streetName[s.code] = s.name; });
    d.streets.forEach(function (s) { if (s.code) { streetTotal[s.code] = s.cases; } });
    d.cells.forEach(function (c) { cellCount[c[0]] = c[1]; });
    // 三色预警: a cell's colour now, drawn as its border; the legend counts them.
    var alarm = {}, ALARM = { red: "#d7191c", yellow: "#e6a700" }, ALARM_LABEL = { red: L("红色", "red"), yellow: L("黄色", "yellow") };
    var alarmCount = { red: 0, yellow: 0 };
    (d.alarms || []).forEach(function (a) { alarm[a[0]] = a[1]; alarmCount[a[1]] += 1; });
    g.cells.features.forEach(function (f) { cellStreet[f.properties.name] = f.properties.street; });
    var maxStreet = d.streets.reduce(function (m, s) { return Math.max(m, s.cases); }, 0);
    var mode = "grid";
    var chart = echarts.init(el, null, { renderer: "svg" });
    // Both layers laid out on the same box, so that they stay one on the other.
    var place = {
      aspectScale: g.aspect_scale,
      boundingCoords: [[g.bounds[0][0], g.bounds[1][1]], [g.bounds[1][0], g.bounds[0][1]]],
      layoutCenter: ["50%", "50%"],
      layoutSize: "100%",
      roam: true,
      scaleLimit: { min: 1, max: 12 }
    };
    // Only cells with cases get a value (and a colour); the others keep the series' grey.
    function values() {
      var out = [];
      g.cells.features.forEach(function (f) {
        var code = f.properties.name;
        var n = mode === "grid" ? (cellCount[code] || 0) : (streetTotal[cellStreet[code]] || 0);
        var a = alarm[code];
        if (n > 0 || a) {
          var item = { name: code, value: n > 0 ? n : undefined };
          if (a) { item.itemStyle = { borderColor: ALARM[a], borderWidth: 2.5 }; }
          out.push(item);
        }
      });
      return out;
    }
    // Bands of the colour scale: one per count up to 5, else five growing geometrically (a few
    // hot cells and many with one or two cases is the usual shape).
    var COLORS = ["#fecc5c", "#fd8d3c", "#f03b20", "#bd0026", "#800026"];
    function pieces() {
      var max = Math.max(mode === "grid" ? d.max_cell : maxStreet, 1);
      var edges = [];
      if (max <= COLORS.length) {
        for (var i = 1; i <= max + 1; i++) { edges.push(i); }
      } else {
        for (var k = 0; k <= COLORS.length; k++) {
          var e = k === COLORS.length ? max + 1 : Math.round(Math.pow(max, k / COLORS.length));
          if (!edges.length || e > edges[edges.length - 1]) { edges.push(e); }
        }
      }
      var out = [];
      for (var j = 0; j + 1 < edges.length; j++) {
        var lo = edges[j], hi = edges[j + 1] - 1;
        var color = COLORS[Math.round(j * (COLORS.length - 1) / Math.max(edges.length - 2, 1))];
        out.push({ min: lo, max: hi, label: lo === hi ? String(lo) : lo + "–" + hi, color: color });
      }
      return out.reverse();
    }
    function esc(s) { return echarts.format.encodeHTML(String(s)); }
    chart.setOption({
      animation: false,
      tooltip: {
        trigger: "item", confine: true,
        formatter: function (p) {
          if (p.seriesType !== "map") { return ""; }
          var street = cellStreet[p.name];
          var n = mode === "grid" ? (cellCount[p.name] || 0) : (streetTotal[street] || 0);
          var where = mode === "grid" ? L("网格 ", "Grid ") + esc(p.name) + "<br>" + esc(streetName[street] || "") : esc(streetName[street] || "");
          var warn = alarm[p.name] ? "<br>" + L("三色预警：", "Alarm colour: ") + ALARM_LABEL[alarm[p.name]] : "";
          return where + "<br>" + esc(d.measure_label) + cases(n) + warn;
        }
      },
      title: {
        text: L("三色预警（网格边框）  {r|■} 红色 " + alarmCount.red + " 格  {y|■} 黄色 " + alarmCount.yellow + " 格",
                "Alarm colours (cell border)  {r|■} red " + alarmCount.red + " cells  {y|■} yellow " + alarmCount.yellow + " cells"),
        right: 6, top: 4,
        textStyle: { fontSize: 11, fontWeight: "normal", rich: { r: { color: ALARM.red }, y: { color: ALARM.yellow } } }
      },
      visualMap: {
        type: "piecewise", pieces: pieces(), seriesIndex: 0, left: 6, bottom: 6, itemWidth: 14, itemHeight: 10,
        itemGap: 4, textStyle: { fontSize: 11 }, selectedMode: false
      },
      geo: Object.assign({
        map: "jiesu-outline", silent: true, z: 3,
        itemStyle: { areaColor: "rgba(0,0,0,0)", borderColor: "#1f4e9c", borderWidth: 1.6 },
        emphasis: { disabled: true }, select: { disabled: true }, tooltip: { show: false }
      }, place),
      series: [Object.assign({
        type: "map", map: "jiesu-grid", z: 2, selectedMode: false, data: values(),
        itemStyle: { areaColor: "#e9eef4", borderColor: "#ffffff", borderWidth: 0.3 },
        emphasis: { label: { show: false }, itemStyle: { areaColor: "#1f4e9c", borderColor: "#1f4e9c" } }
      }, place)]
    });
    el.setAttribute("data-ready", "true");
    // Pan and zoom the outline with the cells.
    chart.on("georoam", function () {
      var s = chart.getOption().series[0];
      chart.setOption({ geo: { center: s.center, zoom: s.zoom } });
    });
    setSummary(d);

    function pickStreet(code, row) {
      document.querySelectorAll("#street-table tr.picked").forEach(function (r) { r.classList.remove("picked"); });
      if (row) { row.classList.add("picked"); }
      show(streetName[code] || code, d.measure_label + cases(streetTotal[code] || 0),
        "/cases?" + d.list + "&street=" + encodeURIComponent(code));
    }
    streetTable(d, pickStreet);
    chart.on("click", { seriesIndex: 0 }, function (p) {
      var street = cellStreet[p.name];
      if (mode === "street") {
        pickStreet(street, document.querySelector("#street-table tr[data-street='" + street + "']"));
        return;
      }
      var title = document.getElementById("cell-title");
      show("", (streetName[street] || "") + " · " + d.measure_label + cases(cellCount[p.name] || 0),
        "/cases?" + d.list + "&grid=" + encodeURIComponent(p.name));
      title.textContent = L("网格 ", "Grid ");
      var code = text("code", p.name);
      code.id = "cell-code";
      title.appendChild(code);
    });

    function setMode(m) {
      mode = m;
      document.getElementById("mode-grid").classList.toggle("active", m === "grid");
      document.getElementById("mode-street").classList.toggle("active", m === "street");
      document.getElementById("mode-grid").setAttribute("aria-pressed", String(m === "grid"));
      document.getElementById("mode-street").setAttribute("aria-pressed", String(m === "street"));
      chart.setOption({ visualMap: { pieces: pieces() }, series: [{ data: values() }] });
    }
    document.getElementById("mode-grid").addEventListener("click", function () { setMode("grid"); });
    document.getElementById("mode-street").addEventListener("click", function () { setMode("street"); });
    window.addEventListener("resize", function () { chart.resize(); });
  }).catch(function (e) {
    summary.textContent = L("加载失败：", "Could not load: ") + e.message;
  });
});
