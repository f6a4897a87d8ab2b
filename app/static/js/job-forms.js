// Starting jobs where a user looks for them: on each connection an export (query, format), an
// import (a CSV/JSON upload into a table of the cached schema) and a backup (options); on the
// jobs page a usage report. The started job is shown under its form (JobTracker).
"use strict";
window.JobForms = (function () {
  const { h, showError } = Dom;

  function field(id, label, control, hint) {
    const note = hint ? h("span", { class: "hint", text: " " + hint }) : null;
    return h("div", { class: "field" }, h("label", { for: id }, label, note), control);
  }

  function errorText(err) {
    const details = err.details ? Object.entries(err.details).map(([k, v]) => k + ": " + [].concat(v).flat().join(" ")) : [];
    return [err.message].concat(details).join(" — ");
  }

  // Submit `form` by creating the job that build() describes (an async function: an import
  // uploads its file first); the started job is shown in the form's slot.
  function onSubmit(form, build) {
    const slot = h("div", { class: "job-slot", "aria-live": "polite" });
    form.append(slot);
    // A button the HTML disabled until this handler exists (a click before it would submit natively).
    form.querySelector("button[type=submit]").disabled = false;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      showError("");
      const button = form.querySelector("button[type=submit]");
      button.disabled = true; // one job per click
      try {
        JobTracker.follow(await Api.post("/api/jobs", await build()), slot);
      } catch (err) {
        showError(errorText(err));
      } finally {
        button.disabled = false;
      }
    });
    return form;
  }

  function exportForm(conn) {
    const id = "export-" + conn.id;
    const query = h("textarea", {
      id: id + "-query",
      name: "query",
      required: true,
      rows: 3,
      maxlength: 100000,
      spellcheck: "false",
      placeholder: "SELECT * FROM customers",
    });
    const format = h(
      "select",
      { id: id + "-format", name: "format" },
      h("option", { value: "csv", text: "CSV" }),
      h("option", { value: "json", text: "JSON" }),
    );
    const form = h("form", { class: "job-form export-form" },
      field(query.id, "Query", query, "(one read-only SELECT)"),
      field(format.id, "Format", format),
      h("button", { type: "submit", text: "Start export" }));
    return onSubmit(form, async () => ({
      type: "data-export",
      payload: { connectionId: conn.id, query: query.value, format: format.value },
    }));
  }

  const tableLabel = (t) => (t.schema ? t.schema + "." : "") + t.name;

  // The tables of the connection's cached schema, asked when the form opens (a rebuild may
  // have changed them); a connection never rebuilt has none yet.
  async function fillTables(conn, select, note, allowEmpty) {
    try {
      const schema = await Api.get("/api/connections/" + conn.id + "/schema");
      const current = select.value;
      const options = schema.tables.map((t, i) =>
        h("option", { value: String(i), "data-schema": t.schema || "", "data-name": t.name, text: tableLabel(t) }),
      );
      const prompt = allowEmpty ? [] : [h("option", { value: "", text: "Choose a table" })];
      select.replaceChildren(...prompt, ...options);
      if (current) select.value = current;
      note.textContent = schema.totalTables + " tables in the cached schema";
    } catch (err) {
      select.replaceChildren(...(allowEmpty ? [] : [h("option", { value: "", text: "No tables" })]));
      note.textContent = err.status === 404 ? "No cached schema yet: rebuild the schema first." : err.message;
    }
  }

  function importForm(conn) {
    const id = "import-" + conn.id;
    const accept = ".csv,.json,.ndjson,.jsonl,text/csv,application/json";
    const file = h("input", { id: id + "-file", name: "file", type: "file", required: true, accept });
    const table = h("select", { id: id + "-table", name: "table", required: true });
    const note = h("p", { class: "hint", role: "status" });
    const form = h("form", { class: "job-form import-form" },
      field(file.id, "File", file, "(CSV with a header row, or JSON)"),
      field(table.id, "Into table", table),
      note,
      h("button", { type: "submit", text: "Upload and import" }));
    form.addEventListener("reload-tables", () => fillTables(conn, table, note, false));
    return onSubmit(form, async () => {
      const chosen = table.selectedOptions[0];
      const upload = await Api.upload(file.files[0]);
      const payload = { uploadId: upload.id, connectionId: conn.id, table: chosen.dataset.name };
      if (chosen.dataset.schema) payload.schema = chosen.dataset.schema;
      return { type: "bulk-import", payload };
    });
  }

  function backupForm(conn) {
    const id = "backup-" + conn.id;
    const withData = h("input", { id: id + "-data", name: "includeData", type: "checkbox" });
    const tables = h("select", { id: id + "-tables", name: "tables", multiple: true, size: 4, disabled: true });
    const note = h("p", { class: "hint", role: "status" });
    withData.addEventListener("change", () => (tables.disabled = !withData.checked));
    const form = h("form", { class: "job-form backup-form" },
      h("div", { class: "field check" }, withData, h("label", { for: withData.id, text: "Include the rows" })),
      field(tables.id, "Rows of", tables, "(none selected: every table)"),
      note,
      h("button", { type: "submit", text: "Start backup" }));
    form.addEventListener("reload-tables", () => fillTables(conn, tables, note, true));
    return onSubmit(form, async () => ({
      type: "backup-connection",
      payload: {
        connectionId: conn.id,
        includeData: withData.checked,
        tables: withData.checked ? Array.from(tables.selectedOptions, qualifiedName) : [],
      },
    }));
  }

  const qualifiedName = (option) => (option.dataset.schema ? option.dataset.schema + "." : "") + option.dataset.name;

  function section(name, title, form) {
    const details = h("details", { class: "job-start", "data-form": name }, h("summary", { text: title }), form);
    details.addEventListener("toggle", () => details.open && form.dispatchEvent(new Event("reload-tables")));
    return details;
  }

  // The three jobs of one connection, each behind a disclosure.
  function forConnection(conn) {
    return h("div", { class: "job-forms" },
      section("export", "Export data", exportForm(conn)),
      section("import", "Import a file", importForm(conn)),
      section("backup", "Back up", backupForm(conn)));
  }

  // The usage report form of the jobs page (its markup is in jobs.html).
  function bindReport(form) {
    const user = Api.user();
    const allUsers = form.querySelector("#report-all-users");
    if (!user || user.role !== "admin") allUsers.closest(".field").remove();
    onSubmit(form, async () => ({
      type: "analytics-report",
      payload: {
        days: parseInt(form.querySelector("#report-days").value, 10),
        allUsers: Boolean(allUsers.isConnected && allUsers.checked),
      },
    }));
  }

  return { forConnection, bindReport };
})();
