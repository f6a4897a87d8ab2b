// Workflows: the list of the user's workflows, or one workflow with its jobs, what each depends
// on and waits for, and their live status (job events through Live; the aggregate status is
// fetched again whenever a job reaches a final state).
"use strict";
(function () {
  if (!Api.accessToken()) return;
  const { h, time, showError } = Dom;
  const idEl = document.getElementById("workflow-id");
  const FINAL_WORKFLOW = ["completed", "failed", "cancelled"];
  const badge = (status) => h("span", { class: "status status-" + status, text: status });
  const set = (elId, value) => (document.getElementById(elId).textContent = value);

  function counts(jobs) {
    const tally = {};
    jobs.forEach((job) => (tally[job.status] = (tally[job.status] || 0) + 1));
    return Object.keys(tally).map((status) => tally[status] + " " + status).join(", ");
  }

  function listPage() {
    const LIMIT = 20;
    let page = 1;
    let totalPages = 1;
    const body = document.getElementById("workflows-body");

    function row(wf) {
      return h(
        "tr",
        { "data-workflow-id": wf.id, "data-status": wf.status },
        h("td", {}, h("a", { href: "/workflows/" + wf.id, text: wf.name || wf.id })),
        h("td", {}, badge(wf.status)),
        h("td", { text: wf.jobs.length + " (" + counts(wf.jobs) + ")" }),
        h("td", { text: time(wf.createdAt) }),
        h("td", { text: time(wf.completedAt) }),
      );
    }

    async function load() {
      try {
        const result = await Api.get("/api/workflows?" + new URLSearchParams({ page, limit: LIMIT }));
        totalPages = Math.max(1, result.pagination.totalPages);
        body.replaceChildren(...result.data.map(row));
        document.getElementById("workflows-empty").hidden = result.data.length > 0;
        set("page-info", "Page " + page + " of " + totalPages + " (" + result.pagination.total + " workflows)");
        document.getElementById("page-prev").disabled = page <= 1;
        document.getElementById("page-next").disabled = page >= totalPages;
        showError("");
      } catch (err) {
        showError(err.message);
      }
    }

    document.getElementById("page-prev").addEventListener("click", () => { page = Math.max(1, page - 1); load(); });
    document.getElementById("page-next").addEventListener("click", () => { page = Math.min(totalPages, page + 1); load(); });
    Live.on("notification", (n) => n.data && n.data.workflowId && load());
    Live.on("resync", load);
    load();
  }

  function detailPage(id) {
    let workflow = null;
    const jobs = new Map(); // job id -> the job as /api/jobs shows it
    const body = document.getElementById("workflow-jobs");

    function keyLinks(keys) {
      if (!keys.length) return "—";
      return keys.flatMap((key, i) => [i ? ", " : null, h("a", { href: "#job-" + key, text: key })]);
    }

    function row(entry) {
      const job = jobs.get(entry.id) || { id: entry.id, type: entry.type, status: entry.status, attempts: 0 };
      const waiting = job.status === "queued" ? entry.blockedBy : [];
      return h(
        "tr",
        { id: "job-" + entry.key, "data-job-id": entry.id, "data-status": job.status },
        h("td", {}, h("a", { href: "/jobs/" + entry.id, text: entry.key })),
        h("td", { class: "job-type", text: job.type }),
        h("td", {}, Jobs.statusBadge(job)),
        h("td", {}, Jobs.progressBar(job)),
        h("td", {}, keyLinks(entry.dependsOn)),
        h("td", {}, keyLinks(waiting)),
        h("td", { class: "error-cell", text: job.error || "" }),
        h("td", {}, h("div", { class: "actions" }, Jobs.actionButtons(job, acted))),
      );
    }

    function acted(err) {
      if (err) showError(err.message);
      load();
    }

    function render() {
      set("workflow-name", workflow.name || "");
      document.getElementById("workflow-status").replaceChildren(badge(workflow.status));
      set("workflow-counts", workflow.jobs.length + " (" + counts(workflow.jobs.map((e) => jobs.get(e.id) || e)) + ")");
      set("workflow-created", time(workflow.createdAt));
      set("workflow-completed", time(workflow.completedAt));
      const cancel = FINAL_WORKFLOW.includes(workflow.status)
        ? null
        : h("button", {
            type: "button",
            class: "cancel",
            text: "Cancel workflow",
            onclick: () => Api.del("/api/workflows/" + id).then(() => acted(null), acted),
          });
      document.getElementById("workflow-actions").replaceChildren(...[cancel].filter(Boolean));
      body.replaceChildren(...workflow.jobs.map(row));
    }

    async function load() {
      try {
        const [wf, listed] = await Promise.all([
          Api.get("/api/workflows/" + id),
          Api.get("/api/jobs?" + new URLSearchParams({ workflowId: id, limit: 100 })),
        ]);
        workflow = wf;
        jobs.clear();
        listed.data.forEach((job) => jobs.set(job.id, job));
        wf.jobs.forEach((entry) => (Jobs.FINAL.includes(entry.status) ? Live.unwatch(entry.id) : Live.watch(entry.id)));
        render();
        showError("");
      } catch (err) {
        showError(err.status === 404 ? "This workflow does not exist (or is not yours)." : err.message);
      }
    }

    Jobs.onEvents((event, data) => {
      const job = jobs.get(data.jobId);
      if (!job || !workflow) return;
      jobs.set(job.id, Jobs.apply(job, event, data));
      render();
      // A final state can release or cancel other jobs and change the workflow's status.
      if (event !== "job:status" || Jobs.FINAL.includes(data.status)) load();
    });
    Live.on("job", (job) => {
      if (jobs.has(job.id) && workflow) {
        jobs.set(job.id, job);
        render();
      }
    });
    Live.on("notification", (n) => n.data && n.data.workflowId === id && load());
    Live.on("resync", load);
    load();
  }

  if (idEl) detailPage(idEl.dataset.workflowId);
  else listPage();
})();
