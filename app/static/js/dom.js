// Small DOM helpers shared by every page. Text always goes in through textContent, never
// innerHTML: notification titles and job errors are user-influenced.
"use strict";
window.Dom = (function () {
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else if (key === "text") el.textContent = value;
      else el.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  function time(iso) {
    if (!iso) return "—";
    const d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleString();
  }

  // One visible place for failures, announced by screen readers (role=alert).
  function showError(message) {
    const el = document.getElementById("page-error");
    if (!el) return;
    el.textContent = message || "";
    el.hidden = !message;
  }

  return { h, time, showError };
})();
