// Jobs started from a form, shown where they were started: status, progress, the files to
// download once done, and for a failed import the rejected rows with their line numbers.
// Live while the socket is up; the REST API is asked again after every final event and resync.
"use strict";
window.JobTracker = (function () {
  const { h, showError } = Dom;
  const tracked = new Map(); // job id -> { job, slot }

  function line(job) {
    return h(
      "div",
      { class: "started-job", "data-job-id": job.id, "data-status": job.status, "data-type": job.type },
      h("a", { href: "/jobs/" + job.id, text: "Job " + job.id.slice(0, 8) }),
      " ",
      Jobs.statusBadge(job),
      Jobs.progressBar(job),
      job.error ? h("p", { class: "error", text: job.error }) : null,
      Jobs.rejectedRows(job),
      h("div", { class: "actions" }, Jobs.downloadButtons(job, (err) => showError(err ? err.message : ""))),
    );
  }

  function render(entry) {
    entry.slot.replaceChildren(line(entry.job));
  }

  async function refresh(id) {
    const entry = tracked.get(id);
    if (!entry) return;
    try {
      entry.job = await Api.get("/api/jobs/" + id);
      render(entry);
    } catch (err) {
      showError(err.message);
    }
  }

  // Show the job `created` (the 202 answer of POST /api/jobs) in `slot` and follow it.
  function follow(created, slot) {
    const entry = { job: { id: created.id, type: created.type, status: created.status, progress: null, attempts: 0 }, slot };
    tracked.set(created.id, entry);
    render(entry);
    Live.watch(created.id);
    refresh(created.id);
  }

  Jobs.onEvents((event, data) => {
    const entry = tracked.get(data.jobId);
    if (!entry) return;
    entry.job = Jobs.apply(entry.job, event, data);
    render(entry);
    // Events carry no files or rejected rows: the record has them once the job is final.
    if (event !== "job:status" || Jobs.FINAL.includes(data.status)) refresh(data.jobId);
  });
  Live.on("job", (job) => {
    const entry = tracked.get(job.id);
    if (entry) {
      entry.job = job;
      render(entry);
    }
  });
  Live.on("resync", () => tracked.forEach((entry, id) => Jobs.FINAL.includes(entry.job.status) || refresh(id)));

  return { follow };
})();
