// Passkeys (WebAuthn) for the login example's pages: the browser half of
// passkeys.go. The pages show their passkey buttons only when GET /session
// answers "passkeys": true (the server runs with -passkey-origin), and
// only in a browser that has the JSON helpers used here
// (PublicKeyCredential.parseCreationOptionsFromJSON and
// parseRequestOptionsFromJSON).
//
// The endpoints, all POST and same-origin:
//
//   /login/passkey/options   no body. Without a session: request options for
//                            a usernameless sign-in; in a session past the
//                            password: options for that user's passkeys.
//                            Answers the bare options (a {"publicKey": …}
//                            wrapper is unwrapped too).
//   /login/passkey           the assertion, credential.toJSON(), as JSON;
//                            signs the visitor in and sets the session
//                            cookie. 2xx, or an error text.
//   /enroll/passkey          no body; a session that may add a factor:
//                            creation options, as above.
//   /enroll/passkey/verify   the new credential, credential.toJSON(), as
//                            JSON.
"use strict";

window.Passkeys = (() => {
  const endpoints = {
    loginOptions: "/login/passkey/options",
    login: "/login/passkey",
    enrollOptions: "/enroll/passkey",
    enroll: "/enroll/passkey/verify",
  };

  function supported() {
    return typeof window.PublicKeyCredential === "function" &&
      typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function" &&
      typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function" &&
      !!navigator.credentials;
  }

  // answer reads a fetch Response as {ok, status, text, retryAfter}, the
  // shape app.js explains to the visitor.
  async function answer(res) {
    return {
      ok: res.ok, status: res.status, text: (await res.text()).trim(),
      retryAfter: Number(res.headers.get("Retry-After")) || 0,
    };
  }

  // options asks the server for the ceremony's options; null and the
  // refusal when it will not give them.
  async function options(path) {
    const res = await fetch(path, { method: "POST", credentials: "same-origin" });
    if (!res.ok) return [null, await answer(res)];
    const json = await res.json();
    return [json.publicKey || json, null];
  }

  // finish posts the credential the browser made or used, as JSON.
  async function finish(path, credential) {
    const res = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(credential.toJSON()),
    });
    return answer(res);
  }

  // ceremony runs one WebAuthn ceremony, "create" or "get", against the
  // server's options and finish endpoints. A prompt the visitor closed is
  // {cancelled: true}, not an error to show.
  async function ceremony(kind, optionsPath, finishPath) {
    if (!supported()) {
      return { ok: false, status: 0, text: "this browser cannot use passkeys; use another way to sign in" };
    }
    const [opts, refused] = await options(optionsPath);
    if (refused) return refused;
    let credential;
    try {
      credential = kind === "create"
        ? await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(opts) })
        : await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(opts) });
    } catch (err) {
      if (err && (err.name === "NotAllowedError" || err.name === "AbortError")) return { ok: false, cancelled: true };
      return { ok: false, status: 0, text: "your device could not use the passkey" };
    }
    if (!credential) return { ok: false, cancelled: true };
    return finish(finishPath, credential);
  }

  return {
    endpoints,
    supported,
    // signIn: usernameless, on the sign-in page, in place of the password
    // and the second factor.
    signIn: () => ceremony("get", endpoints.loginOptions, endpoints.login),
    // secondFactor: after the password, for the session's user.
    secondFactor: () => ceremony("get", endpoints.loginOptions, endpoints.login),
    // register: on the account page, a new passkey for the signed-in user.
    register: () => ceremony("create", endpoints.enrollOptions, endpoints.enroll),
  };
})();
