// Connections: add, list, test, delete, rebuild the schema (with the rebuild's live progress),
// browse the cached schema as tables and columns, and start exports, imports and backups
// (job-forms.js).
"use strict";
(function () {
  if (!Api.accessToken()) return;
  const { h, time, showError } = Dom;
  const list = document.getElementById("connections-list");
  const form = document.getElementById("connection-form");
  const rebuilds = new Map(); // connection id -> its latest rebuild job
  const schemas = new Map(); // connection id -> shown schema

  function jobLine(connId) {
    const job = rebuilds.get(connId);
    if (!job) return null;
    return h(
      "div",
      { class: "rebuild-job", "data-job-id": job.id },
      h("a", { href: "/jobs/" + job.id, text: "Rebuild job" }),
      " ",
      Jobs.statusBadge(job),
      Jobs.progressBar(job),
      job.error ? h("p", { class: "error", text: job.error }) : null,
    );
  }

  function schemaView(schema) {
    if (!schema) return null;
    return h(
      "div",
      { class: "schema" },
      h("p", { text: schema.totalTables + " tables, built " + time(schema.builtAt) }),
      h(
        "ul",
        { class: "tables" },
        schema.tables.map((t) =>
          h(
            "li",
            {},
            h(
              "details",
              { "data-table": t.name },
              h("summary", { text: (t.schema ? t.schema + "." : "") + t.name + " (" + t.columns.length + " columns)" }),
              h(
                "ul",
                { class: "columns" },
                t.columns.map((c) =>
                  h("li", { "data-column": c.name }, h("code", { text: c.name }), " ", c.type,
                    c.primaryKey ? " · primary key" : "", c.nullable ? "" : " · not null"),
                ),
              ),
            ),
          ),
        ),
      ),
    );
  }

  function item(conn) {
    return h(
      "li",
      { class: "card", "data-connection-id": conn.id },
      h("h2", { text: conn.name }),
      h("p", {}, h("code", { text: conn.url }), " · " + conn.dialect),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "rebuild", onclick: () => rebuild(conn.id), text: "Rebuild schema" }),
        h("button", { type: "button", class: "show-schema", onclick: () => showSchema(conn.id), text: "Show schema" }),
        h("button", { type: "button", class: "test", onclick: () => test(conn.id), text: "Test connection" }),
        h("button", { type: "button", class: "delete", onclick: () => remove(conn), text: "Delete" }),
      ),
      h("p", { class: "test-result", role: "status" }),
      h("div", { class: "job-slot rebuild-slot" }, jobLine(conn.id)),
      JobForms.forConnection(conn),
      h("div", { class: "schema-slot" }, schemaView(schemas.get(conn.id))),
    );
  }

  const slot = (connId, name) => list.querySelector('li[data-connection-id="' + connId + '"] .' + name);

  function renderJob(connId) {
    const el = slot(connId, "rebuild-slot");
    if (el) el.replaceChildren(...[jobLine(connId)].filter(Boolean));
  }

  // One home for "the rebuild moved on": the completion may be learnt from an event, from the
  // answer to subscribe:job (a job that finished before the page joined its room) or from a poll,
  // and each must show the new schema once.
  const schemaShownFor = new Set(); // rebuild job ids whose schema was fetched
  function updateRebuild(connId, job) {
    rebuilds.set(connId, job);
    renderJob(connId);
    if (job.status === "completed" && !schemaShownFor.has(job.id)) {
      schemaShownFor.add(job.id);
      showSchema(connId);
    }
  }

  async function load() {
    try {
      const result = await Api.get("/api/connections?limit=100");
      const conns = Array.isArray(result) ? result : result.data;
      list.replaceChildren(...conns.map(item));
      document.getElementById("connections-empty").hidden = conns.length > 0;
    } catch (err) {
      showError(err.message);
    }
  }

  async function refreshJobs() {
    for (const [connId, job] of rebuilds) {
      try {
        updateRebuild(connId, await Api.get("/api/jobs/" + job.id));
      } catch (err) {
        showError(err.message);
      }
    }
  }

  async function rebuild(connId) {
    showError("");
    try {
      const answer = await Api.post("/api/connections/" + connId + "/rebuild", {});
      rebuilds.set(connId, { id: answer.jobId, status: "queued", progress: null, attempts: 0 });
      renderJob(connId);
      Live.watch(answer.jobId);
      if (Live.state() !== "live") refreshJobs();
    } catch (err) {
      showError(err.message);
    }
  }

  async function showSchema(connId) {
    try {
      schemas.set(connId, await Api.get("/api/connections/" + connId + "/schema"));
      slot(connId, "schema-slot").replaceChildren(schemaView(schemas.get(connId)));
    } catch (err) {
      showError(err.status === 404 ? "No schema yet: rebuild it first." : err.message);
    }
  }

  async function test(connId) {
    const el = slot(connId, "test-result");
    el.textContent = "Testing…";
    try {
      const r = await Api.post("/api/connections/" + connId + "/test");
      el.textContent = r.ok ? "Reachable (" + Math.round(r.latencyMs) + " ms)" : "Unreachable: " + (r.error || "unknown error");
    } catch (err) {
      el.textContent = err.message;
    }
  }

  async function remove(conn) {
    if (!window.confirm("Delete the connection " + conn.name + "?")) return;
    try {
      await Api.del("/api/connections/" + conn.id);
      rebuilds.delete(conn.id);
      schemas.delete(conn.id);
    } catch (err) {
      showError(err.message);
    }
    load();
  }

  // The HTML disables the button until this handler exists: a click before it would submit natively.
  form.querySelector("button[type=submit]").disabled = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError("");
    const button = form.querySelector("button[type=submit]");
    button.disabled = true; // one connection per click
    try {
      await Api.post("/api/connections", { name: form.name.value.trim(), url: form.url.value.trim() });
      form.reset();
      await load();
    } catch (err) {
      const fields = err.details ? Object.values(err.details).flat().join(" ") : "";
      showError(err.message + (fields ? " — " + fields : ""));
    } finally {
      button.disabled = false;
    }
  });

  function connFor(jobId) {
    for (const [connId, job] of rebuilds) if (job.id === jobId) return connId;
    return null;
  }

  Jobs.onEvents((event, data) => {
    const connId = connFor(data.jobId);
    if (!connId) return;
    updateRebuild(connId, Jobs.apply(rebuilds.get(connId), event, data));
  });
  Live.on("job", (job) => {
    const connId = connFor(job.id);
    if (connId) updateRebuild(connId, job);
  });
  Live.on("resync", refreshJobs);
  load();
})();
