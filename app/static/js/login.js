// Sign up / sign in: store the tokens, then go to the jobs page.
"use strict";
(function () {
  if (localStorage.getItem("jobsvc.accessToken")) {
    window.location.replace("/jobs");
    return;
  }
  const form = document.getElementById("auth-form");
  const signup = form.dataset.mode === "signup";
  // The HTML disables the button until this handler exists: a click before it would submit natively.
  form.querySelector("button[type=submit]").disabled = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    Dom.showError("");
    const body = { email: form.email.value.trim(), password: form.password.value };
    if (signup && form.name.value.trim()) body.name = form.name.value.trim();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      Api.signIn(await Api.anonymous(signup ? "/api/auth/register" : "/api/auth/login", body));
      window.location.assign("/jobs");
    } catch (err) {
      Dom.showError(err.message);
    } finally {
      button.disabled = false;
    }
  });
})();
