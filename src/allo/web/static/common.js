// Shared helpers of the staff pages: API calls with the CSRF header, the staff socket.

export function cookie(name) {
  const found = document.cookie.split("; ").find((part) => part.startsWith(name + "="));
  return found ? decodeURIComponent(found.split("=")[1]) : "";
}

export async function api(method, path, body) {
  const headers = { "Accept": "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = cookie("allo_csrf");
  const response = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(errorText(data) || response.statusText);
  return data;
}

export function errorText(data) {
  if (!data || data.detail === undefined) return "";
  if (typeof data.detail === "string") return data.detail;
  return data.detail.map((d) => d.msg).join(" ; ");
}

export function connect(path, onMessage, lostText = "") {
  // Reconnects with a growing delay; onMessage gets parsed JSON. `ask` sends a request
  // (a message) with a ref and resolves with the server's `sent`, or fails with its `error`.
  let delay = 500;
  let socket;
  let nextRef = 1;
  const pending = new Map();
  const open = () => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}${path}`);
    socket.onopen = () => { delay = 500; onMessage({ kind: "connected" }); };
    socket.onmessage = (e) => {
      const data = JSON.parse(e.data);
      const waiter = (data.kind === "sent" || data.kind === "error") && pending.get(data.ref);
      if (!waiter) { onMessage(data); return; }
      pending.delete(data.ref);
      if (data.kind === "sent") waiter.resolve(data.message); else waiter.reject(new Error(data.message));
    };
    socket.onclose = () => {
      for (const waiter of pending.values()) waiter.reject(new Error(lostText));
      pending.clear();
      setTimeout(open, delay); delay = Math.min(delay * 2, 8000);
    };
  };
  open();
  const isOpen = () => socket && socket.readyState === 1;
  return {
    isOpen,
    send: (data) => isOpen() && socket.send(JSON.stringify(data)),
    ask: (data) => new Promise((resolve, reject) => {
      const ref = nextRef++;
      pending.set(ref, { resolve, reject });
      socket.send(JSON.stringify({ ...data, ref }));
    }),
  };
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function minutes(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  return `${Math.round(seconds / 60)} min`;
}

export function percent(value) {
  return value === null || value === undefined ? "–" : `${Math.round(value * 100)} %`;
}

export function sendOnEnter(box, form) {
  // Enter sends, Shift+Enter starts a new line, as in every chat (not while an input method
  // is composing a character).
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
}
