// One job: its fields, error and result, live while it runs.
"use strict";
(function () {
  if (!Api.accessToken()) return;
  const { time, showError } = Dom;
  const id = document.getElementById("job-id").dataset.jobId;
  let job = null;
  const set = (elId, value) => (document.getElementById(elId).textContent = value);

  function render(next) {
    job = next;
    set("job-type", job.type);
    document.getElementById("job-status").replaceChildren(Jobs.statusBadge(job));
    document.getElementById("job-progress").replaceChildren(Jobs.progressBar(job));
    set("job-attempts", job.attempts + " of " + job.maxAttempts);
    set("job-created", time(job.createdAt));
    set("job-started", time(job.startedAt));
    set("job-completed", time(job.completedAt));
    set("job-next", time(job.nextAttemptAt));
    set("job-error", job.error || "—");
    set("job-result", job.result ? JSON.stringify(job.result, null, 2) : "—");
    const actions = Jobs.actionButtons(job, (err) => {
      if (err) showError(err.message);
      load();
    });
    const downloads = Jobs.downloadButtons(job, (err) => showError(err ? err.message : ""));
    document.getElementById("job-actions").replaceChildren(...actions.concat(downloads).filter(Boolean));
  }

  async function load() {
    try {
      render(await Api.get("/api/jobs/" + id));
      showError("");
    } catch (err) {
      showError(err.status === 404 ? "This job does not exist (or is not yours)." : err.message);
    }
  }

  Jobs.onEvents((event, data) => {
    if (job && data.jobId === id) {
      render(Jobs.apply(job, event, data));
      // The events carry no timestamps or attempts: fetch the full record once it is final.
      if (event !== "job:status" || Jobs.FINAL.includes(data.status)) load();
    }
  });
  Live.on("job", (j) => j.id === id && render(j));
  Live.on("resync", load);
  Live.watch(id);
  load();
})();
