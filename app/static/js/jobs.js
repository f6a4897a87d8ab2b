// The jobs list: filters and pagination in the URL's query string, live progress for every
// visible job, cancel / retry; the usage report form (job-forms.js).
"use strict";
(function () {
  if (!Api.accessToken()) return;
  const { h, time, showError } = Dom;
  const LIMIT = 20;
  const body = document.getElementById("jobs-body");
  const statusSel = document.getElementById("filter-status");
  const typeSel = document.getElementById("filter-type");
  const batchInput = document.getElementById("filter-batch");
  const BATCH_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  const params = new URLSearchParams(window.location.search);
  let page = Math.max(1, parseInt(params.get("page") || "1", 10) || 1);
  let totalPages = 1;
  const jobs = new Map(); // id -> job, the visible ones
  statusSel.value = params.get("status") || "";
  typeSel.value = params.get("type") || "";
  batchInput.value = params.get("batchId") || "";

  // Only a well-formed id filters: anything else would be a 400 from the API.
  function batchId() {
    const value = batchInput.value.trim();
    return BATCH_ID.test(value) ? value : "";
  }

  function row(job) {
    return h(
      "tr",
      { "data-job-id": job.id, "data-status": job.status },
      h("td", {}, h("a", { href: "/jobs/" + job.id, text: job.type })),
      h("td", {}, Jobs.statusBadge(job)),
      h("td", {}, Jobs.progressBar(job)),
      h("td", { text: time(job.createdAt) }),
      h("td", {}, h("div", { class: "actions" }, Jobs.actionButtons(job, done), Jobs.downloadButtons(job, downloaded))),
    );
  }

  function done(err) {
    if (err) showError(err.message);
    load();
  }

  function downloaded(err) {
    showError(err ? err.message : "");
  }

  function render(job) {
    jobs.set(job.id, job);
    const old = body.querySelector('tr[data-job-id="' + job.id + '"]');
    if (old) old.replaceWith(row(job));
  }

  async function load() {
    const query = new URLSearchParams({ page, limit: LIMIT });
    if (statusSel.value) query.set("status", statusSel.value);
    if (typeSel.value) query.set("type", typeSel.value);
    if (batchId()) query.set("batchId", batchId());
    try {
      const result = await Api.get("/api/jobs?" + query);
      totalPages = Math.max(1, result.pagination.totalPages);
      const visible = new Set(result.data.map((j) => j.id));
      jobs.forEach((_, id) => visible.has(id) || Live.unwatch(id));
      jobs.clear();
      result.data.forEach((j) => jobs.set(j.id, j));
      body.replaceChildren(...result.data.map(row));
      // Finished jobs change no more: only the others are worth a subscription.
      result.data.filter((j) => !Jobs.FINAL.includes(j.status)).forEach((j) => Live.watch(j.id));
      document.getElementById("jobs-empty").hidden = result.data.length > 0;
      document.getElementById("page-info").textContent = "Page " + page + " of " + totalPages + " (" + result.pagination.total + " jobs)";
      document.getElementById("page-prev").disabled = page <= 1;
      document.getElementById("page-next").disabled = page >= totalPages;
      showError("");
    } catch (err) {
      showError(err.message);
    }
  }

  function navigate() {
    const query = new URLSearchParams();
    if (page > 1) query.set("page", page);
    if (statusSel.value) query.set("status", statusSel.value);
    if (typeSel.value) query.set("type", typeSel.value);
    if (batchId()) query.set("batchId", batchId());
    history.replaceState(null, "", "/jobs" + (query.toString() ? "?" + query : ""));
    load();
  }

  statusSel.addEventListener("change", () => { page = 1; navigate(); });
  typeSel.addEventListener("change", () => { page = 1; navigate(); });
  batchInput.addEventListener("change", () => {
    if (batchInput.value.trim() && !batchId()) return showError("Not a batch id");
    page = 1;
    navigate();
  });
  document.getElementById("job-filters").addEventListener("submit", (event) => event.preventDefault());
  document.getElementById("page-prev").addEventListener("click", () => { page = Math.max(1, page - 1); navigate(); });
  document.getElementById("page-next").addEventListener("click", () => { page = Math.min(totalPages, page + 1); navigate(); });

  Jobs.onEvents((event, data) => {
    const job = jobs.get(data.jobId);
    if (job) render(Jobs.apply(job, event, data));
  });
  Live.on("job", (job) => jobs.has(job.id) && render(job));
  // A job created elsewhere (another tab, the connections page) announces itself by notification.
  Live.on("notification", (n) => {
    const id = n.data && (n.data.jobId || n.data.batchId);
    if (id && !jobs.has(id) && page === 1) load();
  });
  Live.on("resync", load);
  JobForms.bindReport(document.getElementById("report-form"));
  load();
})();
