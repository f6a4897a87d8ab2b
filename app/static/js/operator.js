// The operator page (administrators): dead letters and their redrive, every user's jobs with
// filters, the audit log; the charts are operator-charts.js.
"use strict";
(function () {
  if (!Api.accessToken()) return;
  const { h, time, showError } = Dom;
  const LIMIT = 10;
  const user = Api.user();
  if (!user || user.role !== "admin") {
    document.getElementById("operator-denied").hidden = false;
    return;
  }
  document.getElementById("operator").hidden = false;

  const shortId = (id) => (id ? h("code", { title: id, text: id.slice(0, 8) }) : "—");
  const body = (tableId) => document.querySelector("#" + tableId + " tbody");

  // A Previous / Next pager under a table; `load(page, current)` fetches one page and renders it
  // only while current() says no newer request was made.
  function pager(name, load) {
    const nav = document.querySelector('[data-pager="' + name + '"]');
    let page = 1;
    let totalPages = 1;
    let latest = 0; // only the answer to the latest request is shown (filters change quickly)
    const prev = h("button", { type: "button", text: "Previous", onclick: () => go(page - 1) });
    const next = h("button", { type: "button", text: "Next", onclick: () => go(page + 1) });
    const info = h("span", { "aria-live": "polite" });
    nav.replaceChildren(prev, info, next);
    async function go(target) {
      page = Math.max(1, Math.min(target, totalPages));
      const ticket = ++latest;
      try {
        const pagination = await load(page, () => ticket === latest);
        if (ticket !== latest) return;
        totalPages = Math.max(1, pagination.totalPages);
        info.textContent = "Page " + page + " of " + totalPages + " (" + pagination.total + ")";
        prev.disabled = page <= 1;
        next.disabled = page >= totalPages;
      } catch (err) {
        showError(err.message);
      }
    }
    return { reload: () => go(page), first: () => go(1) };
  }

  // Dead letters
  function deadRow(letter) {
    return h("tr", { "data-dead-letter-id": letter.id, "data-job-id": letter.jobId },
      h("td", { text: letter.jobType }),
      h("td", { class: "error", text: letter.error || "—" }),
      h("td", { text: String(letter.attempts) }),
      h("td", { text: time(letter.createdAt) }),
      h("td", {}, shortId(letter.userId)),
      h("td", {}, h("button", {
        type: "button",
        class: "redrive",
        "aria-label": "Redrive the " + letter.jobType + " job " + letter.jobId.slice(0, 8),
        onclick: () => redrive(letter),
        text: "Redrive",
      })));
  }

  async function loadDead() {
    try {
      const result = await Api.get("/api/admin/dead-letter?limit=100");
      body("dead-table").replaceChildren(...result.data.map(deadRow));
      document.getElementById("dead-empty").hidden = result.data.length > 0;
      document.getElementById("dead-table").hidden = result.data.length === 0;
    } catch (err) {
      showError(err.message);
    }
  }

  async function redrive(letter) {
    const status = document.getElementById("dead-status");
    try {
      const job = await Api.post("/api/admin/dead-letter/" + letter.id + "/redrive");
      status.textContent = "Redriven: the " + letter.jobType + " job " + job.id.slice(0, 8) + " is " + job.status + " again.";
    } catch (err) {
      status.textContent = "Redrive failed: " + err.message;
    }
    loadDead();
    jobsPager.reload();
    auditPager.reload();
  }

  // Every user's jobs
  const statusSel = document.getElementById("admin-filter-status");
  const typeSel = document.getElementById("admin-filter-type");
  const userFilter = document.getElementById("admin-filter-user");
  let userId = "";

  function filterByUser(id) {
    userId = id;
    userFilter.hidden = !id;
    userFilter.querySelector("code").textContent = id ? id.slice(0, 8) : "";
    jobsPager.first();
  }
  userFilter.querySelector("button").addEventListener("click", () => filterByUser(""));

  function userButton(id) {
    const label = "Show only the jobs of user " + id.slice(0, 8);
    const attrs = { type: "button", class: "link user-filter", title: label, "aria-label": label, onclick: () => filterByUser(id) };
    return h("button", attrs, h("code", { text: id.slice(0, 8) }));
  }

  function jobRow(job) {
    return h("tr", { "data-job-id": job.id, "data-status": job.status, "data-user-id": job.userId },
      h("td", { text: job.type }),
      h("td", {}, Jobs.statusBadge(job)),
      h("td", {}, userButton(job.userId)),
      h("td", { text: job.attempts + " / " + job.maxAttempts }),
      h("td", { text: time(job.createdAt) }),
      h("td", { class: "error", text: job.error || "" }));
  }

  const jobsPager = pager("admin-jobs", async (page, current) => {
    const query = new URLSearchParams({ page, limit: LIMIT });
    if (statusSel.value) query.set("status", statusSel.value);
    if (typeSel.value) query.set("type", typeSel.value);
    if (userId) query.set("userId", userId);
    const result = await Api.get("/api/admin/jobs?" + query);
    if (current()) body("admin-jobs").replaceChildren(...result.data.map(jobRow));
    return result.pagination;
  });
  statusSel.addEventListener("change", () => jobsPager.first());
  typeSel.addEventListener("change", () => jobsPager.first());

  // Audit log
  function auditRow(entry) {
    const details = entry.details && Object.keys(entry.details).length ? JSON.stringify(entry.details) : "";
    return h("tr", { "data-action": entry.action },
      h("td", { text: time(entry.createdAt) }),
      h("td", {}, shortId(entry.actorId)),
      h("td", {}, h("code", { text: entry.action })),
      h("td", {}, entry.targetType + " ", shortId(entry.targetId)),
      h("td", { class: "details", text: details }));
  }

  const auditPager = pager("audit", async (page, current) => {
    const result = await Api.get("/api/admin/audit-log?page=" + page + "&limit=" + LIMIT);
    if (current()) body("audit-table").replaceChildren(...result.data.map(auditRow));
    return result.pagination;
  });

  OperatorCharts.start();
  loadDead();
  jobsPager.first();
  auditPager.first();
  Live.on("resync", () => {
    loadDead();
    jobsPager.reload();
  });
})();
