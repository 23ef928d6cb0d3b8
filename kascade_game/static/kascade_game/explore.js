// Explore: draws the binned data the page carries (json_script blocks) with the local
// plotly.js, refetches the 1-D histogram when its column or bins change, and redraws
// charts that htmx swaps in (the composition while predictions are computed).
// No inline scripts or handlers: the CSP allows only our own files.
(function () {
  "use strict";

  var GROUP_COLOURS = { p: "#7fd1ff", He: "#8be38b", C: "#ffd166", Si: "#f4a261", Fe: "#ff8a80" };
  var OTHER_COLOUR = "#7fd1ff";
  var BASE_LAYOUT = {
    paper_bgcolor: "#1b2b4d", plot_bgcolor: "#14213d", font: { color: "#eef2fb" },
    margin: { t: 16, r: 12, b: 52, l: 60 }
  };
  var CONFIG = { displaylogo: false, responsive: true };

  function layout(extra) {
    var result = {};
    Object.keys(BASE_LAYOUT).forEach(function (key) { result[key] = BASE_LAYOUT[key]; });
    Object.keys(extra || {}).forEach(function (key) { result[key] = extra[key]; });
    return result;
  }

  function readJson(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  // Words the page translated (data-text-* attributes), with the English as a fallback;
  // %(name)s placeholders are filled from values.
  function text(element, name, fallback, values) {
    var result = (element && element.getAttribute("data-text-" + name)) || fallback;
    Object.keys(values || {}).forEach(function (key) {
      result = result.split("%(" + key + ")s").join(String(values[key]));
    });
    return result;
  }

  function axisTitle(column, unit) {
    return unit && unit !== "—" ? column + " (" + unit + ")" : column;
  }

  // --- 1-D histogram -------------------------------------------------------------------
  function drawHistogram(element, data) {
    var traces = data.series.map(function (series) {
      return {
        type: "bar", name: series.group === "all" ? text(element, "all-showers", "all showers") : series.group + " (" + series.label + ")",
        x: data.centers, y: series.counts, width: data.width,
        marker: { color: GROUP_COLOURS[series.group] || OTHER_COLOUR, line: { width: 0 } },
        hovertemplate: "%{x:.3g}: %{y} " + text(element, "showers", "showers") + "<extra>" + series.group + "</extra>"
      };
    });
    window.Plotly.react(element, traces, layout({
      barmode: "stack", bargap: 0,
      xaxis: { title: { text: axisTitle(data.column, data.unit) } },
      yaxis: { title: { text: text(element, "showers", "showers") } },
      legend: { orientation: "h", x: 0, y: 1.02, xanchor: "left", yanchor: "bottom", traceorder: "normal" },
      margin: { t: data.series.length > 1 ? 56 : 16, r: 12, b: 52, l: 60 },
      showlegend: data.series.length > 1
    }), CONFIG);
    element.setAttribute("aria-label",
      text(element, "label", "Histogram of %(column)s (%(unit)s) in %(bins)s bins",
        { column: data.column, unit: data.unit, bins: data.bins }) +
      (data.stacked ? ", " + text(element, "stacked", "stacked by true mass group") : "") +
      "; " + text(element, "numbers", "the numbers are in the table below."));
  }

  function cell(tag, text, numeric) {
    var element = document.createElement(tag);
    element.textContent = text;
    if (numeric) { element.className = "num"; }
    if (tag === "th") { element.scope = "col"; }
    return element;
  }

  function fillHistogramTable(table, data, element) {
    if (!table) { return; }
    var several = data.series.length > 1;
    var head = document.createElement("tr");
    head.appendChild(cell("th", text(element, "from", "%(column)s from", { column: data.column })));
    head.appendChild(cell("th", text(element, "to", "to")));
    data.series.forEach(function (series) { head.appendChild(cell("th", series.group, true)); });
    if (several) { head.appendChild(cell("th", text(element, "all", "all"), true)); }
    table.tHead.replaceChildren(head);
    var rows = [];
    for (var i = 0; i < data.bins; i += 1) {
      var row = document.createElement("tr");
      row.appendChild(cell("td", data.edges[i].toFixed(3)));
      row.appendChild(cell("td", data.edges[i + 1].toFixed(3)));
      data.series.forEach(function (series) { row.appendChild(cell("td", String(series.counts[i]), true)); });
      if (several) { row.appendChild(cell("td", String(data.totals[i]), true)); }
      rows.push(row);
    }
    table.tBodies[0].replaceChildren.apply(table.tBodies[0], rows);
  }

  function setUpHistogram() {
    var element = document.querySelector("[data-histogram-chart]");
    var form = document.getElementById("histogram-form");
    var data = readJson("histogram-data");
    if (!element || !data) { return; }
    drawHistogram(element, data);
    if (!form) { return; }
    var column = form.querySelector("[name=column]");
    var bins = form.querySelector("[name=bins]");
    var shown = document.getElementById("histogram-bins-value");
    var timer = null;
    var latest = 0;

    function refresh() {
      var ticket = ++latest;
      var url = form.getAttribute("data-histogram-url") + "?" +
        new URLSearchParams({ column: column.value, bins: bins.value }).toString();
      element.setAttribute("aria-busy", "true");
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) { throw new Error("histogram: HTTP " + response.status); }
          return response.json();
        })
        .then(function (fresh) {
          if (ticket !== latest) { return; }
          drawHistogram(element, fresh);
          fillHistogramTable(document.getElementById("histogram-table"), fresh, element);
          element.setAttribute("data-histogram-column", fresh.column);
          element.setAttribute("data-histogram-bins", String(fresh.bins));
        })
        .catch(function (error) { console.warn(error); })
        .then(function () { element.removeAttribute("aria-busy"); });
    }

    element.setAttribute("data-histogram-column", data.column);
    element.setAttribute("data-histogram-bins", String(data.bins));
    form.addEventListener("submit", function (event) { event.preventDefault(); refresh(); });
    column.addEventListener("change", refresh);
    bins.addEventListener("input", function () {
      if (shown) { shown.textContent = bins.value; }
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, 200);
    });
  }

  // --- 2-D histograms ------------------------------------------------------------------
  function drawMap(element, data) {
    var ticks = [];
    var labels = [];
    [0, 1, 10, 100, 1000, 10000, 100000].forEach(function (count) {
      if (count <= Math.max(1, data.peak)) {
        ticks.push(Math.log10(count + 1));
        labels.push(String(count));
      }
    });
    var trace = {
      type: "heatmap", x: data.x.centers, y: data.y.centers, z: data.zlog, customdata: data.z,
      colorscale: "Viridis", zmin: 0, zmax: Math.log10(Math.max(1, data.peak) + 1),
      colorbar: { title: { text: text(element, "showers", "showers") }, tickvals: ticks, ticktext: labels },
      hovertemplate: data.x.column + " %{x:.3g}, " + data.y.column + " %{y:.3g}: %{customdata} " +
        text(element, "showers", "showers") + "<extra></extra>"
    };
    window.Plotly.react(element, [trace], layout({
      xaxis: { title: { text: axisTitle(data.x.column, data.x.unit) } },
      yaxis: { title: { text: axisTitle(data.y.column, data.y.unit) } }
    }), CONFIG);
  }

  // --- composition ---------------------------------------------------------------------
  function drawPie(element, title, counts, groups, labels) {
    var trace = {
      type: "pie", sort: false, direction: "clockwise", hole: 0.35,
      labels: groups.map(function (group, i) { return group + " (" + labels[i] + ")"; }),
      values: groups.map(function (group) { return counts[group]; }),
      marker: { colors: groups.map(function (group) { return GROUP_COLOURS[group]; }), line: { color: "#1b2b4d", width: 2 } },
      text: groups, textinfo: "text+percent", textposition: "inside", insidetextorientation: "horizontal",
      hovertemplate: "%{label}: %{value} showers (%{percent})<extra>" + title + "</extra>"
    };
    window.Plotly.react(element, [trace], layout({
      margin: { t: 10, r: 10, b: 10, l: 10 }, showlegend: false
    }), CONFIG);
  }

  function drawComposition(root) {
    var data = readJson("composition-data");
    if (!data) { return; }
    root.querySelectorAll("[data-composition-chart]").forEach(function (element) {
      var model = data.models[Number(element.getAttribute("data-composition-chart"))];
      if (model) { drawPie(element, model.label, model.counts, data.groups, data.labels); }
    });
    var truth = root.querySelector("[data-truth-chart]");
    if (truth && data.truth) { drawPie(truth, "truth", data.truth, data.groups, data.labels); }
  }

  function drawAll(root) {
    if (!window.Plotly) { return; }
    root.querySelectorAll("[data-map-chart]").forEach(function (element) {
      var data = readJson(element.getAttribute("data-map-chart"));
      if (data) { drawMap(element, data); }
    });
    if (root.querySelector("[data-composition-chart], [data-truth-chart]")) { drawComposition(root); }
  }

  setUpHistogram();
  drawAll(document);

  // The composition is polled by htmx while the forests compute: purge the plots that
  // leave (so their resize handlers go too) and draw the ones that arrive.
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && window.Plotly) {
      target.querySelectorAll(".js-plotly-plot").forEach(function (plot) { window.Plotly.purge(plot); });
    }
  });
  document.body.addEventListener("htmx:afterSettle", function () {
    var section = document.getElementById("composition");
    if (section && section.querySelector(
      "[data-composition-chart]:not(.js-plotly-plot), [data-truth-chart]:not(.js-plotly-plot)")) {
      drawAll(section);
    }
  });
})();
