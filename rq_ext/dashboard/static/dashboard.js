// Fusion Worker dashboard: fills each page from the JSON API and refreshes it every few
// seconds. Data is only ever inserted as text (no innerHTML), so nothing in Redis can run here.
"use strict";
(function () {
  const REFRESH_MS = 3000;
  const body = document.body;
  const page = body.dataset.page;
  const arg = body.dataset.arg;
  const canAct = body.dataset.canAct === "1";
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const content = document.getElementById("content");
  const statusLine = document.getElementById("status");

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : v);
    }
    for (const child of children || []) node.append(child);
    return node;
  }
  function svg(tag, attrs, children) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const child of children || []) node.append(child);
    return node;
  }
  function age(s) {
    if (s === null || s === undefined) return "-";
    const a = Math.abs(s), sign = s < 0 ? "-" : "";
    if (a < 120) return sign + a.toFixed(0) + "s";
    if (a < 7200) return sign + (a / 60).toFixed(0) + "m";
    if (a < 172800) return sign + (a / 3600).toFixed(1) + "h";
    return sign + (a / 86400).toFixed(1) + "d";
  }
  function when(epoch) {
    return epoch ? new Date(epoch * 1000).toISOString().replace("T", " ").slice(0, 19) + "Z" : "-";
  }
  function num(v) { return v === null || v === undefined ? "-" : String(v); }
  function cell(v, cls) {
    if (v instanceof Node) return el("td", { class: cls || null }, [v]);
    return el("td", { class: cls || null, text: num(v) });
  }
  function table(headers, rows, id) {
    const head = el("tr", {}, headers.map((h) => el("th", { text: h })));
    const trs = rows.map((r) => el("tr", {}, r.map((v) => (v instanceof HTMLTableCellElement ? v : cell(v)))));
    if (!rows.length) trs.push(el("tr", {}, [el("td", { colspan: headers.length, class: "muted", text: "none" })]));
    return el("table", { id: id || null }, [el("thead", {}, [head]), el("tbody", {}, trs)]);
  }
  async function get(url) {
    const resp = await fetch(url, { credentials: "same-origin" });
    if (!resp.ok) throw new Error(url + ": HTTP " + resp.status);
    return resp.json();
  }
  async function post(url, payload) {
    const resp = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(payload),
    });
    const data = await resp.json().catch(() => ({ error: "HTTP " + resp.status }));
    if (!resp.ok) throw new Error(data.error || "HTTP " + resp.status);
    return data;
  }
  function spark(lines, width, height) {
    const fin = lines.finished || [], bad = lines.failed || [];
    const max = Math.max(1, ...fin, ...bad);
    const pts = (vals) => vals.map((v, i) => (i * width / Math.max(1, vals.length - 1)).toFixed(1) + "," + (height - 2 - v * (height - 4) / max).toFixed(1)).join(" ");
    return svg("svg", { class: "spark", width: width, height: height, viewBox: "0 0 " + width + " " + height, role: "img" }, [
      svg("polyline", { points: pts(fin), fill: "none", stroke: "#2e7d32", "stroke-width": "1.5" }),
      svg("polyline", { points: pts(bad), fill: "none", stroke: "#c62828", "stroke-width": "1.5" }),
      svg("text", { x: 2, y: 10, "font-size": "9", fill: "#555" }, [document.createTextNode("max " + max)]),
    ]);
  }
  function jobCells(j) {
    return [j.id, j.function, j.channel, j.gateway, (j.recipients || []).join(", ") || "-", j.priority];
  }

  // -- pages ------------------------------------------------------------------------------
  const renderers = {};
  renderers.overview = async function () {
    const data = await get("/api/overview");
    const warn = data.warnings.length
      ? el("ul", { class: "warnings", id: "warnings" }, data.warnings.map((w) => el("li", { text: w })))
      : el("p", { class: "muted", id: "warnings", text: "no warnings" });
    const rows = data.queues.map((q) => [
      el("td", {}, [el("a", { href: "/queue/" + encodeURIComponent(q.name), text: q.name })]),
      el("td", { class: q.type_ok ? null : "warn", text: q.type }),
      cell(q.depth, "num depth"),
      [q.priority.highest, q.priority.median, q.priority.lowest].map(num).join(" / "),
      age(q.oldest_age_s), cell(q.in_flight, "num"), cell(q.failed, "num"),
      el("td", { class: q.workers ? "num" : "num warn", text: String(q.workers) }),
      q.finished_1h + " / " + q.failed_1h,
      spark((data.chart.series || {})[q.name] || {}, 160, 32),
    ]);
    const t = data.totals;
    const summary = el("p", { id: "totals" }, [
      el("a", { href: "/page/delayed", text: "delayed " + t.delayed }), " · ",
      el("a", { href: "/page/inflight", text: "in hand " + t.in_hand }), " · ",
      el("a", { href: "/page/delayed", text: "awaiting retry " + t.awaiting_retry }), " · ",
      el("a", { href: "/page/outbox", text: "outbox pending " + t.outbox_pending }),
    ]);
    content.replaceChildren(summary, warn, table(
      ["queue", "type", "depth", "priority high / median / low", "oldest", "in flight", "failed", "workers", "finished / failed 1h", "last hour (5 min)"],
      rows, "queues"), ...breakerTable(data.breakers || []));
  };
  function breakerTable(breakers) {
    const rows = breakers.map((b) => [b.channel, b.gateway + "/" + b.account,
      el("td", { class: b.state === "closed" ? null : "warn", text: b.state.replace("_", "-") + (b.probing ? " (probing)" : "") }),
      b.state === "open" ? age(b.remaining_s) : "-", b.failures, b.trips, when(b.opened_at), b.last_error || "-"]);
    return [el("h2", { text: "Circuit breakers (tripped in the last day)" }),
      table(["channel", "gateway/account", "state", "cool-down left", "failures in a row", "trips", "last opened", "last failure"], rows, "breakers")];
  }
  renderers.queue = async function () {
    const n = Number(new URLSearchParams(location.search).get("page") || 0);
    const data = await get("/api/queue/" + encodeURIComponent(arg) + "?page=" + n);
    const rows = data.jobs.map((j) => [...jobCells(j), age(j.age_s), j.retry_count]);
    const pager = el("p", {}, [
      el("span", { text: data.total + " waiting, claim order; page " + (n + 1) + " " }),
      n > 0 ? el("a", { href: "?page=" + (n - 1), text: "« previous " }) : "",
      (n + 1) * data.size < data.total ? el("a", { href: "?page=" + (n + 1), text: "next »" }) : "",
    ]);
    content.replaceChildren(pager, table(["id", "function", "channel", "gateway", "recipients", "priority", "age", "retryCount"], rows, "jobs"));
  };
  renderers.delayed = async function () {
    const [d, a] = await Promise.all([get("/api/delayed"), get("/api/awaiting")]);
    content.replaceChildren(
      el("h2", { text: "Delayed (schedulerSet): " + d.total }),
      table(["id", "target queue", "due", "due in", "channel", "gateway", "recipients", "priority", "retryCount"],
        d.jobs.map((j) => [j.id, j.target, when(j.due), age(j.due_in_s), j.channel, j.gateway, (j.recipients || []).join(", ") || "-", j.priority, j.retry_count]), "delayed"),
      el("h2", { text: "Awaiting retry by the server: " + a.total }),
      table(["id", "queue", "handed over", "waiting", "channel", "gateway", "retryCount"],
        a.jobs.map((j) => [j.id, j.origin, when(j.handed), age(j.waiting_s), j.channel, j.gateway, j.retry_count]), "awaiting"));
  };
  renderers.inflight = async function () {
    const data = await get("/api/inflight");
    const parts = [el("p", { text: data.total + " claim(s) in hand" })];
    for (const w of data.workers) {
      parts.push(el("h2", { text: w.worker }));
      parts.push(table(["id", "queue", "function", "channel", "gateway", "started", "running", "lease expiry", "lease left"],
        w.jobs.map((j) => [j.id, j.origin, j.function, j.channel, j.gateway, when(j.started), age(j.running_s), when(j.lease_expiry), age(j.lease_left_s)])));
    }
    content.replaceChildren(...parts);
  };
  renderers.workers = async function () {
    const data = await get("/api/workers");
    const rows = data.workers.map((w) => [w.name, w.hostname, w.pid, w.worker_class, w.concurrency, w.queues.join(", "), w.dry_run,
      el("td", { class: w.live ? null : "warn", text: age(w.heartbeat_age_s) + (w.live ? "" : " (stale)") }), w.state, w.jobs_done, w.jobs_failed]);
    content.replaceChildren(table(["name", "host", "pid", "class", "concurrency", "queues", "DRY_RUN", "heartbeat", "state", "done", "failed"], rows, "workers"));
  };
  renderers.outbox = async function () {
    const data = await get("/api/outbox");
    content.replaceChildren(
      el("h2", { text: "Pending: " + data.pending_total }),
      table(["entry", "kind", "job", "outcome", "url", "attempts", "created", "next try in", "last error"],
        data.pending.map((e) => [e.id, e.kind, e.job_id, e.outcome, e.url, e.attempts, when(e.created), age(e.next_in_s), e.last_error]), "pending"),
      el("h2", { text: "Given up: " + data.dead_total }),
      table(["kind", "job", "outcome", "url", "attempts", "created", "given up", "last error"],
        data.dead.map((e) => [e.kind, e.job_id, e.outcome, e.url, e.attempts, when(e.created), when(e.given_up), e.last_error]), "dead"));
  };
  renderers.charts = async function () {
    const parts = [el("p", {}, [el("span", { class: "legend-ok", text: "— finished " }), el("span", { class: "legend-bad", text: "— failed" })])];
    for (const range of ["1h", "24h"]) {
      const all = await get("/api/charts?by=queue,channel,gateway&range=" + range);
      for (const by of ["queue", "channel", "gateway"]) {
        const data = all[by];
        parts.push(el("h2", { text: "per " + by + ", last " + range + " (" + data.step / 60 + " min points)" }));
        const rows = Object.entries(data.series).map(([name, lines]) => [name,
          (lines.finished || []).reduce((a, b) => a + b, 0), (lines.failed || []).reduce((a, b) => a + b, 0), spark(lines, 480, 60)]);
        parts.push(table([by, "finished", "failed", "per point"], rows));
      }
    }
    content.replaceChildren(...parts);
  };

  // -- the failed page: filters and actions stay; only the table refreshes --------------------
  const selected = new Map();
  let failedForm = null;
  let failedPage = 0;
  function filterValues() {
    const f = {};
    for (const input of failedForm.querySelectorAll("input, select")) if (input.value) f[input.name] = input.value;
    return f;
  }
  function setResult(text, bad) {
    const node = document.getElementById("result");
    node.textContent = text;
    node.className = bad ? "warn" : "";
  }
  async function act(kind, scope) {
    const label = kind === "requeue" ? "Requeue" : "Delete";
    const payload = scope === "filter" ? { filter: filterValues() } : { jobs: [...selected.values()] };
    if (scope === "filter" && !confirm(label + " every failed job matching the filter?")) return;
    try {
      const data = await post("/api/failed/" + kind, payload);
      setResult(label + "d " + data.count + " job(s)", false);
      selected.clear();
      await renderers.failed();
    } catch (err) {
      setResult(label + " refused: " + err.message, true);
    }
  }
  function buildFailedForm() {
    const input = (name, label, type) => el("label", {}, [label + " ", el("input", { name: name, type: type || "text", size: 10 })]);
    const channel = el("select", { name: "channel" }, ["", "sms", "email", "push", "webhook", "whatsapp", "other"].map((c) => el("option", { value: c, text: c || "any" })));
    failedForm = el("form", { class: "filters", id: "filters", onsubmit: (e) => { e.preventDefault(); failedPage = 0; renderers.failed(); } }, [
      input("queue", "queue"), input("reason", "reason"), el("label", {}, ["channel ", channel]), input("gateway", "gateway"),
      input("min_age_s", "age ≥ s", "number"), input("max_age_s", "age ≤ s", "number"), input("job_id", "job id"),
      el("button", { type: "submit", text: "filter" }),
    ]);
    const button = (id, text, fn) => el("button", { id: id, type: "button", disabled: !canAct, onclick: fn, text: text });
    const actions = el("p", {}, [
      button("requeue-selected", "requeue selected", () => act("requeue", "selected")),
      " ", button("requeue-matching", "requeue all matching", () => act("requeue", "filter")),
      " ", button("delete-selected", "delete selected", () => act("delete", "selected")),
      " ", button("delete-matching", "delete all matching", () => act("delete", "filter")),
      canAct ? "" : el("span", { class: "muted", text: " (actions need the dashboard token)" }),
    ]);
    const table = el("div", { id: "failed-table" });
    content.replaceChildren(failedForm, actions, el("div", { id: "result" }), table);
  }
  renderers.failed = async function () {
    if (!failedForm) buildFailedForm();
    const data = await get("/api/failed?" + new URLSearchParams({ ...filterValues(), page: failedPage }));
    const rows = data.jobs.map((j) => {
      const key = j.queue + "/" + j.id;
      const box = el("input", { type: "checkbox", "data-id": j.id, checked: selected.has(key),
        onchange: (e) => (e.target.checked ? selected.set(key, { queue: j.queue, id: j.id }) : selected.delete(key)) });
      return [box, j.id, j.queue, j.failure_class, j.reason, j.channel, j.gateway, (j.recipients || []).join(", ") || "-", j.priority, age(j.age_s)];
    });
    const counts = Object.entries(data.per_queue).filter(([, n]) => n).map(([q, n]) => q + ": " + n).join(", ") || "none";
    const turn = (delta) => () => { failedPage += delta; renderers.failed(); };
    const pager = el("p", { id: "failed-pager" }, [
      el("span", { text: "page " + (failedPage + 1) + " of " + Math.max(1, Math.ceil(data.total / data.size)) + " " }),
      failedPage > 0 ? el("button", { type: "button", onclick: turn(-1), text: "« previous" }) : "",
      (failedPage + 1) * data.size < data.total ? el("button", { type: "button", onclick: turn(1), text: "next »" }) : "",
    ]);
    document.getElementById("failed-table").replaceChildren(
      el("p", { id: "failed-total", text: data.total + " matching; failed per queue: " + counts }), pager,
      table(["", "id", "queue", "class", "reason", "channel", "gateway", "recipients", "priority", "age"], rows, "failed"));
  };

  async function refresh() {
    const render = renderers[page];
    if (!render) return;
    try {
      await render();
      statusLine.textContent = "updated " + new Date().toLocaleTimeString() + " · every " + REFRESH_MS / 1000 + " s";
      body.dataset.loaded = "1";
    } catch (err) {
      statusLine.textContent = "refresh failed: " + err.message;
    }
  }
  refresh();
  setInterval(refresh, page === "charts" ? REFRESH_MS * 5 : REFRESH_MS);
})();
