// Webhooks: add one (its secret shown once, with a copy button), choose its events, enable or
// disable it, send a test, rotate the secret, and follow its deliveries (redeliver any of them).
"use strict";
(function () {
  if (!Api.accessToken()) return;
  const { h, time, showError } = Dom;
  const EVENTS = ["job.queued", "job.started", "job.completed", "job.failed", "job.cancelled",
    "workflow.completed", "workflow.failed", "batch.completed"];
  const DELIVERY_CLASS = { succeeded: "status-completed", failed: "status-failed", pending: "status-queued" };
  const list = document.getElementById("webhooks-list");
  const form = document.getElementById("webhook-form");
  const eventBox = document.getElementById("webhook-events");
  const open = new Set(); // webhook ids whose deliveries are shown

  for (const name of EVENTS) {
    eventBox.append(" ", h("label", {}, h("input", { type: "checkbox", name: "events", value: name }), " " + name));
  }
  // "All events" and single events exclude each other.
  eventBox.addEventListener("change", (event) => {
    const all = eventBox.querySelector('input[value="*"]');
    if (event.target === all && all.checked) {
      eventBox.querySelectorAll('input:not([value="*"])').forEach((box) => { box.checked = false; });
    } else if (event.target !== all && event.target.checked) {
      all.checked = false;
    }
  });

  function failure(err) {
    const fields = err.details ? Object.values(err.details).flat().join(" ") : "";
    showError(err.message + (fields ? " — " + fields : ""));
  }

  function showSecret(secret) {
    document.getElementById("secret-value").value = secret;
    document.getElementById("secret-status").textContent = "";
    document.getElementById("secret-box").hidden = false;
  }

  document.getElementById("secret-copy").addEventListener("click", async () => {
    const input = document.getElementById("secret-value");
    const status = document.getElementById("secret-status");
    try {
      await navigator.clipboard.writeText(input.value);
      status.textContent = "Copied.";
    } catch (err) {
      input.select(); // no clipboard access (a page not served over https): let the user copy it
      status.textContent = "Selected: press Ctrl+C (⌘C) to copy.";
    }
  });
  document.getElementById("secret-done").addEventListener("click", () => {
    document.getElementById("secret-value").value = "";
    document.getElementById("secret-box").hidden = true;
  });

  function deliveryRow(hook, d) {
    return h(
      "tr",
      { "data-delivery-id": d.id },
      h("td", {}, h("code", { text: d.eventType })),
      h("td", {}, h("span", { class: "status " + (DELIVERY_CLASS[d.status] || ""), text: d.status })),
      h("td", { text: String(d.attempts) }),
      h("td", { text: d.responseStatus === null ? "—" : String(d.responseStatus) }),
      h("td", { text: d.lastError || "" }),
      h("td", { class: "when", text: time(d.createdAt) }),
      h("td", {}, h("button", { type: "button", class: "redeliver", onclick: () => redeliver(hook, d), text: "Redeliver" })),
    );
  }

  async function showDeliveries(hook) {
    const slot = list.querySelector('li[data-webhook-id="' + hook.id + '"] .deliveries');
    if (!slot) return;
    try {
      const page = await Api.get("/api/webhooks/" + hook.id + "/deliveries?limit=20");
      if (!page.data.length) {
        slot.replaceChildren(h("p", { text: "No deliveries yet." }));
        return;
      }
      const head = ["Event", "Status", "Attempts", "Answer", "Last error", "Created", ""];
      slot.replaceChildren(h(
        "table",
        {},
        h("thead", {}, h("tr", {}, head.map((title) => h("th", { scope: "col", text: title })))),
        h("tbody", {}, page.data.map((d) => deliveryRow(hook, d))),
      ));
    } catch (err) {
      failure(err);
    }
  }

  function item(hook) {
    const toggle = hook.enabled ? "Disable" : "Enable";
    return h(
      "li",
      { class: "card", "data-webhook-id": hook.id },
      h("h2", {}, h("code", { text: hook.url })),
      hook.description ? h("p", { text: hook.description }) : null,
      h("p", {}, "Events: ", h("code", { text: hook.events.join(", ") }), " · ",
        h("span", { class: "status " + (hook.enabled ? "status-completed" : "status-failed"),
          text: hook.enabled ? "enabled" : "disabled" }),
        hook.disabledReason ? " — " + hook.disabledReason : ""),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "toggle", onclick: () => setEnabled(hook, !hook.enabled), text: toggle }),
        h("button", { type: "button", class: "test", onclick: () => test(hook), disabled: !hook.enabled, text: "Send test" }),
        h("button", { type: "button", class: "show-deliveries", onclick: () => toggleDeliveries(hook), text: "Deliveries" }),
        h("button", { type: "button", class: "rotate", onclick: () => rotate(hook), text: "Rotate secret" }),
        h("button", { type: "button", class: "delete", onclick: () => remove(hook), text: "Delete" }),
      ),
      h("div", { class: "deliveries" }),
    );
  }

  async function load() {
    try {
      const page = await Api.get("/api/webhooks?limit=100");
      list.replaceChildren(...page.data.map(item));
      document.getElementById("webhooks-empty").hidden = page.data.length > 0;
      for (const hook of page.data) if (open.has(hook.id)) showDeliveries(hook);
    } catch (err) {
      failure(err);
    }
  }

  async function act(promise, hook) {
    showError("");
    try {
      await promise;
      if (hook) open.add(hook.id);
    } catch (err) {
      failure(err);
    }
    await load();
  }

  const setEnabled = (hook, enabled) => act(Api.patch("/api/webhooks/" + hook.id, { enabled }));
  const test = (hook) => act(Api.post("/api/webhooks/" + hook.id + "/test"), hook);
  const redeliver = (hook, d) =>
    act(Api.post("/api/webhooks/" + hook.id + "/deliveries/" + d.id + "/redeliver"), hook);

  function toggleDeliveries(hook) {
    if (open.has(hook.id)) {
      open.delete(hook.id);
      const slot = list.querySelector('li[data-webhook-id="' + hook.id + '"] .deliveries');
      if (slot) slot.replaceChildren();
    } else {
      open.add(hook.id);
      showDeliveries(hook);
    }
  }

  async function rotate(hook) {
    if (!window.confirm("Replace the secret of " + hook.url + "? The old one stops working at once.")) return;
    try {
      showSecret((await Api.post("/api/webhooks/" + hook.id + "/rotate-secret")).secret);
    } catch (err) {
      failure(err);
    }
  }

  async function remove(hook) {
    if (!window.confirm("Delete the webhook " + hook.url + " and its deliveries?")) return;
    open.delete(hook.id);
    await act(Api.del("/api/webhooks/" + hook.id));
  }

  // The HTML disables the button until this handler exists: a click before it would submit natively.
  form.querySelector("button[type=submit]").disabled = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError("");
    const events = [...eventBox.querySelectorAll("input:checked")].map((box) => box.value);
    const button = form.querySelector("button[type=submit]");
    button.disabled = true; // one webhook per click
    try {
      const created = await Api.post("/api/webhooks", {
        url: form.url.value.trim(), events, description: form.description.value.trim(),
      });
      form.reset();
      showSecret(created.secret);
      await load();
    } catch (err) {
      failure(err);
    } finally {
      button.disabled = false;
    }
  });

  // Pending deliveries change on their own: refresh the open lists while any is pending.
  setInterval(() => {
    const pending = list.querySelector(".deliveries .status-queued");
    if (pending && !document.hidden) load();
  }, 2000);
  load();
})();
