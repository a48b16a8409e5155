// The console's only script: the live drill view (server-sent events), the fault forms, the
// answer check's wait, the history's progress plot. No framework, no build step.
"use strict";

const $ = (selector) => document.querySelector(selector);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child ?? ""));
  return node;
}

function fmt(value, digits = 3) {
  if (value === null || value === undefined) return "–";
  return typeof value === "number" ? String(Number(value.toPrecision(digits))) : String(value);
}

// plotly.js (3.5 MB, from the installed plotly package) is fetched once the page has loaded: the
// tables and the timeline do not wait for it; the plots draw when it is there.
const PLOTLY_SRC = document.currentScript ? document.currentScript.dataset.plotly : undefined;
let plotlyLoading = null;

function plotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  plotlyLoading ||= new Promise((resolve, reject) => {
    const fetchIt = () => {
      const script = el("script", { src: PLOTLY_SRC });
      script.onload = () => { performance.mark("plotly-ready"); resolve(window.Plotly); };
      script.onerror = () => reject(new Error(`could not load ${PLOTLY_SRC}`));
      document.head.append(script);
    };
    if (document.readyState === "complete") fetchIt(); else window.addEventListener("load", fetchIt, { once: true });
  });
  return plotlyLoading;
}

// ---- live drill ------------------------------------------------------------------------------

const LANE_COLORS = { fault: "#d62728", recover: "#2ca02c", alert: "#ff7f0e", dlq: "#9467bd", phase: "#7f7f7f",
                      note: "#17becf", action: "#1f77b4" };

class LiveView {
  constructor(root) {
    this.view = root.dataset.view;
    this.titles = JSON.parse($("#plots").dataset.titles);
    this.series = {};       // name -> {x: [], y: []}
    this.spans = [];        // fault spans: {index, x0, x1}
    this.drawn = new Set(); // plots created
    this.dirty = new Set();
    this.header = null;
    this.connect();
    setInterval(() => this.draw(), 500);
    plotly().then(() => this.draw());
  }

  connect() {
    const source = new EventSource(`/events?view=${encodeURIComponent(this.view)}`);
    source.onmessage = (event) => this.apply(JSON.parse(event.data));
    source.onerror = () => { $("#drill-line").dataset.offline = "1"; };
    source.onopen = () => { delete $("#drill-line").dataset.offline; };
  }

  apply(update) {
    if (update.reset) this.reset();
    if ("drill" in update) this.showHeader(update.drill);
    if ("components" in update) this.showComponents(update.components);
    if ("outcomes" in update) this.showOutcomes(update.outcomes);
    if ("windows" in update) this.showWindows(update.windows);
    if ("hand_faults" in update) this.showHandFaults(update.hand_faults);
    if ("panel" in update && !update.panel && $("#panel")) location.reload(); // a blind drill began: hide it
    if (update.marks) update.marks.forEach((mark) => this.addMark(mark));
    if (update.series) {
      for (const [name, points] of Object.entries(update.series)) {
        const s = (this.series[name] ||= { x: [], y: [] });
        for (const [t, v] of points) { s.x.push(t); s.y.push(v); }
        this.dirty.add(name);
      }
    }
    document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
  }

  reset() {
    $("#timeline tbody").replaceChildren();
    this.series = {}; this.spans = []; this.dirty.clear();
    for (const name of this.drawn) { const node = document.getElementById(`plot-${name}`); if (node) node.remove(); }
    this.drawn.clear();
  }

  showHeader(drill) {
    this.header = drill;
    if (!drill) return;
    $("#drill-title").textContent = drill.title;
    $("#drill-meta").textContent = `${drill.mode} · ${drill.state}` + (drill.folder ? ` · ${drill.folder}` : "");
    $("#drill-teaches").textContent = drill.teaches || "";
    $("#drill-line").textContent = drill.progress || "";
    const bar = $("#drill-progress");
    if (drill.elapsed_s !== null && drill.elapsed_s !== undefined) bar.value = Math.min(1, drill.elapsed_s / drill.planned_s);
    else if (drill.state === "done") bar.value = 1;
    $("#stop-form").hidden = !["deploying", "running"].includes(drill.state);
    $("#drill-steps").replaceChildren(...(drill.steps || []).map((step) => el("li", {}, step)));
    const outcome = $("#drill-outcome");
    outcome.replaceChildren();
    outcome.className = "outcome";
    if (drill.problem) {
      outcome.classList.add("bad");
      outcome.append(`${drill.problem.kind}: ${drill.problem.message}` + (drill.problem.hint ? ` → ${drill.problem.hint}` : ""));
    } else if (drill.state === "done" && drill.passed !== undefined) {
      outcome.classList.add(drill.passed ? "ok" : "bad");
      outcome.append(drill.passed ? "passed: every expected signal fired, no other alert" : "failed: see the debrief");
      if (drill.debrief) outcome.append(" · ", el("a", { href: drill.debrief, id: "live-debrief" }, "the debrief"));
    } else if (drill.paged) {
      outcome.append(`Paged: ${drill.symptoms} The fault stays on until you answer: investigate, fix, then `,
                     el("a", { href: "/answer" }, "answer in the candidate panel"), ".");
    }
  }

  showComponents(components) {
    const rows = Object.entries(components).map(([name, state]) =>
      el("tr", { "data-component": name }, el("td", {}, name), el("td", { class: `state state-${state}` }, state)));
    $("#components tbody").replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { class: "dim" }, "no stack running"))]));
  }

  showOutcomes(outcomes) {
    const box = $("#outcomes tbody");
    if (!box) return;
    box.replaceChildren(...outcomes.map((o) => el("tr", { class: o.fired ? "ok" : "" },
      el("td", {}, o.signal), el("td", { class: "dim" }, o.expected),
      el("td", {}, o.fired ? `fired after ${fmt(o.after_s)}s` : o.reason || "not yet"))));
  }

  showWindows(windows) {
    $("#windows tbody").replaceChildren(...windows.slice().reverse().map((w) => el("tr", {},
      el("td", {}, w.window), el("td", {}, fmt(w.t)), el("td", {}, fmt(w.drift_share, 2)), el("td", {}, fmt(w.mae_s)),
      el("td", {}, w.report ? el("a", { href: w.report, target: "_blank", class: "report" }, "Evidently") : "–"))));
  }

  showHandFaults(faults) {
    const list = $("#hand-faults");
    if (!list) return;
    list.replaceChildren(...(faults.length ? faults.map((f) =>
      el("li", { "data-kind": f.kind }, el("code", {}, f.kind), ` ${JSON.stringify(f.params)} — ${f.message}`))
      : [el("li", { class: "dim" }, "none")]));
  }

  addMark(mark) {
    const verdict = mark.verdict || "";
    const detail = mark.report ? el("a", { href: mark.report, target: "_blank" }, "Evidently report") : mark.detail;
    const row = el("tr", { class: `mark-${mark.kind} ${verdict.replace(" ", "-")}`, "data-kind": mark.kind, "data-name": mark.name },
      el("td", { class: "num" }, mark.t.toFixed(1)), el("td", {}, `${mark.kind}: ${mark.name}`),
      el("td", { class: "verdict" }, verdict), el("td", { class: "dim" }, detail));
    const body = $("#timeline tbody");
    body.prepend(row);
    if (mark.kind === "fault") this.spans.push({ index: mark.detail, x0: mark.t, x1: null });
    if (mark.kind === "recover") { const open = this.spans.find((s) => s.x1 === null); if (open) open.x1 = mark.t; }
    if (mark.kind === "fault" || mark.kind === "recover") this.dirty = new Set(Object.keys(this.series));
  }

  draw() {
    if (!window.Plotly || !this.dirty.size) return;
    const box = $("#plots");
    const empty = $("#plots-empty");
    if (empty) empty.remove();
    const last = Math.max(1, ...Object.values(this.series).map((s) => s.x[s.x.length - 1] || 0));
    const shapes = this.spans.map((s) => ({ type: "rect", xref: "x", yref: "paper", x0: s.x0, x1: s.x1 ?? last,
      y0: 0, y1: 1, fillcolor: LANE_COLORS.fault, opacity: 0.08, line: { width: 0 } }));
    for (const [name, title] of Object.entries(this.titles)) {
      if (!this.dirty.has(name) || !this.series[name]) continue;
      let node = document.getElementById(`plot-${name}`);
      if (!node) {
        node = el("div", { id: `plot-${name}`, class: "plot", "data-series": name });
        const order = Object.keys(this.titles);
        const next = [...box.children].find((c) => order.indexOf(c.dataset.series) > order.indexOf(name));
        box.insertBefore(node, next || null);
      }
      const s = this.series[name];
      // The arrays grow in place: datarevision tells Plotly.react the data changed (it compares references).
      Plotly.react(node, [{ x: s.x, y: s.y, mode: "lines+markers", line: { width: 1.5 }, marker: { size: 3 }, name }],
        { datarevision: s.x.length, title: { text: title, font: { size: 13 } }, height: 190,
          margin: { l: 50, r: 10, t: 30, b: 25 },
          xaxis: { range: [0, last * 1.02] }, shapes }, { displayModeBar: false, responsive: true });
      node.dataset.points = String(s.x.length);
      this.drawn.add(name);
    }
    this.dirty.clear();
  }
}

// ---- the fault forms -------------------------------------------------------------------------

function faultForms() {
  document.querySelectorAll("form.fault-form").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const action = event.submitter ? event.submitter.value : "inject";
      const params = {};
      for (const [key, value] of new FormData(form).entries()) if (value !== "") params[key] = value;
      const result = $("#panel-result");
      result.className = "result";
      result.textContent = `${action} ${form.dataset.kind}…`;
      const response = await fetch("/faults", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ kind: form.dataset.kind, action, params }) });
      const body = await response.json();
      result.classList.add(response.ok ? "ok" : "bad");
      result.textContent = response.ok ? body.message : `${body.error}${body.hint ? ` → ${body.hint}` : ""}`;
    });
  });
}

// ---- the answer check, the history -----------------------------------------------------------

function waitForScore() {
  const source = new EventSource("/events?view=candidate");
  source.onmessage = (event) => {
    const update = JSON.parse(event.data);
    if (!update.answer) return;
    const line = $("#answer-line");
    if (line) line.textContent = update.answer.progress || "";
    if (!update.answer.checking) { source.close(); location.reload(); }
  };
}

function progressPlot(node) {
  const data = JSON.parse(node.dataset.progress);
  if (!data.x.length) { node.textContent = "No answered blind drill yet: the progress plot starts with the first one."; return; }
  const when = data.x.map((t) => new Date(t * 1000));
  const draw = () => Plotly.newPlot(node, [
    { x: when, y: data.score.map((s) => s * 100), text: data.label, mode: "lines+markers", name: "score, %" },
    { x: when, y: data.answer_s, text: data.label, mode: "markers", name: "time to answer, s", yaxis: "y2" },
    { x: when, y: data.mitigate_s, text: data.label, mode: "markers", name: "time to mitigate, s", yaxis: "y2" },
  ], { title: { text: "Progress: blind drills answered", font: { size: 14 } }, height: 300,
       margin: { l: 50, r: 50, t: 40, b: 40 }, yaxis: { title: "score, %", range: [0, 105] },
       yaxis2: { title: "seconds", overlaying: "y", side: "right", rangemode: "tozero" },
       legend: { orientation: "h" } }, { displayModeBar: false, responsive: true });
  plotly().then(draw);
}

document.addEventListener("DOMContentLoaded", () => {
  if ($("#drill")) new LiveView($("#drill"));
  faultForms();
  if ($("#answer-checking")) waitForScore();
  if ($("#progress-plot")) progressPlot($("#progress-plot"));
});
