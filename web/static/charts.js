/* Draws each report chart with the vendored Chart.js. The CSP allows no inline script, so every chart's
   figures come in a <script type="application/json" class="chart-data"> block next to its canvas (data,
   never run) and are drawn from here once the page has loaded (the report page swaps nothing with htmx:
   a filter is a new page, so its address can be bookmarked). */
(function () {
  "use strict";

  // Each at least 4.5:1 against white (WCAG), so bars and lines read for people with low vision too.
  var COLOURS = ["#1f5fae", "#b54708", "#067647", "#6941c6", "#b42318", "#0e7090", "#c11574", "#475467"];
  var SHARE_LINE = "#b42318";

  function numbers(options) {
    return new Intl.NumberFormat("en-US", options);
  }

  // How a value reads, by the chart's unit: `exact` for tooltips, short for axis ticks.
  function formatter(unit, exact) {
    var format;
    if (unit === "money") {
      format = exact
        ? numbers({ style: "currency", currency: "USD" })
        : numbers({ style: "currency", currency: "USD", notation: "compact", maximumFractionDigits: 1 });
      return function (v) { return format.format(v); };
    }
    if (unit === "percent") {
      format = numbers({ style: "percent", maximumFractionDigits: exact ? 1 : 0 });
      return function (v) { return format.format(v); };
    }
    if (unit === "number") {
      format = numbers({ maximumFractionDigits: 1 });
      return function (v) { return format.format(v) + (exact ? " days" : ""); };
    }
    format = exact ? numbers({ maximumFractionDigits: 0 }) : numbers({ notation: "compact", maximumFractionDigits: 1 });
    return function (v) { return format.format(v); };
  }

  var AXIS_TITLES = { money: "Dollars", count: "Count", number: "Days", percent: "Share" };

  function valueAxis(unit, stacked) {
    var tick = formatter(unit, false);
    var axis = {
      beginAtZero: true,
      stacked: stacked,
      title: { display: true, text: AXIS_TITLES[unit] || "" },
      ticks: { callback: function (v) { return tick(v); } }
    };
    if (unit === "count") {
      axis.ticks.precision = 0;
    }
    return axis;
  }

  function datasets(figure) {
    var line = figure.kind === "line";
    return figure.series.map(function (series, i) {
      var colour = COLOURS[i % COLOURS.length];
      return {
        label: series.name,
        data: series.values,
        unit: figure.unit,
        backgroundColor: colour,
        borderColor: colour,
        borderWidth: line ? 2 : 0,
        pointRadius: line ? 3 : 0,
        maxBarThickness: 64,
        spanGaps: false
      };
    });
  }

  function config(figure) {
    var stacked = figure.kind === "stacked_bar";
    var sets = datasets(figure);
    var scales = {
      x: { stacked: stacked, ticks: { autoSkip: true, maxRotation: 60 } },
      y: valueAxis(figure.unit, stacked)
    };
    if (figure.kind === "pareto") {
      // the bars by dollars, and the running share of them on a second, 0-100% axis
      var share = sets[1];
      share.type = "line";
      share.unit = "percent";
      share.yAxisID = "share";
      share.backgroundColor = SHARE_LINE;
      share.borderColor = SHARE_LINE;
      share.borderWidth = 2;
      share.pointRadius = 3;
      share.order = 0;
      sets[0].order = 1;
      scales.share = valueAxis("percent", false);
      scales.share.position = "right";
      scales.share.min = 0;
      scales.share.max = 1;
      scales.share.title.text = "Cumulative share";
      scales.share.grid = { drawOnChartArea: false };
    }
    return {
      type: figure.kind === "line" ? "line" : "bar",
      data: { labels: figure.labels, datasets: sets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        layout: { padding: { top: 8 } },  // a point at the top of the scale is drawn whole
        scales: scales,
        plugins: {
          legend: {
            display: sets.length > 1,
            position: "bottom",
            labels: { sort: function (a, b) { return a.datasetIndex - b.datasetIndex; } }
          },
          tooltip: {
            callbacks: {
              label: function (context) {
                var value = context.parsed.y;
                var shown = value === null ? "no figure" : formatter(context.dataset.unit, true)(value);
                return context.dataset.label + ": " + shown;
              }
            }
          }
        }
      }
    };
  }

  function drawIn(root) {
    if (typeof Chart === "undefined") {
      return;
    }
    Chart.defaults.color = "#4a5565";
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    root.querySelectorAll("figure.report-chart").forEach(function (figure) {
      var canvas = figure.querySelector("canvas");
      var block = figure.querySelector("script.chart-data");
      if (canvas && block && !Chart.getChart(canvas)) {
        new Chart(canvas, config(JSON.parse(block.textContent)));
      }
    });
  }

  drawIn(document);
})();
