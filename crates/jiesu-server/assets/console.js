// The console's own script: no inline script anywhere (the Content-Security-Policy forbids it).
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  // 考核: the composite per street as a bar chart (ECharts, served by this server).
  var el = document.getElementById("chart");
  if (el && window.echarts) {
    var data = JSON.parse(el.getAttribute("data-chart"));
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      grid: { left: 40, right: 12, top: 16, bottom: 72 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: data.names, axisLabel: { rotate: 45, interval: 0, fontSize: 11 } },
      yAxis: { type: "value", min: 0, max: 100 },
      series: [{ type: "bar", data: data.values, itemStyle: { color: "#1f4e9c" }, barMaxWidth: 28 }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  // 网格: the phone's position (WGS-84, as the API takes it) goes with the report.
  var locate = document.getElementById("locate");
  if (locate && navigator.geolocation) {
    locate.addEventListener("click", function () {
      var out = document.getElementById("position");
      var en = document.documentElement.lang === "en";
      out.textContent = en ? "Locating…" : "定位中…";
      navigator.geolocation.getCurrentPosition(function (p) {
        document.getElementById("lat").value = p.coords.latitude.toFixed(6);
        document.getElementById("lon").value = p.coords.longitude.toFixed(6);
        out.textContent = (en ? "Located " : "已定位 ") + p.coords.latitude.toFixed(5) + ", " +
          p.coords.longitude.toFixed(5) + (en ? " (±" + Math.round(p.coords.accuracy) + " m)" : "（±" + Math.round(p.coords.accuracy) + " 米）");
      }, function (e) {
        out.textContent = (en ? "Cannot locate: " : "无法定位：") + e.message;
      }, { enableHighAccuracy: true, timeout: 10000 });
    });
  }
  // Forms that change a case: one click files once.
  document.querySelectorAll("form[method=post]").forEach(function (f) {
    f.addEventListener("submit", function () {
      setTimeout(function () {
        f.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  });
});
