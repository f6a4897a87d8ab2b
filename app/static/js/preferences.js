// One switch per notification type and channel; each change is saved at once.
"use strict";
(function () {
  if (!Api.accessToken()) return;
  const { h, showError } = Dom;
  const body = document.getElementById("prefs-body");
  const status = document.getElementById("prefs-status");
  const LABELS = { job_status: "Job status", invitations: "Invitations", system: "System" };

  function toggle(pref) {
    const id = "pref-" + pref.notificationType + "-" + pref.channel;
    const input = h("input", { type: "checkbox", id, checked: pref.enabled, "data-preference-id": pref.id });
    input.addEventListener("change", async () => {
      input.disabled = true;
      try {
        const saved = await Api.patch("/api/notifications/preferences/" + pref.id, { enabled: input.checked });
        input.checked = saved.enabled;
        status.textContent = "Saved: " + (LABELS[pref.notificationType] || pref.notificationType) + ", " +
          pref.channel.replace("_", "-") + " " + (saved.enabled ? "on" : "off") + ".";
      } catch (err) {
        input.checked = !input.checked; // what the server still has
        showError(err.message);
      } finally {
        input.disabled = false;
      }
    });
    const label = (LABELS[pref.notificationType] || pref.notificationType) + (pref.channel === "email" ? " by email" : " in the app");
    return h("span", { class: "switch" }, input, h("label", { for: id, class: "visually-hidden", text: label }));
  }

  async function load() {
    try {
      const prefs = await Api.get("/api/notifications/preferences");
      const types = [...new Set(prefs.map((p) => p.notificationType))];
      const find = (type, channel) => prefs.find((p) => p.notificationType === type && p.channel === channel);
      body.replaceChildren(
        ...types.map((type) =>
          h(
            "tr",
            {},
            h("th", { scope: "row", text: LABELS[type] || type }),
            ...["in_app", "email"].map((channel) => h("td", {}, find(type, channel) ? toggle(find(type, channel)) : "—")),
          ),
        ),
      );
    } catch (err) {
      showError(err.message);
    }
  }
  load();
})();
