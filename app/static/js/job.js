// One job: its fields, payload, error (and an import's rejected rows), its files, its history
// (attempts, checkpoints, errors), cancel / retry; live while it runs.
"use strict";
(function () {
  if (!Api.accessToken()) return;
  const { h, time, showError } = Dom;
  const id = document.getElementById("job-id").dataset.jobId;
  const history = document.getElementById("job-history");
  let job = null;
  let filesShownFor = null; // the status the file list was last fetched for
  const set = (elId, value) => (document.getElementById(elId).textContent = value);
  const json = (value) => (value && Object.keys(value).length ? JSON.stringify(value, null, 2) : "—");

  function attemptsText(j) {
    let text = j.attempts + " of " + j.maxAttempts;
    if (j.status === "queued" && j.attempts > 0) text += " — the last one failed, next at " + time(j.nextAttemptAt);
    return text;
  }

  const checkpoint = (p) => (p.total ? p.percentage + "% " : "") + (p.message || "");

  // The job's history from the API (GET /api/jobs/:id/history): attempts, checkpoints, errors.
  const KIND = {
    started: ["active", (e) => "Attempt " + e.attempt + " started"],
    progress: ["active", (e) => checkpoint(e.progress || {})],
    retrying: ["failed", (e) => "Attempt " + e.attempt + " failed, another is due"],
    completed: ["completed", () => "Completed"],
    failed: ["failed", (e) => "Attempt " + e.attempt + " failed for good"],
    cancelled: ["cancelled", () => "Cancelled"],
    requeued: ["queued", () => "Queued again"],
  };

  function eventItem(e) {
    const [status, text] = KIND[e.kind] || ["queued", () => e.kind];
    return h("li", { "data-kind": e.kind, "data-attempt": e.attempt },
      h("time", { datetime: e.at, text: time(e.at) }), " ",
      h("span", { class: "status status-" + status, text: e.kind }), " ", text(e),
      e.error ? h("div", { class: "error", text: e.error }) : null);
  }

  let historyTimer = null;
  async function loadHistory() {
    clearTimeout(historyTimer);
    historyTimer = null;
    try {
      const events = await Api.get("/api/jobs/" + id + "/history");
      history.replaceChildren(...(events.length ? events.map(eventItem) : [h("li", { text: "Nothing has run yet." })]));
    } catch (err) {
      showError(err.message);
    }
  }

  // While the job runs, progress events ask for the history at most every 2 seconds.
  function soonHistory() {
    if (!historyTimer) historyTimer = setTimeout(loadHistory, 2000);
  }

  async function loadFiles() {
    const list = document.getElementById("job-files");
    if (job.status !== "completed") {
      const ended = job.status === "failed" || job.status === "cancelled";
      list.replaceChildren(h("li", { text: ended ? "None: the job did not complete." : "Once the job completes." }));
      return;
    }
    try {
      const files = await Api.get("/api/jobs/" + id + "/artifacts");
      list.replaceChildren(...(files.length ? files.map(fileItem) : [h("li", { text: "This job wrote no files." })]));
    } catch (err) {
      showError(err.message);
    }
  }

  function fileItem(file) {
    const path = "/api/jobs/" + id + "/artifact?artifactId=" + encodeURIComponent(file.id);
    const download = () => Api.download(path, file.filename).catch((err) => showError(err.message));
    return h("li", { "data-artifact-id": file.id },
      h("button", { type: "button", class: "download", onclick: download, text: "Download " + file.filename }),
      " ", h("span", { class: "hint", text: file.contentType + ", " + Jobs.formatBytes(file.sizeBytes) }));
  }

  function render(next) {
    job = next;
    set("job-type", job.type);
    document.getElementById("job-status").replaceChildren(Jobs.statusBadge(job));
    document.getElementById("job-progress").replaceChildren(Jobs.progressBar(job));
    set("job-attempts", attemptsText(job));
    set("job-priority", job.priority === undefined ? "—" : String(job.priority));
    set("job-created", time(job.createdAt));
    set("job-started", time(job.startedAt));
    set("job-completed", time(job.completedAt));
    set("job-next", time(job.nextAttemptAt));
    set("job-error", job.error || "—");
    document.getElementById("job-rejected").replaceChildren(...[Jobs.rejectedRows(job)].filter(Boolean));
    set("job-payload", json(job.payload));
    set("job-result", json(job.result));
    const actions = Jobs.actionButtons(job, (err) => {
      if (err) showError(err.message);
      load();
    });
    document.getElementById("job-actions").replaceChildren(...actions.filter(Boolean));
    if (filesShownFor !== job.status) {
      filesShownFor = job.status;
      loadFiles();
    }
  }

  async function load() {
    try {
      render(await Api.get("/api/jobs/" + id));
      loadHistory();
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
      else soonHistory();
    }
  });
  Live.on("job", (j) => j.id === id && render(j));
  Live.on("resync", load);
  Live.watch(id);
  load();
})();
