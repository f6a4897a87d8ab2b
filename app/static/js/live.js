// Live updates: one Socket.IO connection per page, authenticated with `auth: {token}`.
// Events are a fast path, not the record: after every (re)connect, and every few seconds while
// there is no live connection, pages re-fetch from the REST API ("resync") so nothing is missed.
// Without the socket.io client (no Node.js at setup) the pages only poll.
"use strict";
window.Live = (function () {
  const POLL_MS = 4000;
  const handlers = {}; // event -> [fn]
  const watched = new Set(); // job ids subscribed with subscribe:job
  let socket = null;
  let state = "connecting";
  let pollTimer = null;
  let started = false;

  function on(event, fn) {
    (handlers[event] = handlers[event] || []).push(fn);
  }

  function fire(event, data) {
    (handlers[event] || []).forEach((fn) => {
      try {
        fn(data);
      } catch (err) {
        console.error(err);
      }
    });
  }

  const LABELS = {
    connecting: "Connecting…",
    live: "Live",
    reconnecting: "Reconnecting…",
    polling: "Polling — live updates are off",
  };

  function setState(next) {
    state = next;
    const el = document.getElementById("live-state");
    if (el) {
      el.dataset.state = next;
      el.textContent = LABELS[next];
    }
    // Poll whenever events cannot arrive.
    if (next === "live") {
      clearInterval(pollTimer);
      pollTimer = null;
    } else if (next !== "connecting" && !pollTimer) {
      pollTimer = setInterval(() => fire("resync"), POLL_MS);
    }
  }

  // Job ids whose subscribe:job has not been answered yet -> whether an event about the job
  // arrived meanwhile. The server joins the room before it reads the job, so every transition after
  // the join arrives as an event; but its event can overtake the answer, whose state may then be
  // older. An answer that was overtaken is dropped: the events are at least as new.
  const answering = new Map();

  function subscribe(jobId) {
    if (!socket || !socket.connected) return;
    answering.set(jobId, false);
    socket.emit("subscribe:job", { jobId }, (ack) => {
      const overtaken = answering.get(jobId);
      answering.delete(jobId);
      // The current state, in case an event was missed before the join.
      if (ack && ack.ok && !overtaken) fire("job", ack.job);
    });
  }

  function noteJobEvent(data) {
    if (data && answering.has(data.jobId)) answering.set(data.jobId, true);
  }

  function watch(jobId) {
    if (watched.has(jobId)) return;
    watched.add(jobId);
    subscribe(jobId);
  }

  function unwatch(jobId) {
    if (!watched.delete(jobId)) return;
    if (socket && socket.connected) socket.emit("unsubscribe:job", { jobId });
  }

  function start() {
    if (started) return;
    started = true;
    if (typeof window.io !== "function") {
      setState("polling");
      return;
    }
    socket = window.io({ auth: { token: Api.accessToken() } });
    let everConnected = false;
    socket.on("connect", () => {
      setState("live");
      watched.forEach(subscribe);
      if (everConnected) fire("resync"); // catch up on what happened while we were away
      everConnected = true;
    });
    socket.on("disconnect", () => setState("reconnecting"));
    socket.on("connect_error", async () => {
      setState("reconnecting");
      // A refused connection (expired token) is not retried by the client: refresh, retry.
      if (!socket.active) {
        try {
          socket.auth = { token: await Api.refresh() };
        } catch (err) {
          return;
        }
        setTimeout(() => socket.connect(), 1000);
      }
    });
    socket.on("unauthorized", () => Api.refresh().catch(() => {}));
    ["job:status", "job:completed", "job:failed"].forEach((event) =>
      socket.on(event, (data) => {
        noteJobEvent(data);
        fire(event, data);
      }),
    );
    socket.on("notification", (data) => fire("notification", data));
    // A fresh access token extends the socket's session too.
    Api.onToken((token) => {
      socket.auth = { token };
      if (socket.connected) socket.emit("authenticate", { token });
    });
  }

  return { on, start, watch, unwatch, state: () => state };
})();
