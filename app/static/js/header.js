// The shared header: who is signed in, sign out, the connection state and the notification bell.
"use strict";
(function () {
  if (!Api.requireAuth()) return;
  const NEWEST = 10;
  const { h, time, showError } = Dom;
  const button = document.getElementById("bell-button");
  const panel = document.getElementById("bell-panel");
  const list = document.getElementById("bell-list");
  const countEl = document.getElementById("bell-count");
  let unread = 0;

  const who = Api.user();
  document.getElementById("who").textContent = who ? who.name || who.email : "";
  document.getElementById("nav-operator").hidden = !(who && who.role === "admin");
  document.getElementById("sign-out").addEventListener("click", Api.signOut);

  function setCount(n) {
    unread = Math.max(0, n);
    countEl.textContent = String(unread);
    countEl.dataset.count = String(unread);
  }

  function item(n) {
    return h(
      "li",
      { class: n.read ? "read" : "unread", "data-id": n.id },
      h("strong", { text: n.title }),
      h("p", { text: n.message }),
      h("small", { text: time(n.createdAt) }),
      h(
        "div",
        { class: "actions" },
        n.read ? null : h("button", { type: "button", onclick: () => markRead(n.id), text: "Mark read" }),
        h("button", { type: "button", onclick: () => remove(n.id), "aria-label": "Delete: " + n.title, text: "Delete" }),
      ),
    );
  }

  async function load() {
    try {
      const page = await Api.get("/api/notifications?limit=" + NEWEST);
      setCount(page.unreadCount);
      list.replaceChildren(...page.data.map(item));
      if (!page.data.length) list.append(h("li", { class: "empty", text: "Nothing yet." }));
    } catch (err) {
      showError(err.message);
    }
  }

  async function act(promise) {
    try {
      await promise;
    } catch (err) {
      showError(err.message);
    }
    load();
  }

  const markRead = (id) => act(Api.patch("/api/notifications/" + id + "/read"));
  const remove = (id) => act(Api.del("/api/notifications/" + id));
  document.getElementById("bell-read-all").addEventListener("click", () => act(Api.patch("/api/notifications/read-all")));

  function toggle(open) {
    panel.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    if (open) load();
  }
  button.addEventListener("click", () => toggle(panel.hidden));
  document.addEventListener("keydown", (e) => e.key === "Escape" && !panel.hidden && toggle(false));

  // The event updates the bell at once; a re-fetch shortly after keeps the count exact even if
  // the event raced a load that was in flight.
  let settle = null;
  Live.on("notification", (n) => {
    if (!n.read) setCount(unread + 1);
    clearTimeout(settle);
    settle = setTimeout(load, 1500);
    list.querySelector(".empty")?.remove();
    list.prepend(item(n));
    while (list.children.length > NEWEST) list.lastChild.remove();
  });
  Live.on("resync", load);
  load();
  Live.start();
})();
