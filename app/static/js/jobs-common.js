// Pieces shared by the jobs list, the job detail and the connections page: progress bars,
// status labels, cancel / retry, downloads, rejected rows, and folding socket events into a job.
"use strict";
window.Jobs = (function () {
  const { h } = Dom;
  const FINAL = ["completed", "failed", "cancelled"];

  function percentage(job) {
    if (job.status === "completed") return 100;
    const p = job.progress;
    return p && typeof p.percentage === "number" ? Math.max(0, Math.min(100, p.percentage)) : 0;
  }

  // A job that cannot know its total (an export counts rows as it writes them) reports total 0:
  // its bar is indeterminate and its message ("12,345 rows written") says how far it got.
  function totalUnknown(job) {
    return job.status === "active" && job.progress && job.progress.total === 0;
  }

  // A native <progress> is announced by screen readers; the text next to it is for everyone.
  function progressBar(job) {
    const pct = percentage(job);
    const message = job.progress && job.progress.message;
    const unknown = totalUnknown(job);
    return h(
      "div",
      { class: "progress", "data-status": job.status, "data-percentage": unknown ? null : pct },
      h("progress", { max: 100, value: unknown ? null : pct, "aria-label": "Progress of job " + job.id }),
      unknown ? null : h("span", { class: "pct", text: pct + "%" }),
      message ? h("span", { class: "progress-message", text: message }) : null,
    );
  }

  // One download button per file a completed job produced (its result lists them).
  function downloadButtons(job, after) {
    const artifacts = job.status === "completed" && job.result && Array.isArray(job.result.artifacts) ? job.result.artifacts : [];
    return artifacts.map((artifact) =>
      h("button", {
        type: "button",
        class: "download",
        title: artifact.filename + (typeof artifact.sizeBytes === "number" ? " (" + formatBytes(artifact.sizeBytes) + ")" : ""),
        onclick: () =>
          Api.download("/api/jobs/" + job.id + "/artifact?artifactId=" + encodeURIComponent(artifact.id), artifact.filename).then(
            () => after(null),
            (err) => after(err),
          ),
        text: artifacts.length > 1 ? "Download " + artifact.filename : "Download",
      }),
    );
  }

  // A failed import lists the rows it refused (the first ones, with their line numbers).
  function rejectedRows(job) {
    const result = job.result || {};
    if (!Array.isArray(result.rejectedRows) || !result.rejectedRows.length) return null;
    const shown = result.rejectedRows.length;
    const total = result.rejectedCount || shown;
    return h(
      "table",
      { class: "rejected" },
      h("caption", { text: "Rejected rows: " + total.toLocaleString() + (total > shown ? " (the first " + shown + " shown)" : "") }),
      h("thead", {}, h("tr", {}, ["Line", "Column", "Why"].map((name) => h("th", { scope: "col", text: name })))),
      h(
        "tbody",
        {},
        result.rejectedRows.map((row) =>
          h("tr", { "data-line": row.line }, [String(row.line), row.column || "—", row.error].map((text) => h("td", { text }))),
        ),
      ),
    );
  }

  function formatBytes(bytes) {
    const units = ["bytes", "KB", "MB", "GB", "TB"];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return (unit ? value.toFixed(1) : value) + " " + units[unit];
  }

  function statusBadge(job) {
    let label = job.status;
    if (job.status === "queued" && job.attempts > 0) label = "queued (retry " + job.attempts + "/" + job.maxAttempts + ")";
    return h("span", { class: "status status-" + job.status, text: label });
  }

  // `after` runs once the server has answered, with the error if any.
  function actionButtons(job, after) {
    const run = (promise) => promise.then(() => after(null), (err) => after(err));
    return [
      ["queued", "active"].includes(job.status)
        ? h("button", { type: "button", class: "cancel", onclick: () => run(Api.del("/api/jobs/" + job.id)), text: "Cancel" })
        : null,
      ["failed", "cancelled"].includes(job.status)
        ? h("button", { type: "button", class: "retry", onclick: () => run(Api.post("/api/jobs/" + job.id + "/retry")), text: "Retry" })
        : null,
    ];
  }

  // Fold a job:status / job:completed / job:failed event into the job it is about.
  function apply(job, event, data) {
    if (event === "job:status") return Object.assign({}, job, { status: data.status, progress: data.progress || job.progress });
    if (event === "job:completed") return Object.assign({}, job, { status: "completed", result: data.result });
    if (event === "job:failed") return Object.assign({}, job, { status: "failed", error: data.error });
    return job;
  }

  // Call fn(event, data) for every job event; the page decides what to update.
  function onEvents(fn) {
    ["job:status", "job:completed", "job:failed"].forEach((event) => Live.on(event, (data) => fn(event, data)));
  }

  return {
    FINAL,
    progressBar,
    statusBadge,
    actionButtons,
    downloadButtons,
    rejectedRows,
    formatBytes,
    apply,
    onEvents,
    percentage,
  };
})();
