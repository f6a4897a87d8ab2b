// The REST client: tokens in localStorage (a reload keeps the user signed in), the access
// token refreshed a minute before it expires, and one retry after a refresh on a 401.
"use strict";
window.Api = (function () {
  const ACCESS = "jobsvc.accessToken";
  const REFRESH = "jobsvc.refreshToken";
  const USER = "jobsvc.user";
  const tokenListeners = [];
  let refreshTimer = null;
  let refreshing = null;

  const accessToken = () => localStorage.getItem(ACCESS);
  const refreshToken = () => localStorage.getItem(REFRESH);
  const user = () => JSON.parse(localStorage.getItem(USER) || "null");

  function signIn(body) {
    localStorage.setItem(ACCESS, body.accessToken);
    localStorage.setItem(REFRESH, body.refreshToken);
    localStorage.setItem(USER, JSON.stringify(body.user || null));
  }

  function signOut() {
    [ACCESS, REFRESH, USER].forEach((key) => localStorage.removeItem(key));
    window.location.assign("/login");
  }

  // Pages other than /login and /signup call this first.
  function requireAuth() {
    if (!accessToken() || !refreshToken()) {
      window.location.replace("/login");
      return false;
    }
    scheduleRefresh();
    return true;
  }

  function expiresAt(token) {
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(part)).exp * 1000;
    } catch (e) {
      return 0;
    }
  }

  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    const token = accessToken();
    if (!token) return;
    const wait = Math.max(expiresAt(token) - Date.now() - 60000, 1000);
    refreshTimer = setTimeout(() => refresh().catch(() => {}), wait);
  }

  // Concurrent callers share one refresh request.
  function refresh() {
    if (!refreshing) {
      refreshing = fetch("/api/auth/refresh", {
        method: "POST",
        headers: { Authorization: "Bearer " + refreshToken() },
      })
        .then(async (res) => {
          if (!res.ok) {
            signOut();
            throw new Error("Your session has ended, please sign in again");
          }
          const body = await res.json();
          localStorage.setItem(ACCESS, body.accessToken);
          scheduleRefresh();
          tokenListeners.forEach((fn) => fn(body.accessToken));
          return body.accessToken;
        })
        .finally(() => {
          refreshing = null;
        });
    }
    return refreshing;
  }

  async function request(method, path, body, retried) {
    const headers = { Authorization: "Bearer " + accessToken() };
    const init = { method, headers };
    if (body instanceof FormData) {
      init.body = body; // the browser sets the multipart Content-Type with its boundary
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    if (res.status === 401 && !retried && refreshToken()) {
      await refresh();
      return request(method, path, body, true);
    }
    const data = res.status === 204 ? null : await res.json().catch(() => null);
    if (!res.ok) {
      const message = (data && data.error && data.error.message) || res.status + " " + res.statusText;
      const error = new Error(message);
      error.status = res.status;
      error.details = data && data.error && data.error.details;
      throw error;
    }
    return data;
  }

  // A file behind the API (a job's export or report): the Authorization header rules out a plain
  // link, so it is fetched as a blob and handed to the browser under the server's file name.
  async function download(path, fallbackName, retried) {
    const res = await fetch(path, { headers: { Authorization: "Bearer " + accessToken() } });
    if (res.status === 401 && !retried && refreshToken()) {
      await refresh();
      return download(path, fallbackName, true);
    }
    if (!res.ok) {
      const data = await res.json().catch(() => null);
      const error = new Error((data && data.error && data.error.message) || res.status + " " + res.statusText);
      error.status = res.status;
      throw error;
    }
    const disposition = res.headers.get("Content-Disposition") || "";
    const match = /filename\*=UTF-8''([^;]+)|filename="?([^";]+)"?/i.exec(disposition);
    const name = match ? decodeURIComponent(match[1] || match[2]) : fallbackName;
    const url = URL.createObjectURL(await res.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    return name;
  }

  // Sign-up and sign-in go out without a token.
  async function anonymous(path, body) {
    const res = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const data = await res.json().catch(() => null);
    if (!res.ok) {
      const err = data && data.error;
      const fields = err && err.details ? Object.entries(err.details).map(([k, v]) => k + ": " + [].concat(v).join(" ")) : [];
      throw new Error([(err && err.message) || "Request failed"].concat(fields).join(" — "));
    }
    return data;
  }

  return {
    accessToken,
    user,
    signIn,
    signOut,
    requireAuth,
    refresh,
    onToken: (fn) => tokenListeners.push(fn),
    anonymous,
    get: (path) => request("GET", path),
    post: (path, body) => request("POST", path, body),
    patch: (path, body) => request("PATCH", path, body),
    del: (path) => request("DELETE", path),
    download: (path, fallbackName) => download(path, fallbackName),
    // A CSV or JSON file for an import, streamed to POST /api/uploads as multipart/form-data.
    upload: (file) => {
      const form = new FormData();
      form.append("file", file, file.name);
      return request("POST", "/api/uploads", form);
    },
  };
})();
