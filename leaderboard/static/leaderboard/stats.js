// Grouped bar charts of accuracy from the JSON the page carries (plotly.js served locally).
(function () {
  "use strict";
  var palette = ["#ffcc33", "#7fd1ff", "#8be38b", "#f4a261"];
  var patterns = ["", "/", "x", "."];
  document.querySelectorAll("[data-chart-source]").forEach(function (element) {
    var source = document.getElementById(element.getAttribute("data-chart-source"));
    if (!source || !window.Plotly) { return; }
    var table = JSON.parse(source.textContent);
    var traces = table.series.map(function (series, index) {
      return {
        type: "bar", name: series.name, x: table.categories,
        y: series.values.map(function (v) { return v === null ? null : 100 * v; }),
        marker: { color: palette[index % palette.length], pattern: { shape: patterns[index % patterns.length] } },
        hovertemplate: "%{x}: %{y:.0f} %<extra>" + series.name + "</extra>"
      };
    });
    window.Plotly.newPlot(element, traces, {
      barmode: "group", paper_bgcolor: "#1b2b4d", plot_bgcolor: "#1b2b4d",
      font: { color: "#eef2fb" }, yaxis: { title: { text: element.getAttribute("data-text-axis") || "right (%)" }, range: [0, 100] },
      margin: { t: 20, r: 10, b: 50, l: 60 }, legend: { orientation: "h" }
    }, { displaylogo: false, responsive: true });
  });
})();
