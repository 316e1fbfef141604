// dashboard.js - the taskwire dashboard: polls /dashboard/api/status every second and
// draws it; shows one task's timeline and cancels it (POST with the X-Taskwire-Dashboard
// header, which the admin server requires against cross-site requests).  No framework,
// no external asset; every server string goes in through textContent.
// SPDX-License-Identifier: Apache-2.0
"use strict";
(function () {
  const POLL_MS = 1000, HISTORY = 300;
  const history = []; // [time ms, total queued]
  const $ = (id) => document.getElementById(id);
  let currentTask = null;

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function secs(s) {
    s = Number(s) || 0;
    return s < 60 ? s.toFixed(1) + " s" : s < 3600 ? (s / 60).toFixed(1) + " min" : (s / 3600).toFixed(1) + " h";
  }
  function row(cells, numeric) {
    const tr = document.createElement("tr");
    cells.forEach((c, i) => tr.appendChild(el("td", c, numeric && i > 0 ? "n" : "")));
    return tr;
  }
  function fill(tbody, rows) {
    tbody.replaceChildren(...rows);
  }

  function drawChart() {
    const line = $("queue-line");
    if (history.length === 0) return;
    const t0 = history[0][0], t1 = history[history.length - 1][0];
    const max = Math.max(1, ...history.map((h) => h[1]));
    const span = Math.max(1, t1 - t0);
    line.setAttribute("points", history.map((h) =>
      ((h[0] - t0) / span * 600).toFixed(1) + "," + (118 - h[1] / max * 114).toFixed(1)).join(" "));
    $("queue-max").textContent = String(Math.max(...history.map((h) => h[1])));
    $("queue-span").textContent = String(Math.round((t1 - t0) / 1000));
  }

  function showStatus(st) {
    const t = st.totals || {};
    $("total-queued").textContent = String(t.queued);
    $("total-oldest").textContent = secs(t.oldest_queued_s);
    $("total-running").textContent = String(t.running);
    $("total-input").textContent = String(t.input_required);
    $("failure-rate").textContent = (100 * (t.failure_rate || 0)).toFixed(1) + " %";
    $("worker-count").textContent = String((st.workers || []).length);
    fill($("tools").tBodies[0], (st.tools || []).map((r) => {
      const tr = row([r.tool, r.queued, secs(r.oldest_queued_s), r.running, r.input_required, r.completed, r.failed], true);
      tr.dataset.tool = r.tool;
      return tr;
    }));
    fill($("workers").tBodies[0], (st.workers || []).map((w) => {
      const tr = row([w.id, w.host, w.version, w.busy + " / " + w.slots, secs(w.last_seen_s) + " ago", w.draining ? "draining" : "active"]);
      tr.dataset.worker = w.id;
      if (w.draining) tr.className = "draining";
      return tr;
    }));
    $("failures").replaceChildren(...(st.failures || []).map((f) => {
      const li = el("li");
      const b = el("button", f.id);
      b.type = "button";
      b.addEventListener("click", () => { $("task-id").value = f.id; showTask(f.id); });
      li.append(b, " ", el("span", f.tool + ", " + secs(f.age_s) + " ago"), el("span", f.message || "(no message)", "err"));
      return li;
    }));
    history.push([Date.now(), Number(t.queued) || 0]);
    if (history.length > HISTORY) history.shift();
    drawChart();
    const u = $("updated");
    u.textContent = "updated " + new Date().toLocaleTimeString();
    u.dataset.now = st.now;
    u.classList.remove("stale");
  }

  async function poll() {
    try {
      const r = await fetch("/dashboard/api/status", { cache: "no-store" });
      if (!r.ok) throw new Error("HTTP " + r.status);
      showStatus(await r.json());
    } catch (e) {
      const u = $("updated");
      u.textContent = "not updating: " + e.message;
      u.classList.add("stale");
    }
    if (currentTask) refreshTask(currentTask);
    setTimeout(poll, POLL_MS);
  }

  function showTimeline(t) {
    const steps = [["created", t.created_at], ["pushed to workers", t.dispatched_at],
      ["not before", t.not_before], ["lease until", t.lease_until], ["last change", t.updated_at],
      ["kept until", t.expires_at]].filter((s) => s[1] && !String(s[1]).startsWith("-"));
    steps.sort((a, b) => Date.parse(a[1]) - Date.parse(b[1]));
    $("task-timeline").replaceChildren(...steps.map((s) => el("li", s[0] + ": " + s[1])));
    const detail = { tool: t.tool, owner: t.owner, attempt: t.attempt + " of " + t.max_attempts,
      worker: t.worker, message: t.status_message, progress: t.progress, error: t.error, result: t.result, log: t.log };
    $("task-detail").textContent = JSON.stringify(detail, null, 2);
  }

  async function refreshTask(id) {
    try {
      const r = await fetch("/dashboard/api/task?id=" + encodeURIComponent(id), { cache: "no-store" });
      const t = await r.json();
      if (!r.ok) throw new Error(t.error || "HTTP " + r.status);
      if (id !== currentTask) return;
      $("task-status").textContent = t.id + " is " + t.status;
      $("task-status").dataset.status = t.status;
      $("task-cancel").disabled = !["queued", "running", "input_required"].includes(t.status);
      showTimeline(t);
    } catch (e) {
      $("task-status").textContent = e.message;
      $("task-status").dataset.status = "";
      $("task-cancel").disabled = true;
    }
  }

  function showTask(id) {
    currentTask = id.trim();
    $("task-timeline").replaceChildren();
    $("task-detail").textContent = "";
    refreshTask(currentTask);
  }

  async function cancelTask() {
    const id = currentTask;
    if (!id) return;
    $("task-cancel").disabled = true;
    try {
      const r = await fetch("/dashboard/api/cancel?id=" + encodeURIComponent(id),
        { method: "POST", headers: { "X-Taskwire-Dashboard": "1" }, cache: "no-store" });
      const j = await r.json();
      if (!r.ok) throw new Error(j.error || "HTTP " + r.status);
      $("task-status").textContent = id + (j.cancelled ? " cancelled" : " had already finished");
    } catch (e) {
      $("task-status").textContent = "cancel failed: " + e.message;
    }
    refreshTask(id);
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("task-form").addEventListener("submit", (ev) => { ev.preventDefault(); showTask($("task-id").value); });
    $("task-cancel").addEventListener("click", cancelTask);
    poll();
  });
})();
