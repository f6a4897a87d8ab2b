// Pieces shared by the jobs list, the job detail and the connections page: progress bars,
// status labels, cancel / retry, and folding socket events into a job object.
"use strict";
window.Jobs = (function () {
  const { h } = Dom;
  const FINAL = ["completed", "failed", "cancelled"];

  function percentage(job) {
    if (job.status === "completed") return 100;
    const p = job.progress;
    return p && typeof p.percentage === "number" ? Math.max(0, Math.min(100, p.percentage)) : 0;
  }

  // A native <progress> is announced by screen readers; the text next to it is for everyone.
  function progressBar(job) {
    const pct = percentage(job);
    const message = job.progress && job.progress.message;
    return h(
      "div",
      { class: "progress", "data-status": job.status, "data-percentage": pct },
      h("progress", { max: 100, value: pct, "aria-label": "Progress of job " + job.id }),
      h("span", { class: "pct", text: pct + "%" }),
      message ? h("span", { class: "progress-message", text: message }) : null,
    );
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

  return { FINAL, progressBar, statusBadge, actionButtons, apply, onEvents, percentage };
})();
