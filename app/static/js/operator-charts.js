// The operator page's charts of GET /api/admin/stats/jobs, drawn with uPlot (served from
// node_modules by the app). Outcomes differ by line style and legend label, not by colour alone.
// Without uPlot the page says so and shows the same figures as tables.
"use strict";
window.OperatorCharts = (function () {
  const { h, showError } = Dom;
  const OUTCOMES = [
    { key: "completed", label: "Completed", stroke: "#1a7f37", fill: "rgba(26, 127, 55, 0.12)", dash: [] },
    { key: "failed", label: "Failed", stroke: "#b42318", dash: [6, 3] },
    { key: "cancelled", label: "Cancelled", stroke: "#57606a", dash: [2, 3] },
  ];
  const TYPE_COLOURS = ["#0b5cad", "#9a6700", "#8250df", "#1a7f37", "#b42318", "#57606a", "#bf3989", "#116329"];
  const HEIGHT = 180;
  const charts = {};
  let last = null;

  const seconds = (value) => (value === null || value === undefined ? "—" : value.toFixed(value < 10 ? 2 : 1) + " s");
  const cells = (values) => values.map((text) => h("td", { text: String(text) }));
  const epoch = (iso) => Date.parse(iso) / 1000;
  const available = () => typeof window.uPlot === "function";

  function totalsText(stats) {
    const t = stats.totals;
    return "Last " + stats.hours + " h: " + t.completed + " completed, " + t.failed + " failed, " + t.cancelled + " cancelled.";
  }

  function renderRunTimeTable(stats) {
    const rows = stats.runTimeByType.map((r) =>
      h("tr", { "data-type": r.type },
        cells([r.type, r.count, seconds(r.avgSeconds), seconds(r.p50Seconds), seconds(r.p95Seconds), seconds(r.maxSeconds)])));
    const empty = h("tr", {}, h("td", { colspan: 6, text: "No job completed in this window." }));
    document.querySelector("#runtime-table tbody").replaceChildren(...(rows.length ? rows : [empty]));
  }

  function renderMinutesTable(stats) {
    const busy = stats.perMinute.filter((m) => m.completed + m.failed + m.cancelled > 0).reverse().slice(0, 100);
    document.querySelector("#minutes-table tbody").replaceChildren(
      ...busy.map((m) => h("tr", {}, cells([new Date(m.minute).toLocaleString(), m.completed, m.failed, m.cancelled]))),
    );
  }

  // Draw (or redraw) one chart into its figure; the figure's data attributes say what it shows.
  function draw(name, options, data, summary) {
    const figure = document.getElementById("chart-" + name);
    const target = figure.querySelector(".chart-body");
    if (charts[name]) charts[name].destroy();
    options.width = Math.max(300, target.clientWidth || figure.clientWidth);
    options.height = HEIGHT;
    charts[name] = new window.uPlot(options, data, target);
    const canvas = target.querySelector("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", summary);
    figure.dataset.points = String(data[0].length);
  }

  function drawThroughput(stats) {
    const data = [stats.perMinute.map((m) => epoch(m.minute))].concat(OUTCOMES.map((o) => stats.perMinute.map((m) => m[o.key])));
    const series = [{ label: "Minute" }].concat(
      OUTCOMES.map((o) => ({
        label: o.label,
        stroke: o.stroke,
        fill: o.fill,
        dash: o.dash,
        width: 1.5,
        paths: window.uPlot.paths.stepped({ align: 1 }),
        points: { show: false },
      })),
    );
    const options = {
      series,
      axes: [{}, { label: "jobs / minute", size: 60 }],
      scales: { y: { range: (u, min, max) => [0, Math.max(1, max)] } },
    };
    draw("throughput", options, data, totalsText(stats));
  }

  function drawRunTime(stats) {
    const buckets = [...new Set(stats.runTimeSeries.map((r) => r.bucket))].sort();
    const types = [...new Set(stats.runTimeSeries.map((r) => r.type))].sort();
    const at = new Map(stats.runTimeSeries.map((r) => [r.type + "|" + r.bucket, r.p50Seconds]));
    const column = (t) => buckets.map((b) => (at.has(t + "|" + b) ? at.get(t + "|" + b) : null));
    const data = [buckets.map(epoch)].concat(types.map(column));
    const series = [{ label: "Time" }].concat(
      types.map((t, i) => ({
        label: t,
        stroke: TYPE_COLOURS[i % TYPE_COLOURS.length],
        width: 1.5,
        dash: i % 2 ? [5, 3] : [],
        spanGaps: true,
        points: { show: true, size: 4 },
        value: (u, v) => seconds(v),
      })),
    );
    const summary = types.length ? "Median run time of " + types.join(", ") : "No job completed in this window";
    const now = Date.now() / 1000;
    const range = { x: { time: true, range: () => [now - stats.hours * 3600, now] } };
    draw("runtime", { series, scales: range, axes: [{}, { label: "seconds", size: 60 }] }, data, summary);
  }

  function render(stats) {
    last = stats;
    document.getElementById("stats-totals").textContent = totalsText(stats);
    const totals = stats.totals;
    const figure = document.getElementById("chart-throughput");
    ["completed", "failed", "cancelled"].forEach((k) => (figure.dataset[k] = String(totals[k])));
    renderRunTimeTable(stats);
    renderMinutesTable(stats);
    const charted = available();
    document.getElementById("charts-unavailable").hidden = charted;
    document.getElementById("minutes-table").hidden = charted;
    document.querySelectorAll("figure.chart").forEach((f) => (f.hidden = !charted));
    if (!charted) return;
    drawThroughput(stats);
    drawRunTime(stats);
  }

  let latest = 0;

  async function load() {
    const hours = document.getElementById("stats-hours").value;
    const ticket = ++latest;
    try {
      const stats = await Api.get("/api/admin/stats/jobs?hours=" + encodeURIComponent(hours));
      if (ticket === latest) render(stats); // a slower answer for an older window is dropped
    } catch (err) {
      showError(err.message);
    }
  }

  function start() {
    document.getElementById("stats-hours").addEventListener("change", load);
    document.getElementById("stats-refresh").addEventListener("click", load);
    let resizing = null;
    window.addEventListener("resize", () => {
      clearTimeout(resizing);
      resizing = setTimeout(() => last && available() && (drawThroughput(last), drawRunTime(last)), 200);
    });
    load();
  }

  return { start };
})();
