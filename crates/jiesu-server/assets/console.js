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
  // Forms that change a case: one click files once.
  document.querySelectorAll("form[method=post]").forEach(function (f) {
    f.addEventListener("submit", function () {
      setTimeout(function () {
        f.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  });
});
