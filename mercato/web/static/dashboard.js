// The console's charts: the dashboard's daily sales, and the live counts of the social plays.
// The dashboard's daily sales chart. The page passes the series as JSON in
// data-sales-chart (and the series names in data-names); the numbers are also in a table, so
// without this script (or the chart bundle) nothing is lost. Needs window.MercatoCharts
// (/static/build/charts.min.js, built by scripts/bootstrap).
(function () {
  "use strict";

  function escape(text) {
    var div = document.createElement("div");
    div.textContent = String(text);
    return div.innerHTML;
  }

  function draw(element) {
    if (!window.MercatoCharts) return;
    var data = JSON.parse(element.getAttribute("data-sales-chart"));
    var names = JSON.parse(element.getAttribute("data-names"));
    var reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    var chart = window.MercatoCharts.init(element);
    chart.setOption({
      animation: !reduced,
      color: ["#1f3a5f", "#b3261e"],
      grid: { left: 48, right: 64, top: 24, bottom: 32, containLabel: false },
      tooltip: {
        trigger: "axis",
        formatter: function (points) {
          var i = points[0].dataIndex;
          return (
            escape(data.labels[i]) + "<br>" + escape(names.orders) + ": " + escape(data.orders[i]) +
            "<br>" + escape(names.gmv) + ": " + escape(data.gmv_text[i])
          );
        },
      },
      xAxis: { type: "category", data: data.labels, axisLabel: { hideOverlap: true } },
      yAxis: [
        { type: "value", minInterval: 1, name: names.orders, nameTextStyle: { align: "left" } },
        {
          type: "value",
          name: names.gmv,
          nameTextStyle: { align: "right" },
          splitLine: { show: false },
          axisLabel: { formatter: function (value) { return String(value); } },
        },
      ],
      series: [
        { name: names.orders, type: "bar", data: data.orders, yAxisIndex: 0 },
        {
          name: names.gmv,
          type: "line",
          yAxisIndex: 1,
          smooth: false,
          data: data.gmv.map(function (minor) { return minor / data.scale; }),
        },
      ],
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  // A stacked horizontal bar chart of live counts (the social plays' console pages):
  // data-bar-chart holds {labels: [...], series: [{name, data: [...]}, ...]}; the tooltip names
  // each series (the bundle has no legend, charts.js) and the numbers are in the table beside it.
  function drawBars(element) {
    if (!window.MercatoCharts) return;
    var data = JSON.parse(element.getAttribute("data-bar-chart"));
    var reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    var chart = window.MercatoCharts.init(element);
    chart.setOption({
      animation: !reduced,
      color: ["#1f3a5f", "#b3261e", "#c9a227", "#5b6475", "#2e7d32"],
      grid: { left: 8, right: 16, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: data.labels, axisLabel: { width: 160, overflow: "truncate" } },
      series: data.series.map(function (s) {
        return { name: s.name, type: "bar", stack: "total", data: s.data };
      }),
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function start() {
    var charts = document.querySelectorAll("[data-sales-chart]");
    for (var i = 0; i < charts.length; i++) draw(charts[i]);
    var bars = document.querySelectorAll("[data-bar-chart]");
    for (var j = 0; j < bars.length; j++) drawBars(bars[j]);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
