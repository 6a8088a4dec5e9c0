// 考核: the composite per month for the district and the chosen unit (ECharts, served by this
// server; the figures come in the page as JSON in data-trend).
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  var el = document.getElementById("trend");
  if (!el || !window.echarts) {
    return;
  }
  var data = JSON.parse(el.getAttribute("data-trend"));
  var series = [{
    name: data.district_name || "全区", type: "line", data: data.district, connectNulls: false, symbolSize: 6,
    itemStyle: { color: "#1f4e9c" }, lineStyle: { width: 2 }
  }];
  if (data.unit) {
    series.push({
      name: data.unit_name, type: "line", data: data.unit, connectNulls: false, symbolSize: 6,
      itemStyle: { color: "#c0392b" }, lineStyle: { width: 2 }
    });
  }
  var chart = window.echarts.init(el, null, { renderer: "svg" });
  chart.setOption({
    animation: false,
    grid: { left: 40, right: 12, top: 36, bottom: 48 },
    legend: { top: 0, data: series.map(function (s) { return s.name; }) },
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: data.months, axisLabel: { rotate: 45, fontSize: 11 } },
    yAxis: { type: "value", min: 0, max: 100, name: data.axis_name || "综合" },
    series: series
  });
  window.addEventListener("resize", function () { chart.resize(); });
});
