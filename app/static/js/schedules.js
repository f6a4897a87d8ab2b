// Schedules: list (next run, last run and its job), pause/resume, run now, delete, and a form
// whose next run times are previewed in the chosen time zone (POST /api/schedules/preview).
"use strict";
(function () {
  if (!Api.accessToken()) return;
  const { h, showError } = Dom;
  const list = document.getElementById("schedules-list");
  const form = document.getElementById("schedule-form");
  const preview = document.getElementById("schedule-preview");
  const REFRESH_MS = 10000;
  let previewTimer = null;

  // A time as seen in the schedule's own zone (the zone is named, so nobody has to convert).
  function inZone(iso, zone) {
    if (!iso) return "—";
    try {
      return new Date(iso).toLocaleString(undefined, { timeZone: zone, dateStyle: "medium", timeStyle: "medium" }) + " " + zone;
    } catch (err) {
      return new Date(iso).toLocaleString();
    }
  }

  function lastRun(s) {
    if (!s.lastRunAt) return "never";
    const when = inZone(s.lastRunAt, s.timezone);
    return s.lastJobId ? [when, " · ", h("a", { href: "/jobs/" + s.lastJobId, class: "last-job", text: "its job" })] : when;
  }

  function item(s) {
    return h(
      "li",
      { class: "card", "data-schedule-id": s.id, "data-enabled": String(s.enabled) },
      h("h2", { text: s.name }),
      h("p", {}, h("code", { text: s.cron }), " · " + s.timezone + " · " + s.type + (s.enabled ? "" : " · paused")),
      h("p", { class: "next-run" }, "Next run: ", s.enabled ? inZone(s.nextRunAt, s.timezone) : "paused"),
      h("p", { class: "last-run" }, "Last run: ", lastRun(s)),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "toggle", onclick: () => toggle(s), text: s.enabled ? "Pause" : "Resume" }),
        h("button", { type: "button", class: "run-now", onclick: () => runNow(s), text: "Run now" }),
        h("button", { type: "button", class: "delete", onclick: () => remove(s), text: "Delete" }),
      ),
    );
  }

  async function load() {
    try {
      const page = await Api.get("/api/schedules?limit=100");
      list.replaceChildren(...page.data.map(item));
      document.getElementById("schedules-empty").hidden = page.data.length > 0;
    } catch (err) {
      showError(err.message);
    }
  }

  async function act(fn) {
    showError("");
    try {
      await fn();
    } catch (err) {
      showError(err.message);
    }
    load();
  }

  const toggle = (s) => act(() => Api.patch("/api/schedules/" + s.id, { enabled: !s.enabled }));
  const runNow = (s) => act(() => Api.post("/api/schedules/" + s.id + "/run"));
  const remove = (s) => {
    if (window.confirm("Delete the schedule " + s.name + "? Its jobs stay.")) act(() => Api.del("/api/schedules/" + s.id));
  };

  function parseJson(text, label) {
    if (!text.trim()) return undefined;
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new Error(label + " is not valid JSON");
    }
  }

  async function showPreview() {
    const zone = form.timezone.value.trim();
    try {
      const answer = await Api.post("/api/schedules/preview", { cron: form.cron.value.trim(), timezone: zone, count: 5 });
      preview.replaceChildren(...answer.nextRuns.map((run) => h("li", { text: inZone(run, zone) })));
    } catch (err) {
      preview.replaceChildren(h("li", { class: "error", text: err.message }));
    }
  }

  function schedulePreview() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(showPreview, 300); // one request once typing pauses
  }

  async function loadTypes() {
    const spec = await fetch("/api/openapi.json").then((res) => res.json());
    const types = spec["x-job-types"] || [];
    form.type.replaceChildren(...types.map((t) => h("option", { value: t.type, text: t.label + " (" + t.type + ")" })));
  }

  function loadZones() {
    const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
    document.getElementById("schedule-zones").replaceChildren(...zones.map((z) => h("option", { value: z })));
    const own = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (own) form.timezone.value = own;
  }

  // The HTML disables the button until this handler exists: a click before it would submit natively.
  form.querySelector("button[type=submit]").disabled = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError("");
    const button = form.querySelector("button[type=submit]");
    button.disabled = true; // one schedule per click
    try {
      const body = {
        name: form.name.value.trim(),
        type: form.type.value,
        cron: form.cron.value.trim(),
        timezone: form.timezone.value.trim(),
        payload: parseJson(form.payload.value, "Payload") || {},
      };
      const options = parseJson(form.options.value, "Options");
      if (options !== undefined) body.options = options;
      await Api.post("/api/schedules", body);
      form.name.value = "";
      await load();
    } catch (err) {
      const fields = err.details ? Object.values(err.details).flat().join(" ") : "";
      showError(err.message + (fields ? " — " + fields : ""));
    } finally {
      button.disabled = false;
    }
  });
  form.cron.addEventListener("input", schedulePreview);
  form.timezone.addEventListener("input", schedulePreview);

  loadZones();
  loadTypes().catch((err) => showError(err.message));
  showPreview();
  load();
  setInterval(() => {
    if (!document.hidden) load();
  }, REFRESH_MS);
})();
