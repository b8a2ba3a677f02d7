// Allo web chat widget: <script src="https://ALLO/widget.js" data-key="WIDGET_KEY" defer></script>
(function () {
  "use strict";
  const script = document.currentScript;
  const key = script.dataset.key;
  const base = new URL(script.src).origin;
  const storeKey = "allo_chat_" + key;
  let T = {};
  let config = null;
  let socket = null;
  let lastMessage = 0;
  let typingTimer = null;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    return node;
  }

  async function call(method, path, body, callToken) {
    const headers = { "Content-Type": "application/json", "Accept-Language": script.dataset.lang || navigator.language };
    const token = callToken || localStorage.getItem(storeKey);
    if (token) headers["X-Chat-Token"] = token;
    const response = await fetch(base + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
    if (response.status === 204) return null;
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const detail = data.detail;
      throw new Error(typeof detail === "string" ? detail : (detail || []).map((d) => d.msg).join(" ; ") || response.statusText);
    }
    return data;
  }

  function minutes(seconds) {
    if (seconds === null || seconds === undefined) return "?";
    return seconds < 60 ? T.under_a_minute : Math.round(seconds / 60) + " min";
  }

  const launcher = el("button", { type: "button", class: "allo-launcher", id: "allo-launcher" });
  launcher.innerHTML = '<svg width="26" height="26" viewBox="0 0 24 24" aria-hidden="true"><path fill="#fff" d="M4 4h16a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>';
  const panel = el("section", { class: "allo-panel", id: "allo-panel", hidden: "" });
  const style = el("style", {}, `
    .allo-launcher{position:fixed;right:1.5rem;bottom:1.5rem;border:0;border-radius:2rem;padding:.9rem 1.1rem;background:#0b5fff;color:#fff;font-size:1.1rem;cursor:pointer;box-shadow:0 2px 8px #0004;z-index:99999}
    .allo-panel{position:fixed;right:1.5rem;bottom:5rem;width:22rem;max-height:34rem;display:flex;flex-direction:column;background:#fff;color:#222;border-radius:.6rem;box-shadow:0 4px 18px #0004;font:14px system-ui,sans-serif;z-index:99999;overflow:hidden}
    .allo-panel header{background:#0b5fff;color:#fff;padding:.6rem .8rem;display:flex;justify-content:space-between}
    .allo-panel header button{background:none;border:0;color:#fff;cursor:pointer}
    .allo-body{padding:.8rem;overflow:auto;flex:1}
    .allo-body label{display:block;margin:.4rem 0}.allo-body input[type=radio]{width:auto;margin-right:.3rem}.allo-body input,.allo-body select,.allo-body textarea{width:100%;box-sizing:border-box;padding:.35rem}
    .allo-body button{margin-top:.5rem;background:#0b5fff;color:#fff;border:0;border-radius:.3rem;padding:.45rem .8rem;cursor:pointer}
    .allo-msgs{list-style:none;padding:0;margin:0}.allo-msgs li{margin:.3rem 0;padding:.4rem .6rem;border-radius:.5rem;max-width:85%;white-space:pre-wrap;overflow-wrap:anywhere}
    .allo-msgs .customer{background:#e8efff;margin-left:auto}.allo-msgs .adviser{background:#f1f1f1}.allo-msgs .system{font-style:italic;color:#666}
    .allo-status{color:#555;font-size:.9em}.allo-error{color:#b00020}.allo-stars button{margin-right:.2rem}
    .allo-compose{display:flex;gap:.3rem;border-top:1px solid #ddd;padding:.5rem}.allo-compose textarea{flex:1}
    #allo-panel[hidden],#allo-panel [hidden]{display:none!important}`);
  document.head.append(style);
  document.body.append(launcher, panel);

  function frame(...children) {
    const close = el("button", { type: "button", "aria-label": T.close, onclick: () => { panel.hidden = true; } }, "✕");
    panel.replaceChildren(el("header", {}, el("strong", {}, config ? config.tenant : "Allo"), close), ...children);
  }

  function startForm() {
    const error = el("p", { class: "allo-error", role: "alert" });
    const topic = el("select", { name: "queue_id", id: "allo-topic" });
    for (const t of config.topics) topic.append(el("option", { value: t.queue_id }, t.name));
    const choices = el("div", { id: "allo-choices" });
    const renderChoices = () => {
      const chosen = config.topics.find((t) => String(t.queue_id) === topic.value);
      choices.replaceChildren();
      if (!chosen || !chosen.site_choice) return;
      const seconds = (group, only) => {
        const e = chosen.estimates.find((x) => x.group === group && x.only === only);
        return e ? e.seconds : null;
      };
      const wait = (group, only) => minutes(seconds(group, only));
      // Nobody there to answer now (e.g. before the French sites open): say so, and do not
      // let the customer wait for them.
      const france = seconds(chosen.site_choice, true);
      const franceInput = el("input", { type: "radio", name: "site", value: "france", id: "allo-site-france" });
      if (france === null) franceInput.disabled = true;
      choices.append(
        el("label", {}, franceInput, " " + (france === null ? T.choice_france_closed
          : T.choice_france.replace("{wait}", minutes(france)))),
        el("label", {}, el("input", { type: "radio", name: "site", value: "any", checked: "", id: "allo-site-any" }),
          " " + T.choice_any.replace("{wait}", wait(null, false))));
    };
    topic.addEventListener("change", renderChoices);
    const name = el("input", { name: "name", id: "allo-name", maxlength: "100", required: "" });
    const email = el("input", { name: "email", id: "allo-email", type: "email", maxlength: "254" });
    const form = el("form", { class: "allo-body", id: "allo-start" },
      el("label", {}, T.your_name, name), el("label", {}, T.your_email, email),
      el("label", {}, T.topic, topic), choices, el("button", { type: "submit" }, T.start),
      " ", el("button", { type: "button", id: "allo-call", onclick: () => startCall() }, T.call), error);
    const chosenSite = () => {
      const site = form.querySelector("input[name=site]:checked");
      const chosen = config.topics.find((t) => String(t.queue_id) === topic.value);
      const france = site && site.value === "france";
      return { site_group: france ? chosen.site_choice : null, site_only: Boolean(france) };
    };
    async function startCall() {
      error.textContent = "";
      if (!name.value.trim()) { error.textContent = T.your_name; name.focus(); return; }
      try {
        await call_(name.value, Number(topic.value), chosenSite());
      } catch (e) { error.textContent = e.message; }
    }
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const site = form.querySelector("input[name=site]:checked");
      const chosen = config.topics.find((t) => String(t.queue_id) === topic.value);
      const france = site && site.value === "france";
      try {
        const started = await call("POST", `/public/v1/widget/${key}/chats`, {
          name: name.value, email: email.value || null, queue_id: Number(topic.value),
          site_group: france ? chosen.site_choice : null, site_only: france,
        });
        localStorage.setItem(storeKey, started.token);
        await resume();
      } catch (e) { error.textContent = e.message; }
    });
    frame(form);
    renderChoices();
  }

  // Voice: the browser's offer goes to Allo's media service, which answers; audio never
  // flows to the adviser's browser directly.
  async function call_(who, queueId, site) {
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (e) { throw new Error(T.no_microphone); }
    const pc = new RTCPeerConnection({ iceServers: config.ice_servers || [] });
    for (const track of stream.getTracks()) pc.addTrack(track, stream);
    const status = el("p", { class: "allo-status", id: "allo-call-status" }, T.calling);
    const audio = el("audio", { id: "allo-call-audio", autoplay: "" });
    const error = el("p", { class: "allo-error", role: "alert", id: "allo-call-error" });
    const current = { pc, stream, token: null, socket: null, ended: false };
    window.alloCall = current;
    const end = (text) => {
      if (current.ended) return;
      current.ended = true;
      if (!current.callback) status.textContent = text;
      hang.disabled = true;
      callback.hidden = true;
      stream.getTracks().forEach((track) => track.stop());
      pc.close();
      if (current.socket) current.socket.close();
    };
    const hang = el("button", { type: "button", id: "allo-hangup", onclick: async () => {
      if (current.token) await call("POST", "/public/v1/call/hangup", null, current.token).catch(() => {});
      end(T.call_ended);
    } }, T.hang_up);
    // Virtual hold: leave the line and keep the place; the caller hears the farewell first.
    const callback = el("button", { type: "button", id: "allo-callback", hidden: "", onclick: async () => {
      error.textContent = "";
      try {
        await call("POST", "/public/v1/call/callback", null, current.token);
        current.callback = true;
        callback.hidden = true;
        status.textContent = T.call_callback_done;
      } catch (e) { error.textContent = e.message; }
    } }, T.call_callback);
    pc.onconnectionstatechange = () => { if (pc.connectionState === "failed") end(T.call_ended); };
    pc.ontrack = (event) => { audio.srcObject = event.streams[0] || new MediaStream([event.track]); };
    frame(el("div", { class: "allo-body", id: "allo-in-call" }, status, hang, " ", callback, error, audio));
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      const answer = await call("POST", `/public/v1/widget/${key}/calls`,
        { name: who, queue_id: queueId, sdp: pc.localDescription.sdp, ...site });
      current.token = answer.token;
      current.contactId = answer.contact_id;
      await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
      status.textContent = T.call_waiting;
      callback.hidden = !(config.topics.find((t) => t.queue_id === queueId) || {}).callback;
      current.socket = callStatus(answer.token, (s) => {
        if (s === "in_progress") { status.textContent = T.call_live; callback.hidden = true; }
        else if (["call_ended", "closed", "abandoned"].includes(s)) end(T.call_ended);
      });
    } catch (e) {
      end(T.call_failed);
      error.textContent = e.message;
    }
  }

  function gathered(pc) {
    if (pc.iceGatheringState === "complete") return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => { if (pc.iceGatheringState === "complete") resolve(); };
      pc.addEventListener("icegatheringstatechange", done);
      setTimeout(resolve, 3000);  // enough host candidates by then on any network
    });
  }

  function callStatus(token, onStatus) {
    const scheme = base.startsWith("https") ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${new URL(base).host}/public/v1/chat/ws?token=${encodeURIComponent(token)}`);
    ws.onmessage = (event) => { const m = JSON.parse(event.data); if (m.kind === "status") onStatus(m.status); };
    return ws;
  }

  function chatView(state) {
    const list = el("ol", { class: "allo-msgs", id: "allo-messages" });
    const status = el("p", { class: "allo-status", id: "allo-status" });
    const typing = el("p", { class: "allo-status", id: "allo-typing", hidden: "" }, T.adviser_typing);
    const error = el("p", { class: "allo-error", role: "alert", id: "allo-error" });
    const box = el("textarea", { rows: "2", id: "allo-input", maxlength: "8000", "aria-label": T.write });
    const send = el("button", { type: "submit", id: "allo-send" }, T.send);
    const leave = el("button", { type: "button", id: "allo-leave", onclick: async () => {
      await call("POST", "/public/v1/chat/leave").catch(() => {});
    } }, T.leave);
    const compose = el("form", { class: "allo-compose" }, box, send);
    // Enter sends, Shift+Enter starts a new line (the widget is self-contained: it runs on
    // the tenant's own pages, without the staff pages' common.js).
    box.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault(); compose.requestSubmit();
      }
    });
    let lastTyping = 0;
    box.addEventListener("input", () => {
      if (socket && socket.readyState === 1 && Date.now() - lastTyping > 1000) {
        socket.send(JSON.stringify({ kind: "typing" })); lastTyping = Date.now();
      }
    });
    compose.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      try { addMessage(await say(box.value)); box.value = ""; }
      catch (e) { error.textContent = e.message; }
    });
    frame(el("div", { class: "allo-body" }, status, list, typing, error, leave), compose);
    setStatus(state.status);
    for (const m of state.messages) addMessage(m);
  }

  function addMessage(m) {
    if (!m || m.id <= lastMessage) return;
    lastMessage = m.id;
    const list = document.getElementById("allo-messages");
    if (!list) return;
    const text = m.author === "system" ? (T["system." + m.body] || m.body) : m.body;
    list.append(el("li", { class: m.author }, text));  // text only: never HTML
    list.parentElement.scrollTop = list.parentElement.scrollHeight;
  }

  function setStatus(status, estimates) {
    const line = document.getElementById("allo-status");
    if (!line) return;
    if (status === "waiting" || status === "queued" || status === "offered") {
      const own = estimates && estimates[0];
      line.textContent = own ? T.waiting_for.replace("{wait}", minutes(own.seconds)) : T.waiting;
    } else if (status === "in_progress" || status === "wrap_up") line.textContent = T.connected;
    else if (status === "closed") ratingForm();
    else if (status === "abandoned") { line.textContent = T.ended; localStorage.removeItem(storeKey); }
  }

  function ratingForm() {
    const error = el("p", { class: "allo-error", role: "alert" });
    const comment = el("textarea", { rows: "2", id: "allo-comment", maxlength: "2000" });
    const stars = el("div", { class: "allo-stars" });
    for (let score = 1; score <= 5; score++) {
      stars.append(el("button", { type: "button", "data-score": score, onclick: async () => {
        try {
          await call("POST", "/public/v1/chat/rating", { score, comment: comment.value || null });
          localStorage.removeItem(storeKey);
          frame(el("div", { class: "allo-body", id: "allo-thanks" }, el("p", {}, T.thanks)));
        } catch (e) { error.textContent = e.message; }
      } }, "★ " + score));
    }
    frame(el("div", { class: "allo-body", id: "allo-rating" }, el("p", {}, T.rate), stars,
      el("label", {}, T.comment, comment), error));
  }

  // Messages go over the open socket (REST when it is not open); each gets `sent` or `error`.
  const pending = new Map();
  let nextRef = 1;
  function say(body) {
    if (!socket || socket.readyState !== 1) return call("POST", "/public/v1/chat/messages", { body });
    return new Promise((resolve, reject) => {
      const ref = nextRef++;
      pending.set(ref, { resolve, reject });
      socket.send(JSON.stringify({ kind: "message", body, ref }));
    });
  }

  function answered(m) {
    const waiter = pending.get(m.ref);
    if (!waiter) return;
    pending.delete(m.ref);
    if (m.kind === "sent") waiter.resolve(m.message); else waiter.reject(new Error(m.message));
  }

  // The socket opens with the chat's state (messages after the last one shown), then pushes.
  function listen() {
    const token = localStorage.getItem(storeKey);
    const scheme = base.startsWith("https") ? "wss" : "ws";
    const lang = encodeURIComponent(script.dataset.lang || navigator.language || "");
    let opened = false;
    socket = new WebSocket(`${scheme}://${new URL(base).host}/public/v1/chat/ws?token=${encodeURIComponent(token)}&after=${lastMessage}&lang=${lang}`);
    socket.onmessage = (event) => {
      const m = JSON.parse(event.data);
      if (m.kind === "state") { opened = true; shown(m); }
      else if (m.kind === "message") {
        addMessage(m);
        const typing = document.getElementById("allo-typing");
        if (typing && m.author === "adviser") { clearTimeout(typingTimer); typing.hidden = true; }
      }
      else if (m.kind === "sent" || m.kind === "error") answered(m);
      else if (m.kind === "status") setStatus(m.status);
      else if (m.kind === "wait") setStatus("waiting", m.estimates);
      else if (m.kind === "typing") {
        const typing = document.getElementById("allo-typing");
        if (!typing) return;
        typing.hidden = false; clearTimeout(typingTimer);
        typingTimer = setTimeout(() => { typing.hidden = true; }, 3000);
      }
    };
    socket.onclose = (event) => {
      for (const waiter of pending.values()) waiter.reject(new Error(T.connection_lost));
      pending.clear();
      if (event.code === 1008 && !opened) { localStorage.removeItem(storeKey); startForm(); return; }
      if (event.code !== 1008 && localStorage.getItem(storeKey)) setTimeout(listen, 1000);
    };
  }

  function shown(state) {
    if (document.getElementById("allo-messages")) {  // a reconnect: what came meanwhile
      for (const m of state.messages) addMessage(m);
      setStatus(state.status);
      return;
    }
    if (state.status === "closed" || state.status === "abandoned") {
      socket.onclose = null; socket.close(); socket = null;
      if (state.status === "closed" && state.satisfaction === null) { ratingForm(); return; }
      localStorage.removeItem(storeKey); startForm(); return;
    }
    chatView(state);
  }

  async function resume() {
    lastMessage = 0;
    if (socket) { socket.onclose = null; socket.close(); }
    listen();
  }

  async function boot() {
    try {
      config = await call("GET", `/public/v1/widget/${key}`);
      T = config.texts;
    } catch (e) {
      launcher.addEventListener("click", () => { panel.hidden = false; frame(el("p", { class: "allo-body allo-error", role: "alert" }, e.message)); });
      return;
    }
    launcher.title = T.open;
    launcher.addEventListener("click", () => { panel.hidden = !panel.hidden; });
    if (localStorage.getItem(storeKey)) {
      panel.hidden = false;
      await resume().catch(() => { localStorage.removeItem(storeKey); startForm(); });
    } else startForm();
  }
  boot();
})();
