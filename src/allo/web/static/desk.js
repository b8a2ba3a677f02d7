// The adviser desk: state, ringing offers, several conversations as tabs, wrap-up.
import { api, connect, el, sendOnEnter } from "./common.js";

const root = document.getElementById("desk");
const T = JSON.parse(root.dataset.texts);
const tabs = document.getElementById("tabs");
const panes = document.getElementById("panes");
const offerBox = document.getElementById("offer");
const stateSelect = document.getElementById("state");
const open = new Map(); // contact id → {tab, pane, lastMessage}
let me = null;
let offer = null; // {contactId, expiresAt, timer}
let ringer = null;
let socket = null;
const answered = new Set(); // offers accepted or declined here
const ICE = JSON.parse(root.dataset.ice || "[]");
const phones = new Map(); // contact id → {pc, stream}
window.alloPhones = phones;

function ring(on) {
  // Two-tone ring with WebAudio while an offer waits; visual pulse through CSS.
  if (ringer) { clearInterval(ringer.interval); ringer.context.close(); ringer = null; }
  offerBox.classList.toggle("ringing", on);
  if (!on || !window.AudioContext) return;
  const context = new AudioContext();
  const beep = () => {
    const osc = context.createOscillator();
    const gain = context.createGain();
    osc.frequency.value = 880; gain.gain.value = 0.05;
    osc.connect(gain).connect(context.destination);
    osc.start(); osc.stop(context.currentTime + 0.25);
  };
  beep();
  ringer = { context, interval: setInterval(beep, 1000) };
}

async function showOffer(contactId, expiresAt) {
  // A push can arrive after the offer was already answered from a resync: ignore it then.
  const key = `${contactId}@${Date.parse(expiresAt)}`;
  if (open.has(contactId) || answered.has(key)) return;
  const contact = await api("GET", `/api/v1/contacts/${contactId}`);
  const until = Date.parse(expiresAt);
  document.getElementById("offer-what").textContent =
    `${T["channel." + contact.channel]} · #${contact.id}`;
  offerBox.hidden = false;
  ring(true);
  const countdown = document.getElementById("offer-countdown");
  const tickDown = () => {
    const left = Math.max(0, Math.round((until - Date.now()) / 1000));
    countdown.textContent = `${left} s`;
    if (left <= 0) hideOffer();
  };
  if (offer) clearInterval(offer.timer);
  offer = { contactId, key, timer: setInterval(tickDown, 250) };
  tickDown();
}

function hideOffer() {
  if (offer) clearInterval(offer.timer);
  offer = null;
  offerBox.hidden = true;
  ring(false);
}

document.getElementById("offer-accept").addEventListener("click", async () => {
  if (!offer) return;
  const contactId = offer.contactId;
  answered.add(offer.key);
  hideOffer();
  try {
    const contact = await api("POST", `/api/v1/contacts/${contactId}/accept`);
    await openTab(contact);
  } catch (error) { alert(error.message); }
});

// A colleague consults me about their call (warm transfer): I join their consult leg; if
// they complete, the call is mine.
const consultBox = document.getElementById("consult");
let consultation = null; // contact id
function showConsult(contactId) {
  consultation = contactId;
  document.getElementById("consult-what").textContent = `#${contactId}`;
  consultBox.hidden = false;
}
function hideConsult() { consultation = null; consultBox.hidden = true; }
document.getElementById("consult-accept").addEventListener("click", async () => {
  const contactId = consultation;
  hideConsult();
  if (contactId === null) return;
  try {
    const contact = await api("GET", `/api/v1/contacts/${contactId}`);
    await openTab(contact, `/api/v1/contacts/${contactId}/voice/consult/join`);
  } catch (error) { alert(error.message); }
});

document.getElementById("offer-decline").addEventListener("click", async () => {
  if (!offer) return;
  const contactId = offer.contactId;
  answered.add(offer.key);
  hideOffer();
  await api("POST", `/api/v1/contacts/${contactId}/decline`).catch(() => {});
});

stateSelect.addEventListener("change", async () => {
  try {
    await api("PUT", `/api/v1/advisers/${me.id}/state`, { state: stateSelect.value });
  } catch (error) { alert(error.message); stateSelect.value = me.state; }
});

function addMessage(entry, message) {
  if (message.id <= entry.lastMessage) return;
  entry.lastMessage = message.id;
  const text = message.author === "system" ? (T["system." + message.body] || message.body)
    : message.body;
  const item = el("li", { class: `msg ${message.author}` }, text);
  if (message.bot) item.append(el("span", { class: "badge" }, "bot"));
  const list = entry.pane.querySelector(".messages");
  list.append(item);
  list.scrollTop = list.scrollHeight;
}

function select(contactId) {
  for (const [id, entry] of open) {
    entry.tab.classList.toggle("active", id === contactId);
    entry.pane.hidden = id !== contactId;
  }
}

async function fillCustomer(entry, contact) {
  const fields = entry.pane.querySelector(".card-fields");
  if (!contact.customer_id) return;
  const customer = await api("GET", `/api/v1/customers/${contact.customer_id}`);
  for (const key of ["first_name", "last_name", "email", "phone", "address", "iban", "notes"]) {
    if (!(key in customer) || customer[key] === null) continue;
    fields.append(el("dt", {}, T["field." + key]), el("dd", { "data-field": key }, customer[key]));
  }
  entry.pane.querySelector(".masked-note").hidden = !customer.masked;
  const history = await api("GET", `/api/v1/customers/${contact.customer_id}/contacts`);
  const list = entry.pane.querySelector(".history");
  for (const past of history.filter((c) => c.id !== contact.id)) {
    list.append(el("li", {}, `${past.created_at.slice(0, 10)} · ${T["channel." + past.channel]}` +
      ` · ${T["status." + past.status]}${past.wrap_code ? " · " + past.wrap_code : ""}`));
  }
}

async function openTab(contact, phonePath = null) {
  if (open.has(contact.id)) return select(contact.id);
  document.getElementById("empty").hidden = true;
  const pane = document.getElementById("pane-template").content.firstElementChild.cloneNode(true);
  pane.dataset.contact = contact.id;
  const tab = el("button", { type: "button", class: "tab", "data-contact": contact.id,
    onclick: () => select(contact.id) }, `${T["channel." + contact.channel]} #${contact.id}`);
  const entry = { tab, pane, lastMessage: 0, typingTimer: null };
  open.set(contact.id, entry);
  tabs.append(tab);
  panes.append(pane);
  wire(entry, contact);
  select(contact.id);
  if (contact.channel === "email") await showThread(entry, contact);
  else {
    const history = await api("GET", `/api/v1/contacts/${contact.id}/messages`).catch(() => []);
    for (const message of history) addMessage(entry, message);
  }
  await fillCustomer(entry, contact).catch(() => {});
  if (contact.channel === "voice" && contact.status === "in_progress") {
    await startPhone(entry, contact, phonePath || `/api/v1/contacts/${contact.id}/voice`);
  }
}

function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") resolve();
    });
    setTimeout(resolve, 3000);
  });
}

// The softphone: the adviser's audio goes to Allo's media service, which bridges it to the
// caller; the caller's network address never reaches this page.
async function startPhone(entry, contact, path) {
  const box = entry.pane.querySelector(".phone");
  const status = box.querySelector(".phone-status");
  const error = box.querySelector(".phone-error");
  box.hidden = false;
  status.textContent = T["desk.phone_connecting"];
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (e) { error.textContent = T["desk.no_microphone"]; return; }
  const pc = new RTCPeerConnection({ iceServers: ICE });
  const phone = { pc, stream, muted: false, held: false, paused: false };
  phones.set(contact.id, phone);
  for (const track of stream.getTracks()) pc.addTrack(track, stream);
  pc.ontrack = (event) => {
    box.querySelector(".phone-audio").srcObject = event.streams[0] || new MediaStream([event.track]);
  };
  pc.onconnectionstatechange = () => {
    if (pc.connectionState === "connected") status.textContent = T["desk.phone_live"];
  };
  const toggle = (selector, flag, on, off, path, body) => {
    box.querySelector(selector).addEventListener("click", async (event) => {
      const next = !phone[flag];
      try {
        if (path) await api("POST", `/api/v1/contacts/${contact.id}/voice/${path}`, body(next));
        phone[flag] = next;
        if (flag === "muted") stream.getAudioTracks().forEach((t) => { t.enabled = !next; });
        event.target.textContent = T[next ? off : on];
      } catch (e) { error.textContent = e.message; }
    });
  };
  toggle(".phone-mute", "muted", "desk.mute", "desk.unmute", null, null);
  toggle(".phone-hold", "held", "desk.hold", "desk.unhold", "hold", (on) => ({ on }));
  toggle(".phone-pause", "paused", "desk.pause_recording", "desk.resume_recording",
    "recording-pause", (on) => ({ on }));
  box.querySelector(".phone-hangup").addEventListener("click", async () => {
    await api("POST", `/api/v1/contacts/${contact.id}/voice/hangup`).catch((e) => {
      error.textContent = e.message;
    });
    endPhone(contact.id);
  });
  await wireTransfer(box, contact, error);
  try {
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const answer = await api("POST", path, { sdp: pc.localDescription.sdp });
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
  } catch (e) { error.textContent = e.message; endPhone(contact.id); }
}

// Transfer: to a queue or a named colleague, blind (the caller hears hold audio until they
// are answered) or after consulting the colleague (warm: complete or cancel).
async function wireTransfer(box, contact, error) {
  const target = box.querySelector(".transfer-target");
  const [queues, advisers] = await Promise.all([
    api("GET", "/api/v1/queues?limit=200"), api("GET", "/api/v1/advisers?limit=500"),
  ]).catch(() => [{ items: [] }, { items: [] }]);
  for (const q of queues.items) target.append(el("option", { value: `queue:${q.id}` }, `${T["desk.queue"]} · ${q.name}`));
  for (const a of advisers.items.filter((a) => a.id !== me.id)) {
    target.append(el("option", { value: `adviser:${a.id}` }, `${T["desk.adviser"]} · ${a.name}`));
  }
  const chosen = () => {
    const [kind, id] = target.value.split(":");
    return kind === "queue" ? { queue_id: Number(id) } : { adviser_id: Number(id) };
  };
  const path = `/api/v1/contacts/${contact.id}`;
  const consulting = (on) => {
    box.querySelector(".consult-complete").hidden = !on;
    box.querySelector(".consult-cancel").hidden = !on;
    box.querySelector(".transfer-blind").hidden = on;
    box.querySelector(".transfer-consult").hidden = on;
    box.querySelector(".phone-status").textContent = on ? T["desk.consulting"] : T["desk.phone_live"];
  };
  const act = (selector, work) => box.querySelector(selector).addEventListener("click", async () => {
    error.textContent = "";
    try { await work(); } catch (e) { error.textContent = e.message; }
  });
  act(".transfer-blind", () => api("POST", `${path}/transfer`, chosen()));
  act(".transfer-consult", async () => {
    const { adviser_id: adviserId } = chosen();
    if (!adviserId) throw new Error(T["desk.adviser"]);
    await api("POST", `${path}/voice/consult`, { adviser_id: adviserId });
    consulting(true);
  });
  act(".consult-complete", () => api("POST", `${path}/voice/consult/complete`));
  act(".consult-cancel", async () => { await api("POST", `${path}/voice/consult/cancel`); consulting(false); });
}

function endPhone(contactId) {
  const phone = phones.get(contactId);
  const entry = open.get(contactId);
  if (entry) {
    const box = entry.pane.querySelector(".phone");
    box.querySelector(".phone-status").textContent = T["desk.phone_ended"];
    for (const button of box.querySelectorAll("button")) button.disabled = true;
  }
  if (!phone || phone.ended) return;
  phone.ended = true;
  phone.stream.getTracks().forEach((track) => track.stop());
  phone.pc.close();
}

async function showThread(entry, contact) {
  // An email contact: the thread, each message's quoted history collapsed; replies go out by mail.
  const thread = await api("GET", `/api/v1/contacts/${contact.id}/email`);
  entry.email = true;
  const list = entry.pane.querySelector(".messages");
  list.replaceChildren(el("li", { class: "msg system" }, `${thread.subject} · ${thread.reference}`));
  for (const m of thread.messages) {
    const item = el("li", { class: `msg ${m.direction === "in" ? "customer" : "adviser"}` }, m.body || "");
    if (m.quoted) item.append(el("details", {}, el("summary", {}, T.quoted || "…"), el("pre", {}, m.quoted)));
    for (const a of m.attachments || []) {
      item.append(el("div", {}, el("a", { href: `/api/v1/contacts/${contact.id}/email/attachments/${a.id}` },
        `📎 ${a.filename || a.id} (${Math.round(a.size / 1024)} KB)`)));
    }
    list.append(item);
  }
}

function wire(entry, contact) {
  const compose = entry.pane.querySelector(".compose");
  const box = compose.querySelector("textarea");
  sendOnEnter(box, compose);
  let lastTyping = 0;
  box.addEventListener("input", () => {
    if (Date.now() - lastTyping > 1000) {
      socket.send({ kind: "typing", contact_id: contact.id });
      lastTyping = Date.now();
    }
  });
  compose.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = compose.querySelector(".error");
    error.textContent = "";
    try {
      if (entry.email) {
        await api("POST", `/api/v1/contacts/${contact.id}/email/reply`, { body: box.value });
        box.value = "";
        await showThread(entry, contact);
      } else {
        // Over the open socket; REST while it reconnects.
        const body = box.value;
        addMessage(entry, socket.isOpen()
          ? await socket.ask({ kind: "message", contact_id: contact.id, body })
          : await api("POST", `/api/v1/contacts/${contact.id}/messages`, { body }));
        box.value = "";
      }
    } catch (e) { error.textContent = e.message; }
  });
  entry.pane.querySelector(".wrap").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    await api("POST", `/api/v1/contacts/${contact.id}/close`, {
      wrap_code: form.wrap_code.value, notes: form.notes.value || null,
      resolved: form.resolved.checked,
    }).then(() => closeTab(contact.id)).catch((e) => alert(e.message));
  });
}

function closeTab(contactId) {
  const entry = open.get(contactId);
  if (!entry) return;
  entry.tab.remove(); entry.pane.remove(); open.delete(contactId);
  document.getElementById("empty").hidden = open.size > 0;
  const next = open.keys().next();
  if (!next.done) select(next.value);
}

function onPush(message) {
  if (message.kind === "connected") { resync(); return; }
  if (message.kind === "message") {
    const entry = open.get(message.contact_id);
    if (!entry) return;
    addMessage(entry, message);
    if (message.author === "customer") {  // what they were typing has arrived
      clearTimeout(entry.typingTimer);
      entry.pane.querySelector(".typing").hidden = true;
    }
    return;
  }
  if (message.kind === "typing") {
    const entry = open.get(message.contact_id);
    if (!entry) return;
    const typing = entry.pane.querySelector(".typing");
    typing.hidden = false;
    clearTimeout(entry.typingTimer);
    entry.typingTimer = setTimeout(() => { typing.hidden = true; }, 3000);
    return;
  }
  if (message.kind !== "event") return;
  const { type, payload, subject_id: id } = message;
  if (type === "contact.offered" && payload.adviser_id === me.id) showOffer(id, payload.expires_at);
  if ((type === "contact.queued" || type === "contact.abandoned") && offer && offer.contactId === id) hideOffer();
  if (type === "contact.wrap_up" || type === "call.ended") endPhone(id);
  if (type === "contact.transferred" && payload.adviser_id === me.id) { endPhone(id); closeTab(id); }
  if (type === "call.consult_requested" && payload.adviser_id === me.id) showConsult(id);
  if (type === "call.consult_ended" && payload.adviser_id === me.id) {
    if (consultation === id) hideConsult();
    if (payload.outcome === "cancelled") { endPhone(id); closeTab(id); }
  }
  if (type === "contact.closed" || type === "contact.abandoned") { endPhone(id); closeTab(id); }
  if (type === "adviser.state_changed" && id === me.id) {
    me.state = payload.to; stateSelect.value = payload.to;
  }
}

async function resync() {
  // After (re)connecting: anything offered or handed to me while the socket was down.
  const desk = await api("GET", "/api/v1/desk");
  me = desk.adviser;
  stateSelect.value = me.state;
  for (const contact of desk.contacts) {
    if (contact.status === "offered") {
      if (!offer || offer.contactId !== contact.id) showOffer(contact.id, contact.offer_expires_at);
    } else await openTab(contact);
  }
  root.dataset.ready = "true";
}

async function start() {
  const desk = await api("GET", "/api/v1/desk");
  me = desk.adviser;
  document.getElementById("me-name").textContent = me.name;
  document.getElementById("me-site").textContent = desk.site ? desk.site.name : "";
  stateSelect.value = me.state;
  socket = connect("/ws/staff", onPush, T["desk.connection_lost"]);
}

start().catch((error) => { root.prepend(el("p", { class: "error" }, error.message)); });
