// Draws the dashboard's charts from the data-chart attribute of each <canvas>.
// The figures are also in the table next to each chart, for screen readers and printing.
(function () {
  "use strict";
  if (typeof Chart === "undefined") {
    return;
  }
  var palette = ["#198754", "#0d6efd", "#dc3545", "#fd7e14", "#6f42c1"];
  var locale = document.documentElement.lang || "en";
  var number = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var spec = JSON.parse(canvas.getAttribute("data-chart"));
    var datasets = spec.series.map(function (series, index) {
      var colour = palette[index % palette.length];
      return {
        label: series.label,
        data: series.data.map(Number),
        backgroundColor: colour,
        borderColor: colour,
        fill: false,
        tension: 0.2,
      };
    });
    var suffix = spec.percent ? " %" : "";
    new Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: {
          x: { stacked: !!spec.stacked },
          y: {
            stacked: !!spec.stacked,
            beginAtZero: true,
            ticks: {
              callback: function (value) {
                return number.format(value) + suffix;
              },
            },
          },
        },
        plugins: {
          tooltip: {
            callbacks: {
              label: function (context) {
                return context.dataset.label + ": " + number.format(context.parsed.y) + suffix;
              },
            },
          },
        },
      },
    });
  });
})();
