// Reviewer console (queue, case, decision) and auditor view (chain status, recent events).

import { api, ApiError, apiImage, auth, signInWithKey, whoAmI } from "./api.js";
import { DOC_TYPE_LABELS, reasonText } from "./reasons.js";
import { $, $$, clearErrors, formatAge, formatMsisdn, formatScore, formatTime, h, say, setFieldError, showScreen } from "./ui.js";

const ROLES = ["reviewer", "auditor"];
const RECENT = 50;
let me = null;
let shownImages = []; // object URLs of the evidence on screen, revoked as soon as it must be gone
let evidenceRound = 0; // bumped whenever the evidence must go: a late download is then thrown away

const SCORE_LABELS = {
  document_vs_live: "Document photo vs live face",
  threshold: "Match threshold",
  estimated_fmr: "Estimated false match rate",
  dedup_threshold: "Duplicate threshold",
  dedup_fmr_target: "Duplicate search FMR target",
  enrolled_vs_live: "Enrolled face vs live face",
  enrolled_vs_live_estimated_fmr: "Estimated false match rate (enrolled face)",
  estimated_fmr_floor: "Smallest false match rate the calibration can estimate",
};

// ---- sign in / out, routing ------------------------------------------------------------------------

async function start() {
  wire();
  if (auth.token) {
    try {
      const who = await whoAmI();
      if (ROLES.includes(who.role)) return signedIn(who);
    } catch {
      /* sign in again */
    }
    auth.clear();
  }
  return showScreen("signin");
}

async function signIn(event) {
  event.preventDefault();
  const who = await signInWithKey($("#api-key"), ROLES, "This console needs a reviewer or auditor key.");
  if (who) signedIn(who);
}

function signedIn(who) {
  me = who;
  $("#who").hidden = false;
  $("#who-name").textContent = `${who.name} (${who.role})`;
  $("#tabs").hidden = false;
  for (const tab of $$("#tabs a")) tab.hidden = tab.dataset.role !== who.role;
  const wanted = location.hash;
  const home = who.role === "reviewer" ? "#/queue" : "#/audit";
  if (!wanted || wanted === "#" || (who.role === "auditor" && wanted.startsWith("#/queue"))) location.hash = home;
  route();
}

function signOut() {
  me = null;
  auth.clear();
  forgetImages();
  for (const id of ["#queue-body", "#case-facts", "#case-rules", "#case-liveness", "#audit-body"]) $(id).replaceChildren();
  $("#case-scores tbody").replaceChildren();
  $("#case-dups tbody").replaceChildren();
  $("#decide-form").reset();
  $("#who").hidden = true;
  $("#tabs").hidden = true;
  history.replaceState(null, "", location.pathname);
  showScreen("signin");
}

function route() {
  if (!me) return;
  forgetImages();
  const hash = location.hash;
  for (const tab of $$("#tabs a")) {
    if (hash.startsWith(tab.getAttribute("href"))) tab.setAttribute("aria-current", "page");
    else tab.removeAttribute("aria-current");
  }
  const caseMatch = /^#\/case\/([A-Za-z0-9_-]{1,64})$/.exec(hash);
  if (caseMatch) return openCase(caseMatch[1]);
  if (hash === "#/audit") return openAudit();
  if (me.role === "reviewer") return openQueue();
  return openAudit();
}

function failed(err, box) {
  if (err instanceof ApiError && err.status === 401) {
    signOut();
    return setFieldError($("#api-key"), "Your key is no longer accepted. Sign in again.");
  }
  return say(box, err instanceof ApiError ? `${err.detail || err.message} (${err.code})` : String(err));
}

// ---- queue ----------------------------------------------------------------------------------------

function bestDuplicate(reg) {
  const rule = reg.rules.find((r) => r.code === "duplicate_face");
  const matches = (rule && rule.detail && rule.detail.matches) || [];
  return matches.length ? Math.max(...matches.map((m) => m.score)) : null;
}

function reasonBadges(reasons) {
  return reasons.map((code) => h("span", { class: "badge warn", title: reasonText(code) }, code.replace(/_/g, " ")));
}

async function openQueue() {
  showScreen("queue");
  say($("#queue-error"), "");
  try {
    const cases = await api("/v1/reviews?limit=200");
    $("#queue-count").textContent = cases.length ? `${cases.length} case(s) waiting, oldest first` : "No case is waiting.";
    $("#queue-body").replaceChildren(...cases.map((reg) => h("tr", { dataset: { id: reg.id } },
      h("td", {}, h("a", { href: `#/case/${reg.id}` }, `Open ${reg.id.slice(0, 12)}…`)),
      h("td", {}, formatAge(reg.created_at)),
      h("td", {}, reasonBadges(reg.reasons)),
      h("td", { class: "num" }, formatScore(reg.scores.document_vs_live)),
      h("td", { class: "num" }, formatScore(bestDuplicate(reg))),
      h("td", {}, reg.operator_id))));
  } catch (err) {
    failed(err, $("#queue-error"));
  }
}

// ---- case -----------------------------------------------------------------------------------------

function facts(pairs) {
  return pairs.filter(([, v]) => v !== null && v !== undefined && v !== "")
    .flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]);
}

function ruleItem(rule) {
  const d = rule.detail || {};
  const parts = [];
  if (typeof d.score === "number") parts.push(`score ${formatScore(d.score)} (threshold ${formatScore(d.threshold)})`);
  if (d.matches) parts.push(`${d.matches.length} similar enrolled face(s), threshold ${formatScore(d.threshold)}`);
  if (d.liveness_reasons) parts.push(`liveness: ${d.liveness_reasons.join(", ") || "—"}`);
  if (d.document_failed || d.live_failed) {
    parts.push(`document: ${(d.document_failed || []).join(", ") || "ok"}; live: ${(d.live_failed || []).join(", ") || "ok"}`);
  }
  if (typeof d.active === "number") parts.push(`${d.active} active of ${d.limit} allowed`);
  return h("li", { dataset: { code: rule.code } },
    h("span", { class: `badge ${rule.effect === "reject" ? "bad" : "warn"}` }, rule.effect === "reject" ? "rejects" : "review"),
    h("strong", {}, reasonText(rule.code)), parts.length ? h("span", { class: "tip muted" }, parts.join("; ")) : null);
}

function explainedLabel(name) {
  if (name.startsWith("duplicate:")) return `Live face vs enrolled customer ${name.slice(10)}`;
  return SCORE_LABELS[name] || name.replace(/_/g, " ");
}

function explainedItems(explained) {
  if (!explained.length) return [h("li", { class: "muted" }, "No face comparison was made.")];
  return explained.map((e) => h("li", { dataset: { name: e.name } },
    h("strong", {}, explainedLabel(e.name)), " ",
    h("span", { class: `badge ${e.margin >= 0 ? "ok" : "bad"}` }, `${e.margin >= 0 ? "+" : "−"}${formatScore(Math.abs(e.margin))} vs threshold`),
    h("span", { class: "tip" }, `Score ${formatScore(e.score)} (threshold ${formatScore(e.threshold)}): ${e.fmr_words} comparisons of two different people score this high.`)));
}

// ---- evidence (face crops of an open case; gone with the decision) ----------------------------------

function forgetImages() {
  evidenceRound += 1;
  for (const url of shownImages) URL.revokeObjectURL(url);
  shownImages = [];
  for (const img of $$("#case-images img")) img.removeAttribute("src");
  $("#case-images").replaceChildren();
}

function missingFace(label, why) {
  return h("figure", { class: "face missing" }, h("div", { class: "face-empty" }, "No picture"), h("figcaption", {}, h("strong", {}, label), h("span", { class: "small muted" }, why)));
}

async function faceFigure(url, label, kind) {
  try {
    const src = await apiImage(url);
    shownImages.push(src);
    return h("figure", { class: "face", dataset: { kind } }, h("img", { src, alt: label, width: 200, height: 240 }), h("figcaption", {}, h("strong", {}, label)));
  } catch (err) {
    return missingFace(label, err instanceof ApiError ? err.detail : String(err));
  }
}

async function showEvidence(reg) {
  forgetImages();
  const box = $("#case-images");
  if (reg.status !== "pending_review") {
    box.replaceChildren(h("p", { class: "muted" }, "The face pictures of a case are destroyed when it is decided: none is kept for this one."));
    return;
  }
  const round = evidenceRound;
  let ev;
  try {
    ev = await api(`/v1/reviews/${encodeURIComponent(reg.id)}/evidence`);
  } catch (err) {
    box.replaceChildren(h("p", { class: "form-error" }, err instanceof ApiError ? err.detail : String(err)));
    return;
  }
  const wanted = [["document", "Document photo"], ["live", "Live capture (best frame)"]];
  const figures = await Promise.all([
    ...wanted.map(([kind, label]) => (ev.images[kind] ? faceFigure(ev.images[kind], label, kind) : missingFace(label, "Not kept for this case."))),
    ...ev.matches.map((m) => (m.url ? faceFigure(m.url, `Enrolled customer ${m.subscriber}`, "enrolled")
      : missingFace(`Enrolled customer ${m.subscriber}`, "No picture of this customer is kept."))),
  ]);
  if (round !== evidenceRound) { // decided, signed out or moved on meanwhile: drop what arrived late
    for (const img of figures.map((f) => f.querySelector("img")).filter(Boolean)) URL.revokeObjectURL(img.src);
    return undefined;
  }
  const notes = ev.notes.map((n) => h("p", { class: "note" }, n));
  const until = ev.purge_after ? h("p", { class: "small muted" }, `Each view is recorded in the audit log. These pictures are destroyed with your decision, or on ${formatTime(ev.purge_after)} if the case is still open.`) : null;
  box.replaceChildren(h("div", { class: "faces" }, figures), ...notes, until);
  return undefined;
}

function scoreRows(scores) {
  return Object.entries(scores).map(([k, v]) => h("tr", {}, h("th", { scope: "row" }, SCORE_LABELS[k] || k.replace(/_/g, " ")),
    h("td", { class: "num" }, k.includes("estimated_fmr") || k.endsWith("fmr_target") ? Number(v).toExponential(1) : formatScore(v))));
}

function livenessBlock(capture) {
  if (!capture) return [h("p", { class: "muted" }, "The capture session could not be read.")];
  const lv = capture.liveness;
  const out = [];
  if (!lv) return [h("p", { class: "muted" }, `Capture status: ${capture.status}`)];
  out.push(h("p", {}, h("span", { class: `badge ${lv.decision === "live" ? "ok" : "bad"}` }, lv.decision === "live" ? "live" : "not live"),
    lv.reasons.length ? lv.reasons.map((r) => reasonText(r)).join(" ") : "Every liveness check passed."));
  const checks = Object.entries(lv.scores);
  if (checks.length) {
    out.push(h("details", {}, h("summary", {}, `Liveness checks (${checks.length} measures)`),
      h("table", { class: "table" }, h("tbody", {}, checks.map(([k, v]) => h("tr", {}, h("th", { scope: "row" }, k.replace(/_/g, " ")),
        h("td", { class: "num" }, formatScore(v))))))));
  }
  const q = capture.quality;
  if (q) {
    out.push(h("p", {}, "Best live frame quality: ", h("span", { class: `badge ${q.passed ? "ok" : "bad"}` }, q.passed ? "passed" : `failed: ${(q.failed || []).join(", ")}`)));
    const comps = Object.entries(q.components || {});
    if (comps.length) {
      out.push(h("details", {}, h("summary", {}, "Quality components"),
        h("table", { class: "table" }, h("thead", {}, h("tr", {}, h("th", {}, "Component"), h("th", { class: "num" }, "Value"), h("th", { class: "num" }, "Limit"), h("th", {}, "OK"))),
          h("tbody", {}, comps.map(([name, c]) => h("tr", {}, h("th", { scope: "row" }, name.replace(/_/g, " ")),
            h("td", { class: "num" }, formatScore(c.value)), h("td", { class: "num" }, c.limit === null ? "—" : String(c.limit)),
            h("td", {}, c.passed ? "yes" : "no")))))));
    }
  }
  return out;
}

async function openCase(id) {
  showScreen("case");
  say($("#case-error"), "");
  $("#decided").hidden = true;
  $("#decide-form").hidden = true;
  $("#decide-form").reset();
  clearErrors($("#decide-form"));
  $("#case-title").textContent = `Case ${id}`;
  let reg;
  try {
    reg = await api(`/v1/registrations/${encodeURIComponent(id)}`);
  } catch (err) {
    return failed(err, $("#case-error"));
  }
  let capture = null;
  try {
    capture = await api(`/v1/capture-sessions/${encodeURIComponent(reg.capture_session_id)}`);
  } catch {
    capture = null;
  }
  $("#case-facts").replaceChildren(...facts([
    ["Status", reg.status.replace(/_/g, " ")],
    ["Received", `${formatTime(reg.created_at)} (${formatAge(reg.created_at)} ago)`],
    ["Operator", reg.operator_id],
    ["Document", DOC_TYPE_LABELS[reg.doc_type] || reg.doc_type],
    ["Consent", `${reg.consent_version}, ${formatTime(reg.consent_at)}`],
    ["FMR target", Number(reg.fmr_target).toExponential(0)],
    ["Capture", reg.capture_session_id],
  ]));
  $("#case-rules").replaceChildren(...(reg.rules.length ? reg.rules.map(ruleItem) : [h("li", {}, "No rule fired.")]));
  $("#case-scores tbody").replaceChildren(...scoreRows(reg.scores));
  $("#case-explained").replaceChildren(...explainedItems(reg.explained || []));
  $("#case-liveness").replaceChildren(...livenessBlock(capture));
  const dup = reg.rules.find((r) => r.code === "duplicate_face");
  $("#case-dups-card").hidden = !dup;
  if (dup) {
    const words = Object.fromEntries((reg.explained || []).map((e) => [e.name, e]));
    $("#case-dups tbody").replaceChildren(...dup.detail.matches.map((m) => {
      const e = words[`duplicate:${m.subscriber}`];
      return h("tr", {},
        h("td", { class: "mono" }, m.subscriber || "—"), h("td", { class: "num" }, formatScore(m.score)),
        h("td", { class: "num" }, formatScore(dup.detail.threshold)), h("td", { class: "num" }, e ? formatScore(e.margin) : "—"),
        h("td", {}, e ? e.fmr_words : "not recorded"));
    }));
  }
  if (me.role === "reviewer") showEvidence(reg);
  if (reg.review) return showDecided(reg);
  $("#decide-form").hidden = !(me.role === "reviewer" && reg.status === "pending_review");
  $("#decide-form").dataset.id = reg.id;
  return undefined;
}

function showDecided(reg) {
  forgetImages();
  $("#case-images").replaceChildren(h("p", { class: "muted" }, "The face pictures of this case were destroyed with the decision."));
  $("#decide-form").hidden = true;
  const box = $("#decided");
  box.hidden = false;
  const approved = reg.review.decision === "approved";
  box.dataset.outcome = approved ? "approved" : "rejected";
  $("#decided-outcome").textContent = approved ? "Approved by review" : "Rejected by review";
  $("#decided-number").hidden = !reg.msisdn;
  $("#decided-number").textContent = reg.msisdn ? formatMsisdn(reg.msisdn) : "";
  $("#decided-detail").textContent = `${formatTime(reg.review.reviewed_at)} by ${reg.review.reviewed_by}: “${reg.review.comment}”`;
}

async function decide(event) {
  event.preventDefault();
  const form = $("#decide-form");
  clearErrors(form);
  const verdict = (form.querySelector("input[name=verdict]:checked") || {}).value;
  const comment = $("#comment").value.trim();
  let ok = true;
  if (!verdict) {
    setFieldError($("#verdict-approve"), "Choose approve or reject.");
    ok = false;
  }
  if (comment.length < 3) {
    setFieldError($("#comment"), "A comment is required (at least 3 characters): say what you checked.");
    ok = false;
  }
  if (!ok) return ($("#verdict-approve").getAttribute("aria-invalid") ? $("#verdict-approve") : $("#comment")).focus();
  const button = $("#decide-submit");
  button.disabled = true;
  try {
    const reg = await api(`/v1/reviews/${encodeURIComponent(form.dataset.id)}`, { method: "POST", json: { decision: verdict, comment } });
    showDecided(reg);
    $("#decided").setAttribute("tabindex", "-1");
    $("#decided").focus();
  } catch (err) {
    if (err instanceof ApiError && err.field === "comment") setFieldError($("#comment"), err.detail);
    else failed(err, $("#decide-error"));
  } finally {
    button.disabled = false;
  }
}

// ---- audit ----------------------------------------------------------------------------------------

function detailList(details) {
  const entries = Object.entries(details || {});
  if (!entries.length) return "—";
  return h("dl", { class: "details" }, entries.flatMap(([k, v]) => [h("dt", {}, k.replace(/_/g, " ")),
    h("dd", {}, v !== null && typeof v === "object" ? JSON.stringify(v) : String(v))]));
}

/** "review.evidence_viewed" may wrap after its dots and underscores, never inside a word. */
function breakable(text) {
  return text.split(/(?<=[._])/).flatMap((part, i) => (i ? [h("wbr"), part] : [part]));
}

function actorCell(e) {
  if (!e.actor_name) return h("td", { class: "mono", dataset: { label: "Actor" } }, e.actor);
  return h("td", { dataset: { label: "Actor" } }, h("div", {}, h("span", {}, e.actor_name), h("span", { class: "small muted mono block" }, e.actor)));
}

async function openAudit() {
  showScreen("audit");
  say($("#audit-error"), "");
  const chain = $("#chain");
  chain.dataset.ok = "";
  chain.textContent = "Checking the hash chain…";
  try {
    const report = await api("/v1/audit/verify");
    chain.dataset.ok = String(report.ok);
    chain.textContent = report.ok
      ? `Hash chain intact: ${report.entries} entries verified.`
      : `Hash chain BROKEN at entry ${report.first_bad_seq}: ${report.problem || "an entry was changed, removed or reordered"}.`;
    const after = Math.max(0, report.entries - RECENT);
    const entries = await api(`/v1/audit?after=${after}&limit=${RECENT}`);
    $("#audit-body").replaceChildren(...entries.reverse().map((e) => h("tr", {},
      h("td", { class: "num", dataset: { label: "#" } }, String(e.seq)), h("td", { dataset: { label: "Time" } }, formatTime(e.at)),
      actorCell(e), h("td", { dataset: { label: "Action" } }, h("span", {}, breakable(e.action))),
      h("td", { class: "mono", dataset: { label: "Target" } }, e.target || "—"),
      h("td", { class: "small", dataset: { label: "Details" } }, detailList(e.details)))));
  } catch (err) {
    chain.textContent = "The chain could not be checked.";
    failed(err, $("#audit-error"));
  }
}

// ---- wiring ---------------------------------------------------------------------------------------

function wire() {
  $("#signin-form").addEventListener("submit", signIn);
  $("#sign-out").addEventListener("click", signOut);
  $("#queue-refresh").addEventListener("click", openQueue);
  $("#audit-refresh").addEventListener("click", openAudit);
  $("#decide-form").addEventListener("submit", decide);
  window.addEventListener("hashchange", route);
}

start();
