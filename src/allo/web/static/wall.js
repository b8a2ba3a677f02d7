// The supervisor wall: a snapshot re-read whenever a pushed event says something changed.
import { api, connect, el, minutes, percent } from "./common.js";

const root = document.getElementById("wall");
const T = JSON.parse(root.dataset.texts);
const errorBox = document.getElementById("wall-error");
const history = new Map(); // queue id → recent waiting counts, for the chart
let refreshTimer = null;
let pushes = 0;
let lastEvent = 0; // id of the last event pushed to this wall
let data = null;

function estimate(queue, group, only) {
  const found = queue.estimates.find((e) => e.group === group && e.only === only && e.channel === "chat");
  return found ? minutes(found.seconds) : "–";
}

function slCell(figure, target) {
  const cell = el("td", {}, percent(figure));
  if (figure !== null && figure !== undefined) {
    cell.className = figure * 100 >= target.percent ? "good" : "bad";
  }
  return cell;
}

// Open policy editors by queue id: a re-render keeps them (and what was typed) as they are.
const openEditors = new Map();

function tierText(tier) {
  const where = [];
  if (tier.chosen) where.push(T["wall.tier_chosen"]);
  where.push(...tier.groups);
  return `${tier.after} s : ${where.length ? where.join(" + ") : T["wall.tier_all"]}`;
}

function policyCell(queue) {
  if (openEditors.has(queue.id)) return openEditors.get(queue.id);
  const policy = queue.policy;
  const summary = el("span", { class: "policy-summary" },
    policy.tiers.map(tierText).join(" → "), " · ", T["selection." + policy.selection]);
  const edit = el("button", { type: "button", class: "small secondary", onclick: () => {
    const cell = el("td", {}, policyEditor(queue));
    openEditors.set(queue.id, cell);
    renderQueues();
  } }, T["wall.edit"]);
  return el("td", {}, summary, " ", edit);
}

function tierRow(tier) {
  // One site tier: from how many seconds of waiting, which sites may answer.
  const row = el("div", { class: "tier" },
    T["wall.tier_after"], " ",
    el("input", { type: "number", min: "0", max: "86400", value: tier.after, class: "narrow",
      name: "after", "aria-label": T["wall.tier_after"] }), " s ",
    el("input", { type: "text", name: "groups", value: tier.groups.join(", "), list: "site-groups",
      placeholder: T["wall.tier_all"], "aria-label": T["wall.tier_groups"] }), " ");
  const chosen = el("input", { type: "checkbox", name: "chosen" });
  chosen.checked = tier.chosen;
  row.append(el("label", {}, chosen, " ", T["wall.tier_chosen"]), " ",
    el("button", { type: "button", class: "small secondary", "aria-label": T["wall.tier_remove"],
      onclick: () => { if (row.parentNode.children.length > 1) row.remove(); } }, "✕"));
  return row;
}

function readTiers(box) {
  return [...box.querySelectorAll(".tier")].map((row) => ({
    after: Number(row.querySelector("[name=after]").value || 0),
    groups: row.querySelector("[name=groups]").value.split(",").map((g) => g.trim()).filter(Boolean),
    chosen: row.querySelector("[name=chosen]").checked,
  }));
}

function policyEditor(queue) {
  const tiers = el("div", { class: "tiers", "aria-label": T["wall.tiers"] },
    ...queue.policy.tiers.map(tierRow));
  const choice = el("select", { name: "selection", "aria-label": T.selection });
  for (const option of ["longest_idle", "most_skilled", "best_quality", "least_occupied"]) {
    const item = el("option", { value: option }, T["selection." + option]);
    if (option === queue.policy.selection) item.selected = true;
    choice.append(item);
  }
  const problem = el("p", { class: "error", role: "alert" });
  const close = () => { openEditors.delete(queue.id); renderQueues(); };
  const save = async () => {
    const policy = { ...queue.policy, tiers: readTiers(tiers), selection: choice.value };
    try {
      const saved = await api("PUT", `/api/v1/queues/${queue.id}/policy`, { routing_policy: policy });
      queue.policy = saved.routing_policy || policy;
      close();
      scheduleRefresh();
    } catch (error) { problem.textContent = error.message; }
  };
  return el("div", { class: "policy-editor" },
    el("strong", {}, T["wall.tiers"]), tiers,
    el("button", { type: "button", class: "small secondary",
      onclick: () => tiers.append(tierRow({ after: 90, groups: [], chosen: false })) },
    T["wall.tier_add"]),
    el("div", {}, T.selection, " ", choice),
    problem,
    el("div", {}, el("button", { type: "button", class: "small", onclick: save }, T.save), " ",
      el("button", { type: "button", class: "small secondary", onclick: close }, T["wall.cancel"])));
}

function renderGroups() {
  const list = document.getElementById("site-groups");
  const groups = new Set(data.sites.flatMap((site) => site.groups || []));
  list.replaceChildren(...[...groups].sort().map((g) => el("option", { value: g })));
}

function renderQueues() {
  const body = document.querySelector("#queues tbody");
  body.replaceChildren(...data.queues.map((q) => el("tr", { "data-queue": q.id },
    el("td", {}, q.name), el("td", { class: "waiting" }, q.waiting),
    el("td", {}, minutes(q.longest_wait)), slCell(q.today.service_level, q.sl_target),
    slCell(q.last_30_min.service_level, q.sl_target), el("td", {}, minutes(q.today.asa)),
    el("td", {}, percent(q.today.abandon_rate)), el("td", {}, estimate(q, "france", true)),
    el("td", {}, estimate(q, null, false)), policyCell(q))));
}

function renderChart() {
  // Per queue: the latest waiting count as a bar, and its recent updates as a line over it.
  const svg = document.getElementById("waiting-chart");
  const ns = "http://www.w3.org/2000/svg";
  const shape = (name, attributes) => {
    const node = document.createElementNS(ns, name);
    Object.entries(attributes).forEach(([key, value]) => node.setAttribute(key, value));
    return node;
  };
  svg.replaceChildren();
  const width = 600 / Math.max(data.queues.length, 1);
  const peak = Math.max(1, ...data.queues.map((q) => Math.max(...(history.get(q.id) || [0]))));
  const y = (value) => 100 - (value / peak) * 90;
  data.queues.forEach((queue, index) => {
    const values = history.get(queue.id) || [];
    const latest = values[values.length - 1] || 0;
    const left = index * width + 10, span = width - 20;
    svg.append(shape("line", { x1: left, x2: left + span, y1: 100, y2: 100, class: "axis" }));
    svg.append(shape("rect", {
      x: left, width: span, y: y(latest), height: 100 - y(latest), class: "bar",
    }));
    if (values.length > 1) {
      const step = span / (values.length - 1);
      const points = values.map((v, i) => `${(left + i * step).toFixed(1)},${y(v).toFixed(1)}`);
      svg.append(shape("polyline", { points: points.join(" "), class: "trend" }));
    }
    const label = shape("text", { x: left, y: 115 });
    label.textContent = `${queue.name} (${latest})`;
    svg.append(label);
  });
}

function renderSites() {
  const box = document.getElementById("sites");
  box.replaceChildren(...data.sites.map((site) => {
    const states = Object.entries(site.states).map(([s, n]) => `${T["state." + s]} ${n}`).join(" · ");
    const occupancy = site.occupancy === null ? 0 : site.occupancy;
    return el("div", { class: "site", "data-site": site.id },
      el("strong", {}, `${site.name} (${site.country})`), el("p", {}, states || "–"),
      el("div", { class: "meter", title: T.occupancy },
        el("span", { style: `width:${Math.round(occupancy * 100)}%` })),
      el("p", { class: "muted" }, `${T.occupancy} ${percent(site.occupancy)}`));
  }));
}

function renderContacts() {
  const queueName = new Map(data.queues.map((q) => [q.id, q.name]));
  const body = document.querySelector("#contacts tbody");
  body.replaceChildren(...data.contacts.map((c) => el("tr", { "data-contact": c.id },
    el("td", {}, c.id), el("td", {}, T["channel." + c.channel]), el("td", {}, queueName.get(c.queue_id)),
    el("td", {}, T["status." + c.status]), el("td", {}, c.adviser || "–"),
    el("td", {}, new Date(c.since).toLocaleTimeString()),
    el("td", {}, c.channel === "voice" && c.status === "in_progress"
      ? el("button", { type: "button", class: "small listen-in", onclick: () => listenIn(c.id) }, T.listen_in)
      : ""))));
}

// Silent listening: a receive-only connection to the media service, which sends the mix of
// caller and adviser and forwards nothing from here (the server audits it).
let listening = null;
window.alloListening = () => listening;
async function listenIn(contactId) {
  stopListening();
  const pc = new RTCPeerConnection({ iceServers: JSON.parse(root.dataset.ice || "[]") });
  listening = { pc, contactId };
  pc.addTransceiver("audio", { direction: "recvonly" });
  pc.ontrack = (event) => {
    document.getElementById("listen-audio").srcObject = event.streams[0] || new MediaStream([event.track]);
  };
  try {
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const answer = await api("POST", `/api/v1/contacts/${contactId}/voice/listen`, { sdp: pc.localDescription.sdp });
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
    document.getElementById("listening").hidden = false;
  } catch (e) { errorBox.textContent = e.message; stopListening(); }
}

function stopListening() {
  if (listening) listening.pc.close();
  listening = null;
  document.getElementById("listening").hidden = true;
}
document.getElementById("listen-stop").addEventListener("click", stopListening);

function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    pc.addEventListener("icegatheringstatechange", () => { if (pc.iceGatheringState === "complete") resolve(); });
    setTimeout(resolve, 3000);
  });
}

async function renderRecordings() {
  // Playback streams the file from the API, which writes the audit entry first.
  const rows = await api("GET", "/api/v1/recordings");
  const player = document.getElementById("recording-audio");
  const body = document.querySelector("#recordings tbody");
  body.replaceChildren(...rows.map((r) => el("tr", { "data-recording": r.id },
    el("td", {}, `#${r.contact_id}`), el("td", {}, new Date(r.created_at).toLocaleString()),
    el("td", {}, `${Math.round(r.duration_seconds)} s`), el("td", {}, r.paused_spans.length),
    el("td", {}, new Date(r.expires_at).toLocaleDateString()),
    el("td", {}, el("button", { type: "button", class: "small play-recording", onclick: () => {
      player.hidden = false; player.src = `/api/v1/recordings/${r.id}/audio`; player.play().catch(() => {});
    } }, T.play)))));
}

function renderAdvisers() {
  const siteName = new Map(data.sites.map((s) => [s.id, s.name]));
  const body = document.querySelector("#advisers tbody");
  body.replaceChildren(...data.advisers.map((a) => {
    const state = el("select", { "aria-label": T.state, onchange: () =>
      api("PUT", `/api/v1/advisers/${a.id}/state`, { state: state.value })
        .catch((e) => { errorBox.textContent = e.message; }) });
    for (const s of ["ready", "not_ready", "break", "wrap_up", "logged_out"]) {
      const option = el("option", { value: s }, T["state." + s]);
      if (s === a.state) option.selected = true;
      state.append(option);
    }
    const skills = el("input", { value: Object.entries(a.skills).map(([k, v]) => `${k}:${v}`).join(", "),
      "aria-label": T.skills, class: "wide" });
    const save = el("button", { type: "button", class: "small", onclick: async () => {
      const parsed = Object.fromEntries(skills.value.split(",").map((p) => p.trim()).filter(Boolean)
        .map((p) => { const [k, v] = p.split(":"); return [k.trim(), Number(v)]; }));
      await api("PUT", `/api/v1/advisers/${a.id}/skills`, { skills: parsed })
        .then(() => { errorBox.textContent = ""; }).catch((e) => { errorBox.textContent = e.message; });
    } }, T.save);
    return el("tr", { "data-adviser": a.id }, el("td", {}, a.name), el("td", {}, siteName.get(a.site_id)),
      el("td", {}, state), el("td", {}, skills, " ", save));
  }));
}

function hours(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  return seconds < 3600 ? minutes(seconds) : `${(seconds / 3600).toFixed(1)} h`;
}

async function renderEmail() {
  // Email queues against their reply-time target (e.g. 24 h), over the last 7 days.
  const sl = await api("GET", "/api/v1/email/service-level?days=7");
  const body = document.querySelector("#email-sl tbody");
  body.replaceChildren(...sl.items.map((q) => el("tr", {},
    el("td", {}, q.queue_name), el("td", {}, hours(q.target_seconds)),
    el("td", { class: q.percent === null ? "" : (q.percent >= 80 ? "good" : "bad") },
      q.percent === null ? "–" : `${Math.round(q.percent)} %`),
    el("td", {}, q.pending), el("td", {}, q.overdue), el("td", {}, hours(q.oldest_waiting_seconds)),
    el("td", {}, hours(q.average_reply_seconds)))));
}

async function refresh() {
  refreshTimer = null;
  // Walls that were pushed the same events share one reading on the server.
  data = await api("GET", `/api/v1/wall?since=${lastEvent}`);
  renderEmail().catch(() => {});
  renderRecordings().catch(() => {});
  for (const queue of data.queues) {
    const values = history.get(queue.id) || [];
    values.push(queue.waiting);
    history.set(queue.id, values.slice(-60));
  }
  document.getElementById("wall-at").textContent = new Date(data.at).toLocaleTimeString();
  renderQueues(); renderGroups(); renderChart(); renderSites(); renderContacts(); renderAdvisers();
  root.dataset.ready = "true";
}

function editing() {
  const active = document.activeElement;
  return root.contains(active) && (active.tagName === "INPUT" || active.tagName === "SELECT");
}

function scheduleRefresh() {
  // Many events may arrive together: one re-read per 200 ms is enough to be within 1 s;
  // while a supervisor is typing into the tables, wait until they are done.
  if (refreshTimer !== null) return;
  refreshTimer = setTimeout(() => {
    if (editing()) { refreshTimer = null; setTimeout(scheduleRefresh, 1000); return; }
    refresh().catch(() => {});
  }, 200);
}

let settleTimer = null;

connect("/ws/staff", (message) => {
  if (message.kind === "event") {
    pushes += 1;
    lastEvent = Math.max(lastEvent, message.id || 0);
    document.getElementById("wall-pushes").textContent = pushes;
  }
  scheduleRefresh();
  // Once the pushes pause, one more reading past the server's one-second sharing: a
  // shared reading may have been taken just before a commit that was pushed after it.
  // Through scheduleRefresh (+200 ms), so that it too waits while a supervisor is typing.
  clearTimeout(settleTimer);
  settleTimer = setTimeout(scheduleRefresh, 900);
});
refresh().catch((error) => { errorBox.textContent = error.message; });
setInterval(() => refresh().catch(() => {}), 15000);
