// The login example's pages: plain JavaScript, no framework, no build step.
// Every request goes to this origin with fetch, so the browser marks it
// same-origin and the server's cross-origin protection lets it through; the
// session cookie (HttpOnly) is never read here.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);

  // post sends form (an object of strings) as an url-encoded form, the only
  // body the server reads, and returns {status, ok, text, retryAfter}.
  async function post(path, form) {
    const init = { method: "POST", credentials: "same-origin" };
    if (form) init.body = new URLSearchParams(form);
    try {
      const res = await fetch(path, init);
      return {
        status: res.status, ok: res.ok, text: (await res.text()).trim(),
        retryAfter: Number(res.headers.get("Retry-After")) || 0, type: res.headers.get("Content-Type") || "",
      };
    } catch {
      return { status: 0, ok: false, text: "", retryAfter: 0, type: "" };
    }
  }

  async function session() {
    const res = await fetch("/session", { credentials: "same-origin" });
    return res.json();
  }

  function duration(secs) {
    if (secs < 60) return secs === 1 ? "1 second" : `${secs} seconds`;
    const mins = Math.ceil(secs / 60);
    if (mins < 60) return mins === 1 ? "1 minute" : `${mins} minutes`;
    const hours = Math.ceil(mins / 60);
    return hours === 1 ? "1 hour" : `${hours} hours`;
  }

  // explain turns a refused request into a sentence for the visitor. The
  // server's answers are short texts meant for curl too; the ones a page
  // can meet get a friendlier wording here, anything else is shown as is.
  function explain(res) {
    const t = res.text;
    if (res.status === 0) return "We could not reach the server. Check your connection and try again.";
    if (res.status === 429 && res.retryAfter) {
      return `Too many attempts. For your security, this is locked for now: try again in ${duration(res.retryAfter)}.`;
    }
    const known = {
      "wrong username or password": "Wrong username or password.",
      "wrong code": "That code is not right. Check it and try again.",
      "that is not a valid code": "That is not a code: type the digits only.",
      "too many wrong codes; log in with your password again": "Too many wrong codes. Sign in with your password again.",
      "log in with your password first": "Your sign-in expired. Sign in with your password again.",
      "your session ended; log in with your password again": "Your sign-in expired. Sign in with your password again.",
      "a push is already waiting on your phone": "A push is already waiting on your phone: answer it there, or wait a minute.",
      "second factor timed out": "That took too long. Try again.",
      "second factor unavailable": "Something went wrong on our side. Try again in a moment, or use another way to sign in.",
      "too many codes sent in this session; log in with your password again": "We have sent you enough codes for now. Sign in with your password again.",
      "no code is waiting: it expired or was used; POST /login/sms for a new one": "That code expired or was already used. Ask for a new one.",
    };
    if (known[t]) return known[t];
    if (res.status === 429) return "Too many attempts. Try again later.";
    return t ? t.charAt(0).toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? "" : ".") : `The server answered ${res.status}.`;
  }

  // sessionEnded: the answer means the half-done login is over, and the
  // page should offer the sign-in page again.
  const sessionEnded = (res) => res.status === 401 && /password (again|first)/.test(res.text);

  function show(text, ok = false) {
    const m = $("message");
    m.textContent = text;
    m.classList.toggle("ok", ok);
    m.hidden = !text;
  }

  function fail(res) {
    show(explain(res));
    if (sessionEnded(res)) {
      const a = document.createElement("a");
      a.href = "/";
      a.textContent = " Go to sign-in.";
      $("message").append(a);
    }
  }

  // busy disables button while work runs, so a double tap sends once.
  async function busy(button, work) {
    button.disabled = true;
    try {
      return await work();
    } finally {
      button.disabled = false;
    }
  }

  function showPasskeys(st) {
    if (!st.passkeys || !window.Passkeys || !window.Passkeys.supported()) return false;
    for (const el of document.querySelectorAll("[data-passkeys]")) el.hidden = false;
    return true;
  }

  // passkeyButton runs a passkey ceremony from passkeys.js when clicked and
  // goes to next once the server accepted it.
  function passkeyButton(id, ceremony, next) {
    const b = $(id);
    if (!b) return;
    b.addEventListener("click", () => busy(b, async () => {
      show("");
      const res = await ceremony();
      if (res.ok) location.assign(next);
      else if (res.cancelled) show("The passkey prompt was closed. Try again when you are ready.");
      else fail(res);
    }));
  }

  // --- the sign-in page --------------------------------------------------

  async function signIn() {
    const st = await session();
    if (showPasskeys(st)) passkeyButton("passkey-signin", () => window.Passkeys.signIn(), "/account");
    const form = $("password-form");
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const username = $("username").value.trim(), password = $("password").value;
      if (!username || !password) {
        show("Enter your username and password.");
        return;
      }
      busy($("continue"), async () => {
        show("");
        const res = await post("/login/password", { username, password });
        if (!res.ok) {
          fail(res);
          $("password").select();
          return;
        }
        location.assign("/second-factor"); // the server sends a user without a factor on to /account
      });
    });
    $("username").focus();
  }

  // --- the second-factor page --------------------------------------------

  async function secondFactor() {
    const st = await session();
    if (st.step !== "second-factor") {
      location.replace("/");
      return;
    }
    $("user").textContent = st.user;
    $("push").hidden = !st.factors.push;
    $("totp").hidden = !st.factors.totp;
    $("sms").hidden = !st.factors.sms;
    if (st.phone_ending) $("sms-hint").textContent = `We text a code to your number ending in ${st.phone_ending}.`;
    if (st.factors.passkeys > 0 && showPasskeys(st)) passkeyButton("passkey-second", () => window.Passkeys.secondFactor(), "/account");

    const welcome = () => location.assign("/account");
    const codeForm = (formID, inputID, buttonID, path) => {
      $(formID).addEventListener("submit", (e) => {
        e.preventDefault();
        const code = $(inputID).value.replace(/\s+/g, "");
        if (!code) {
          show("Enter the code first.");
          return;
        }
        busy($(buttonID), async () => {
          show("");
          const res = await post(path, { code });
          if (res.ok) return welcome();
          fail(res);
          $(inputID).select();
        });
      });
    };
    codeForm("totp-form", "totp-code", "totp-verify", "/login/totp");
    codeForm("sms-form", "sms-code", "sms-verify", "/login/sms/check");

    $("sms-send").addEventListener("click", () => busy($("sms-send"), async () => {
      show("");
      const res = await post("/login/sms");
      if (!res.ok) return fail(res);
      show(`We sent a code to your number ending in ${st.phone_ending}. It is valid for 10 minutes.`, true);
      $("sms-send").textContent = "Send the code again";
      $("sms-form").hidden = false;
      $("sms-code").focus();
    }));

    $("push-send").addEventListener("click", () => busy($("push-send"), async () => {
      $("push-send").hidden = true; // while the phone decides, the status says what to do
      try {
        await pushLogin(welcome);
      } finally {
        $("push-send").hidden = false;
      }
    }));

    $("start-over").addEventListener("click", async () => {
      await post("/logout");
      location.assign("/");
    });
  }

  // pushStatus shows where the push stands: kind is "wait", "ok" or "bad".
  function pushStatus(kind, text) {
    const s = $("push-status");
    s.hidden = false;
    s.className = "status" + (kind === "wait" ? "" : " " + kind);
    s.replaceChildren();
    if (kind === "wait") {
      const spin = document.createElement("span");
      spin.className = "spinner";
      spin.setAttribute("aria-hidden", "true");
      s.append(spin);
    }
    const p = document.createElement("span");
    p.textContent = text;
    s.append(p);
    s.dataset.state = kind;
  }

  // pushLogin sends a push and follows it live: the server streams what
  // happens (server-sent events over this POST's answer), so the page
  // changes as soon as the phone answers, without reloading.
  async function pushLogin(welcome) {
    show("");
    pushStatus("wait", "Sending a push to your phone…");
    let res;
    try {
      res = await fetch("/login/push/stream", { method: "POST", credentials: "same-origin", headers: { Accept: "text/event-stream" } });
    } catch {
      pushStatus("bad", explain({ status: 0 }));
      return;
    }
    if (!res.ok || !(res.headers.get("Content-Type") || "").startsWith("text/event-stream")) {
      const refused = { status: res.status, text: (await res.text()).trim(), retryAfter: Number(res.headers.get("Retry-After")) || 0 };
      $("push-status").hidden = true;
      fail(refused);
      return;
    }
    let timer = 0, outcome = "";
    const stop = () => clearInterval(timer);
    try {
      await readEvents(res.body, async (name, data) => {
        switch (name) {
          case "sent": {
            let left = data.expires_in || 60;
            const tell = () => pushStatus("wait", `We sent a push to your phone. Open it and tap Approve (${left} s left).`);
            tell();
            timer = setInterval(() => { if (left > 0) left--; tell(); }, 1000);
            break;
          }
          case "approved": {
            stop();
            outcome = name;
            pushStatus("ok", "Approved on your phone. Signing you in…");
            const fin = await post(data.next || "/login/push/finish");
            if (fin.ok) welcome();
            else fail(fin);
            break;
          }
          case "denied":
            stop();
            outcome = name;
            pushStatus("bad", "The sign-in was denied on your phone. If it was not you who tried, change your password.");
            break;
          case "expired":
            stop();
            outcome = name;
            pushStatus("bad", "The push expired before it was answered. Send another, or use a code.");
            break;
          case "error":
            stop();
            outcome = name;
            pushStatus("bad", explain({ status: 503, text: data.message || "" }));
            break;
        }
      });
    } finally {
      stop();
    }
    if (!outcome) pushStatus("bad", "We lost contact with the server before your phone answered. Try again.");
    else if (outcome !== "approved") $("push-send").textContent = "Send another push";
  }

  // readEvents parses a text/event-stream body and calls onEvent(name,
  // data) for each event, data parsed as JSON.
  async function readEvents(body, onEvent) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value.replace(/\r\n/g, "\n");
      let end;
      while ((end = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        let name = "message", data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) name = line.slice(6).trim();
          else if (line.startsWith("data:")) data += line.slice(5).trim();
        }
        let parsed = {};
        try { parsed = data ? JSON.parse(data) : {}; } catch { /* not ours: ignored */ }
        await onEvent(name, parsed);
      }
    }
  }

  // --- the account page --------------------------------------------------

  async function account() {
    const st = await session();
    if (st.step !== "signed-in" && st.step !== "enroll") {
      location.replace("/");
      return;
    }
    $("user").textContent = st.user;
    const enrolling = st.step === "enroll";
    $("signed-in-as").hidden = enrolling;
    $("enroll-first").hidden = !enrolling;
    $("title").textContent = enrolling ? "One more step" : "Your account";
    $("sign-out").textContent = enrolling ? "Cancel and sign out" : "Sign out";

    const list = $("factor-list");
    const rows = [
      [st.factors.push, "Push to your phone"],
      [st.factors.totp, "Authenticator app"],
      [st.factors.sms, `Text message to …${st.phone_ending || ""}`],
      [st.factors.passkeys > 0, st.factors.passkeys === 1 ? "A passkey" : `${st.factors.passkeys} passkeys`],
    ];
    for (const [on, label] of rows) {
      if (!on) continue;
      const li = document.createElement("li");
      const name = document.createElement("span");
      name.textContent = label;
      const mark = document.createElement("span");
      mark.className = "on";
      mark.textContent = "On";
      li.append(name, mark);
      list.append(li);
    }
    $("factors").hidden = list.children.length === 0;
    if (st.factors.totp) {
      $("totp-start").textContent = "Replace your authenticator app";
      $("totp-start").classList.remove("primary");
    }
    if (showPasskeys(st)) {
      passkeyButton("passkey-add", () => window.Passkeys.register(), "/account");
    }

    $("totp-start").addEventListener("click", () => busy($("totp-start"), async () => {
      show("");
      const res = await post("/enroll/totp");
      if (!res.ok) return fail(res);
      const enrollment = JSON.parse(res.text);
      const secret = new URL(enrollment.uri).searchParams.get("secret") || "";
      $("totp-secret").textContent = secret.replace(/(.{4})/g, "$1 ").trim();
      $("totp-secret").dataset.secret = secret;
      $("totp-qr").src = enrollment.qr + "?" + encodeURIComponent(enrollment.factor_sid); // a new image for a new factor
      $("totp-setup").hidden = false;
      $("totp-start").hidden = true;
      $("totp-intro").hidden = true;
      $("totp-enroll-code").focus();
    }));

    $("totp-enroll-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const code = $("totp-enroll-code").value.replace(/\s+/g, "");
      if (!code) {
        show("Enter the code your app shows.");
        return;
      }
      busy($("totp-confirm"), async () => {
        show("");
        const res = await post("/enroll/totp/verify", { code });
        if (!res.ok) {
          fail(res);
          $("totp-enroll-code").select();
          return;
        }
        // Past the password alone, the new app is now the way to finish signing in.
        location.assign(enrolling ? "/second-factor" : "/account?added=totp");
      });
    });

    if (new URLSearchParams(location.search).get("added") === "totp") {
      show("Your authenticator app is set up. Next time you sign in, you can use its codes.", true);
    }

    $("sign-out").addEventListener("click", () => busy($("sign-out"), async () => {
      await post("/logout");
      location.assign("/");
    }));
  }

  const pages = { signin: signIn, "second-factor": secondFactor, account };
  const run = pages[document.body.dataset.page];
  if (run) {
    run()
      .then(() => { document.body.dataset.ready = "1"; }) // set up: for people nothing changes, tests wait for it
      .catch(() => show("Something went wrong loading this page. Reload it to try again."));
  }
})();
