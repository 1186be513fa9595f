// The clerk kiosk: sign in, document, consent, live capture, result; numbers query; SIM replacement.

import { api, ApiError, auth, signInWithKey, whoAmI } from "./api.js";
import {
  burstFps, cameraErrorText, captureBurst, closeCamera, hintFor, measureFrame, openCamera, placeOval, snapshot,
} from "./camera.js";
import { checkIccid, checkMrz, checkMsisdn, checkRic, MRZ_FIELD_LABELS, mrzFieldSpans } from "./documents.js";
import { CHALLENGE_PROMPTS, PHOTO_PROBLEMS, reasonText, reasonTip, RETRYABLE } from "./reasons.js";
import { $, $$, clearErrors, formatMsisdn, formatTime, h, say, setFieldError, showScreen } from "./ui.js";

const MAX_ATTEMPTS = 3; // live captures per customer and task
const LEAD_MS = 1500; // "look at the camera" before the first prompt (frontal frames)
const PHOTO_TYPES = ["image/jpeg", "image/png", "image/webp"];
const PHOTO_MAX_BYTES = 15 * 1024 * 1024;
const OPERATOR_SLOT = "facekyc.kiosk.operator"; // a device setting, nothing personal
const CAPTURE_FRESH_MS = 9 * 60 * 1000; // the server accepts a checked capture for 10 minutes
const FACE_MARGIN = 0.25; // the face crop shows the detected box grown by a quarter
const FACE_CROP_PX = 240; // longer side of the crop canvas (CSS fits it into its box)

const state = {
  task: null, // "register" | "numbers" | "sim"
  doc: null, // {doc_type, document, name}
  iccid: null,
  photo: null, // Blob
  photoUrl: null,
  photoCheck: null, // AbortController of the document-photo check in flight
  photoProblem: null, // the check's refusal in words (no face, unreadable), until another photo is chosen
  consent: null, // {version, at}
  sim: null, // {msisdn, new_iccid}
  attempts: 0,
  live: null, // {id, at}: a checked, live, unused capture session
  abort: null,
  hintTimer: null,
  operator: null, // {id, known: true|false|null, name, country}: the server's answer for the operator field
};

// ---- sign in / out --------------------------------------------------------------------------------

async function start() {
  $("#operator").value = localStorage.getItem(OPERATOR_SLOT) || "";
  wire();
  if (auth.token) {
    try {
      const me = await whoAmI();
      if (me.role === "clerk") return signedIn(me);
    } catch {
      /* fall through to the sign-in form */
    }
    auth.clear();
  }
  showScreen("signin");
}

async function signIn(event) {
  event.preventDefault();
  const me = await signInWithKey($("#api-key"), ["clerk"], "The kiosk needs a clerk key.");
  if (me) signedIn(me);
}

function signedIn(me) {
  $("#who").hidden = false;
  $("#who-name").textContent = `${me.name} (clerk)`;
  // a clerk key belongs to one operator: the kiosk acts for it and nothing else
  if (me.operator_id) {
    $("#operator").value = me.operator_id;
    $("#operator").readOnly = true;
  }
  checkOperator();
  showScreen("home");
}

/** Ask the service whether the operator ID exists, and show its name (or the problem) next to the field. */
async function checkOperator() {
  const id = $("#operator").value.trim();
  const status = $("#operator-status");
  if (!id) {
    state.operator = null;
    status.textContent = "";
    status.dataset.kind = "";
    return;
  }
  state.operator = { id, known: null };
  status.textContent = "checking…";
  status.dataset.kind = "";
  try {
    const op = await api(`/v1/operators/${encodeURIComponent(id)}/public`);
    if ($("#operator").value.trim() !== id) return;
    state.operator = { id, known: true, name: op.name, country: op.country };
    status.textContent = `✓ ${op.name} (${op.country})`;
    status.dataset.kind = "ok";
  } catch (err) {
    if ($("#operator").value.trim() !== id) return;
    const unknown = err instanceof ApiError && (err.code === "operator_not_found" || err.code === "validation_error");
    state.operator = { id, known: unknown ? false : null };
    status.textContent = unknown ? `✗ no operator “${id}”` : "not checked (the service cannot be reached)";
    status.dataset.kind = unknown ? "bad" : "warn";
    if (unknown) $("#operator").setAttribute("aria-invalid", "true");
  }
}

function signOut() {
  resetCustomer();
  auth.clear();
  $("#who").hidden = true;
  $("#who-name").textContent = "";
  showScreen("signin");
}

/** Forget everything about the current customer: forms, photo, consent, capture, camera. */
function resetCustomer() {
  stopCapture();
  closeCamera($("#photo-video"));
  $("#photo-cam").hidden = true;
  if (state.photoUrl) URL.revokeObjectURL(state.photoUrl);
  if (state.photoCheck) state.photoCheck.abort();
  Object.assign(state, { task: null, doc: null, iccid: null, photo: null, photoUrl: null, photoCheck: null,
    photoProblem: null, consent: null, sim: null, attempts: 0, live: null });
  clearFaceCrop();
  showPhotoCheck("", "");
  for (const form of $$("form")) {
    if (form.id !== "signin-form") form.reset();
    clearErrors(form);
  }
  const img = $("#photo-preview");
  img.removeAttribute("src");
  img.hidden = true;
  $("#photo-empty").hidden = false;
  $("#mrz-view").replaceChildren();
  $("#result-reasons").replaceChildren();
  $("#result-extra").replaceChildren();
  $("#result-number").textContent = "";
  $("#result-outcome").textContent = "";
  docTypeChanged();
}

// ---- tasks ----------------------------------------------------------------------------------------

function chooseTask(task) {
  resetCustomer();
  state.task = task;
  const registering = task === "register";
  for (const id of ["#name-field", "#iccid-field", "#photo-field"]) $(id).hidden = !registering;
  for (const list of $$(".steps")) list.hidden = !registering;
  if (task === "sim") return showScreen("sim");
  $("#doc-form").dataset.task = task;
  return showScreen("document");
}

function requireOperator() {
  const input = $("#operator");
  const value = input.value.trim();
  if (!/^[a-z0-9][a-z0-9_-]{1,31}$/.test(value)) {
    setFieldError(input, "");
    say($("#doc-form-error"), "Set this kiosk's operator ID at the top of the page (e.g. cmcc).");
    input.setAttribute("aria-invalid", "true");
    input.focus();
    return null;
  }
  if (state.operator && state.operator.id === value && state.operator.known === false) {
    say($("#doc-form-error"), `The service knows no operator with the ID “${value}”. Correct the operator ID at the top of the page (ask your administrator for it).`);
    input.setAttribute("aria-invalid", "true");
    input.focus();
    return null;
  }
  input.removeAttribute("aria-invalid");
  return value;
}

// ---- document -------------------------------------------------------------------------------------

const MRZ_KIND = { passport_mrz: "TD3", id_card_mrz: "TD1" };

function docTypeChanged() {
  const type = $("#doc-type").value;
  const mrz = type !== "cn_ric";
  $("#ric-field").hidden = mrz;
  $("#mrz-field").hidden = !mrz;
  $("#mrz-shape").textContent = MRZ_KIND[type] === "TD1" ? "(3 lines of 30 characters)" : "(2 lines of 44 characters)";
  $("#mrz").rows = MRZ_KIND[type] === "TD1" ? 3 : 2;
  setFieldError($("#ric"), "");
  setFieldError($("#mrz"), "");
  $("#mrz-view").replaceChildren();
}

function validateRic(final) {
  const input = $("#ric");
  const result = checkRic(input.value);
  setFieldError(input, result.ok || (!final && (result.partial || !input.value)) ? "" : result.message);
  return result;
}

function validateMrz(final) {
  const input = $("#mrz");
  const kind = MRZ_KIND[$("#doc-type").value];
  const result = checkMrz(input.value, kind);
  const quiet = !final && (result.partial || !input.value.trim());
  setFieldError(input, result.ok || quiet ? "" : result.message);
  renderMrz(result.lines, quiet ? {} : result.spans);
  return result;
}

/** The typed MRZ with the failing fields marked (DOM nodes only, no HTML strings). */
function renderMrz(lines, spans) {
  const view = $("#mrz-view");
  const marks = [];
  for (const [field, list] of Object.entries(spans)) for (const [line, a, b] of list) marks.push({ line, a, b, field });
  view.replaceChildren(...lines.map((text, lineNo) => {
    const row = h("div", { class: "mrz-line" });
    let pos = 0;
    for (const m of marks.filter((x) => x.line === lineNo).sort((x, y) => x.a - y.a)) {
      if (m.a < pos) continue;
      row.append(text.slice(pos, m.a), h("mark", { title: MRZ_FIELD_LABELS[m.field] || m.field }, text.slice(m.a, m.b) || " "));
      pos = m.b;
    }
    row.append(text.slice(pos));
    return row;
  }));
}

function validateIccidField(input, final) {
  const result = checkIccid(input.value);
  setFieldError(input, result.ok || (!final && (result.partial || !input.value)) ? "" : result.message);
  return result;
}

function choosePhotoFile() {
  const input = $("#photo-file");
  const file = input.files && input.files[0];
  setFieldError(input, "");
  if (!file) return;
  if (!PHOTO_TYPES.includes(file.type)) {
    input.value = "";
    return setFieldError(input, "Use a JPEG, PNG or WebP picture.");
  }
  if (file.size > PHOTO_MAX_BYTES) {
    input.value = "";
    return setFieldError(input, "The picture is larger than 15 MB. Use a smaller one.");
  }
  setPhoto(file);
}

function setPhoto(blob) {
  if (state.photoUrl) URL.revokeObjectURL(state.photoUrl);
  state.photo = blob;
  state.photoUrl = URL.createObjectURL(blob);
  const img = $("#photo-preview");
  img.src = state.photoUrl;
  img.hidden = false;
  $("#photo-empty").hidden = true;
  setFieldError($("#photo-file"), "");
  checkPhoto(blob, state.photoUrl);
}

/** Ask the service where the face is on the photo, then show its crop and hints, or the refusal in words. */
async function checkPhoto(blob, url) {
  if (state.photoCheck) state.photoCheck.abort();
  const abort = new AbortController();
  Object.assign(state, { photoCheck: abort, photoProblem: null });
  clearFaceCrop();
  showPhotoCheck("", "Looking for the face on the photo…");
  const type = PHOTO_TYPES.includes(blob.type) ? blob.type : "image/jpeg";
  const form = new FormData();
  form.append("photo", new Blob([blob], { type }), `document.${type.split("/")[1]}`);
  const current = () => state.photoCheck === abort && state.photoUrl === url;
  try {
    const found = await api("/v1/document-photo-checks", { method: "POST", form, signal: abort.signal });
    const img = $("#photo-preview");
    await img.decode();
    if (!current()) return;
    drawFaceCrop(img, found);
    showPhotoQuality(found);
  } catch (err) {
    if (err.name === "AbortError" || !current()) return;
    showPhotoCheck("", "");
    if (err instanceof ApiError && err.status === 401) return handleProblem(err);
    if (err instanceof ApiError && PHOTO_PROBLEMS[err.code]) {
      state.photoProblem = PHOTO_PROBLEMS[err.code];
      return setFieldError($("#photo-file"), state.photoProblem);
    }
    showPhotoCheck("warn", "The photo could not be checked now. It is checked again when the customer is registered.");
  } finally {
    if (state.photoCheck === abort) state.photoCheck = null;
  }
  return undefined;
}

/** The detected box grown by `margin` around its centre, cut to the image: {x, y, w, h}. */
function faceCropRect([x, y, w, h], [width, height], margin = FACE_MARGIN) {
  const cx = x + w / 2;
  const cy = y + h / 2;
  const x0 = Math.max(0, cx - (w * (1 + margin)) / 2);
  const y0 = Math.max(0, cy - (h * (1 + margin)) / 2);
  const x1 = Math.min(width, cx + (w * (1 + margin)) / 2);
  const y1 = Math.min(height, cy + (h * (1 + margin)) / 2);
  return { x: x0, y: y0, w: Math.max(1, x1 - x0), h: Math.max(1, y1 - y0) };
}

/** Copy the face region of the local image onto the crop canvas (the server sends no image back). */
function drawFaceCrop(img, found) {
  const rect = faceCropRect(found.face.box, found.image_size);
  const sx = img.naturalWidth / found.image_size[0];
  const sy = img.naturalHeight / found.image_size[1];
  const scale = FACE_CROP_PX / Math.max(rect.w, rect.h);
  const canvas = $("#face-crop");
  canvas.width = Math.max(1, Math.round(rect.w * scale));
  canvas.height = Math.max(1, Math.round(rect.h * scale));
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(img, rect.x * sx, rect.y * sy, rect.w * sx, rect.h * sy, 0, 0, canvas.width, canvas.height);
  canvas.hidden = false;
  $("#face-empty").hidden = true;
}

/** Forget the face crop: its pixels are dropped, not just hidden. */
function clearFaceCrop() {
  const canvas = $("#face-crop");
  canvas.width = 0;
  canvas.height = 0;
  canvas.hidden = true;
  $("#face-empty").hidden = false;
}

function showPhotoQuality(found) {
  if (found.usable) {
    const many = found.faces_found > 1
      ? ` (${found.faces_found} faces on the photo: the largest, most central one is used)` : "";
    return showPhotoCheck("ok", `Face found: the photo is good enough for the check${many}.`);
  }
  const hints = found.quality.hints && found.quality.hints.length ? found.quality.hints
    : ["Use a sharp, evenly lit picture of the portrait."];
  return showPhotoCheck("warn", "Face found, but the photo may not be good enough:", hints);
}

/** The photo check's outcome under the photo: a sentence and, optionally, what to fix. */
function showPhotoCheck(kind, text, items = []) {
  const box = $("#photo-check");
  box.dataset.kind = kind;
  box.replaceChildren(...(text ? [h("p", {}, text)] : []),
    ...(items.length ? [h("ul", {}, items.map((item) => h("li", {}, item)))] : []));
}

async function photoCamera() {
  const video = $("#photo-video");
  $("#photo-cam").hidden = false;
  try {
    await openCamera(video);
    $("#photo-shoot").focus();
  } catch (err) {
    $("#photo-cam").hidden = true;
    setFieldError($("#photo-file"), cameraErrorText(err));
  }
}

async function photoShoot() {
  const video = $("#photo-video");
  try {
    setPhoto(await snapshot(video));
  } finally {
    closeCamera(video);
    $("#photo-cam").hidden = true;
    $("#photo-camera").focus();
  }
}

function photoCameraCancel() {
  closeCamera($("#photo-video"));
  $("#photo-cam").hidden = true;
  $("#photo-camera").focus();
}

function submitDocument(event) {
  event.preventDefault();
  const form = $("#doc-form");
  clearErrors(form);
  const registering = state.task === "register";
  const type = $("#doc-type").value;
  let firstBad = null;
  const bad = (input) => { firstBad = firstBad || input; };
  let document = "";
  if (type === "cn_ric") {
    const r = validateRic(true);
    if (!r.ok) bad($("#ric"));
    document = r.value;
  } else {
    const r = validateMrz(true);
    if (!r.ok) bad($("#mrz"));
    document = r.lines.join("\n");
  }
  if (registering) {
    const sim = validateIccidField($("#iccid"), true);
    if (!sim.ok) bad($("#iccid"));
    state.iccid = sim.value;
    if (!state.photo) {
      setFieldError($("#photo-file"), "Add the document photo: choose a picture or take it with the camera.");
      bad($("#photo-file"));
    } else if (state.photoProblem) {
      setFieldError($("#photo-file"), state.photoProblem);
      bad($("#photo-file"));
    }
    if (!requireOperator()) return;
  }
  if (firstBad) {
    say($("#doc-form-error"), "Some fields need attention: see the messages next to them.");
    (firstBad.type === "file" ? $("#photo-camera") : firstBad).focus();
    return;
  }
  state.doc = { doc_type: type, document, name: $("#name").value.trim() || null };
  if (!registering) return enterCapture();
  if (state.consent) return state.live && fresh(state.live) ? submitAfterCapture() : enterCapture();
  $("#consent-version").textContent = $("#consent-text").dataset.version;
  return showScreen("consent");
}

function submitConsent(event) {
  event.preventDefault();
  const box = $("#consent-agree");
  if (!box.checked) return setFieldError(box, "The customer must agree before the face check. Without consent no number can be registered.");
  setFieldError(box, "");
  state.consent = { version: $("#consent-text").dataset.version, at: new Date().toISOString() };
  return enterCapture();
}

function submitSim(event) {
  event.preventDefault();
  const form = $("#sim-form");
  clearErrors(form);
  const number = checkMsisdn($("#msisdn").value);
  setFieldError($("#msisdn"), number.ok ? "" : number.message);
  const sim = validateIccidField($("#new-iccid"), true);
  if (!number.ok || !sim.ok) {
    (number.ok ? $("#new-iccid") : $("#msisdn")).focus();
    return;
  }
  state.sim = { msisdn: number.value, new_iccid: sim.value };
  enterCapture();
}

// ---- live capture ---------------------------------------------------------------------------------

function setCaptureState(name, text) {
  const el = $("#capture-state");
  el.dataset.state = name;
  el.textContent = text;
}

function fresh(live) {
  return Date.now() - live.at < CAPTURE_FRESH_MS;
}

async function enterCapture() {
  showScreen("capture");
  const video = $("#cam");
  say($("#capture-error"), "");
  $("#prompt-text").textContent = "";
  $("#prompt-arrow").textContent = "";
  $("#prompt-count").textContent = "";
  $("#progress-bar").style.width = "0%";
  $("#attempts").textContent = state.attempts ? `Attempt ${state.attempts + 1} of ${MAX_ATTEMPTS}` : "";
  $("#capture-steps").hidden = state.task !== "register";
  const startButton = $("#capture-start");
  startButton.disabled = true;
  setCaptureState("waiting", "Starting the camera…");
  try {
    await openCamera(video);
  } catch (err) {
    setCaptureState("waiting", "No camera");
    say($("#capture-error"), cameraErrorText(err));
    return;
  }
  if (document.body.dataset.current !== "capture") return closeCamera(video); // left meanwhile
  placeOval(video, $("#oval"));
  setCaptureState("waiting", "Waiting: press Start when the face is in the oval");
  startButton.disabled = false;
  startButton.focus();
  const probe = $("#probe");
  let last = "";
  const tick = () => {
    const measures = measureFrame(video, probe);
    const hint = hintFor(measures) || "Good: hold still and press Start.";
    $("#hint").dataset.ok = String(Boolean(measures) && !hintFor(measures));
    if (hint !== last) $("#hint").textContent = hint;
    last = hint;
  };
  tick();
  state.hintTimer = setInterval(tick, 400);
}

function stopHints() {
  clearInterval(state.hintTimer);
  state.hintTimer = null;
}

function stopCapture() {
  stopHints();
  if (state.abort) state.abort.abort();
  state.abort = null;
  closeCamera($("#cam"));
  $("#oval").hidden = true;
}

/** Show each prompt with a countdown; resolves when the last step's time is up. */
function runPrompts(phases, signal) {
  const total = phases.reduce((sum, p) => sum + p.ms, 0);
  const t0 = performance.now();
  let current = -1;
  return new Promise((resolve) => {
    const tick = () => {
      if (signal.aborted) return resolve();
      const t = performance.now() - t0;
      let i = 0;
      let end = phases[0].ms;
      while (i < phases.length - 1 && t >= end) {
        i += 1;
        end += phases[i].ms;
      }
      if (i !== current) {
        current = i;
        $("#prompt-arrow").textContent = phases[i].arrow;
        $("#prompt-text").textContent = phases[i].text;
        $("#stage").dataset.step = phases[i].challenge || "lead";
      }
      $("#prompt-count").textContent = String(Math.max(1, Math.ceil((end - t) / 1000)));
      $("#progress-bar").style.width = `${Math.min(100, (100 * t) / total)}%`;
      if (t >= total) return resolve();
      requestAnimationFrame(tick);
    };
    tick();
  });
}

async function startCapture() {
  const startButton = $("#capture-start");
  startButton.disabled = true;
  say($("#capture-error"), "");
  stopHints();
  $("#hint").textContent = "";
  state.attempts += 1;
  const abort = new AbortController();
  state.abort = abort;
  const video = $("#cam");
  try {
    const session = await api("/v1/capture-sessions", { method: "POST" });
    const stepMs = session.step_ms || 3000;
    const phases = [{ arrow: "◎", text: "Look straight at the camera", ms: LEAD_MS }];
    for (const challenge of session.challenge) {
      const [arrow, text] = CHALLENGE_PROMPTS[challenge] || ["", challenge];
      phases.push({ arrow, text, ms: stepMs, challenge });
    }
    const total = phases.reduce((sum, p) => sum + p.ms, 0);
    setCaptureState("capturing", "Capturing");
    const [burst] = await Promise.all([
      captureBurst(video, { durationMs: total, fps: burstFps(total), signal: abort.signal }),
      runPrompts(phases, abort.signal),
    ]);
    if (abort.signal.aborted) return;
    setCaptureState("checking", "Checking…");
    $("#prompt-arrow").textContent = "";
    $("#prompt-count").textContent = "";
    $("#prompt-text").textContent = "Checking the capture. Please wait.";
    $("#stage").dataset.step = "checking";
    closeCamera(video); // the customer is done: camera off
    const form = new FormData();
    form.append("nonce", session.nonce);
    form.append("timestamps", JSON.stringify(burst.stamps));
    burst.blobs.forEach((blob, i) => form.append("frames", blob, `frame${String(i).padStart(3, "0")}.jpg`));
    const checked = await api(`/v1/capture-sessions/${encodeURIComponent(session.id)}/frames`,
      { method: "POST", form, signal: abort.signal });
    state.abort = null;
    const liveness = checked.liveness || { decision: "not_live", reasons: [] };
    if (liveness.decision !== "live") {
      return showResult({
        outcome: "retry", title: "The live check did not pass",
        reasons: liveness.reasons.length ? liveness.reasons : ["liveness_failed"],
      });
    }
    state.live = { id: session.id, at: Date.now() };
    await submitAfterCapture();
  } catch (err) {
    if (err.name === "AbortError") return;
    handleProblem(err);
  } finally {
    $("#stage").dataset.step = "";
  }
}

// ---- after a live capture: the request the task is about ------------------------------------------

async function submitAfterCapture() {
  stopCapture();
  showScreen("capture");
  setCaptureState("checking", "Checking…");
  $("#prompt-text").textContent = "Deciding. Please wait.";
  const live = state.live;
  try {
    if (state.task === "register") {
      const form = new FormData();
      form.append("operator_id", $("#operator").value.trim());
      form.append("doc_type", state.doc.doc_type);
      form.append("document", state.doc.document);
      if (state.doc.name) form.append("name", state.doc.name);
      form.append("iccid", state.iccid);
      form.append("capture_session_id", live.id);
      form.append("consent_version", state.consent.version);
      form.append("consent_at", state.consent.at);
      const type = PHOTO_TYPES.includes(state.photo.type) ? state.photo.type : "image/jpeg";
      form.append("document_photo", new Blob([state.photo], { type }), `document.${type.split("/")[1]}`);
      const reg = await api("/v1/registrations", { method: "POST", form });
      state.live = null;
      return showRegistration(reg);
    }
    if (state.task === "numbers") {
      const check = await api("/v1/numbers-query", { method: "POST", json: { doc_type: state.doc.doc_type,
        document: state.doc.document, capture_session_id: live.id } });
      state.live = null;
      return showNumbers(check);
    }
    const check = await api("/v1/sim-replacements", { method: "POST", json: { ...state.sim, capture_session_id: live.id } });
    state.live = null;
    return showSimReplacement(check);
  } catch (err) {
    return handleProblem(err);
  }
}

// where a problem's `field` is on the page
function fieldTarget(field) {
  const mrz = $("#doc-type").value !== "cn_ric";
  const map = {
    doc_type: ["document", "#doc-type"], number: ["document", "#ric"], document: ["document", mrz ? "#mrz" : "#ric"],
    name: ["document", "#name"], iccid: ["document", "#iccid"], document_photo: ["document", "#photo-file"],
    operator_id: ["document", "#operator"], consent_version: ["consent", "#consent-agree"],
    consent_at: ["consent", "#consent-agree"], msisdn: ["sim", "#msisdn"], new_iccid: ["sim", "#new-iccid"],
  };
  if (state.task === "sim" && field === "iccid") return ["sim", "#new-iccid"];
  if (map[field]) return map[field];
  if (MRZ_FIELD_LABELS[field]) return ["document", "#mrz"];
  return null;
}

function problemText(err, field) {
  if (field === "document_photo" && PHOTO_PROBLEMS[err.code]) return PHOTO_PROBLEMS[err.code];
  if (field && MRZ_FIELD_LABELS[field]) {
    return `The service says the MRZ is wrong in: ${err.fields.map((f) => MRZ_FIELD_LABELS[f] || f).join(", ")}.`;
  }
  if (err.code === "operator_not_found") return reasonText(err.code) + " " + reasonTip(err.code);
  if (["number", "document", "doc_type"].includes(field)) return `The service refused the document: ${err.detail}`;
  const words = reasonText(err.code);
  return words.startsWith("Reason:") ? err.detail || err.message : words;
}

function handleProblem(err) {
  stopCapture();
  if (!(err instanceof ApiError)) {
    return showResult({ outcome: "error", title: "Something went wrong", message: String(err.message || err) });
  }
  if (err.status === 401) {
    signOut();
    return setFieldError($("#api-key"), "Your key is no longer accepted. Sign in again.");
  }
  const fields = (err.fields || []).filter((f) => fieldTarget(f));
  if (fields.length) {
    const [screen] = fieldTarget(fields[0]);
    showScreen(screen);
    for (const f of fields) {
      const [, selector] = fieldTarget(f);
      const input = $(selector);
      setFieldError(input, problemText(err, f));
      if (MRZ_FIELD_LABELS[f]) {
        const kind = MRZ_KIND[$("#doc-type").value];
        const spans = mrzFieldSpans(kind);
        renderMrz(checkMrz($("#mrz").value, kind).lines,
          Object.fromEntries(err.fields.filter((x) => spans[x]).map((x) => [x, spans[x]])));
      }
    }
    const first = $(fieldTarget(fields[0])[1]);
    (first.type === "file" ? $("#photo-camera") : first).focus();
    return undefined;
  }
  if (["session_expired", "session_used", "capture_incomplete", "session_not_found"].includes(err.code)) {
    state.live = null;
    return showResult({ outcome: "retry", title: "Capture the face again", reasons: ["session_expired"] });
  }
  return showResult({ outcome: "error", title: "The request was not accepted", message: problemText(err, null),
    code: err.code });
}

// ---- results --------------------------------------------------------------------------------------

function reasonItem(code, extra, quiet = false) {
  const tip = quiet ? "" : reasonTip(code);
  return h("li", { dataset: { code } }, h("strong", {}, reasonText(code)), tip ? h("span", { class: "tip" }, tip) : null,
    extra || null);
}

function showResult({ outcome, title, reasons = [], message = "", number = null, extra = null, code = null }) {
  stopCapture();
  showScreen("result");
  $("#result-title").textContent = title;
  const box = $("#result");
  box.dataset.outcome = outcome;
  $("#result-outcome").textContent = message || {
    approved: "Approved", rejected: "Not approved", review: "Sent to review", retry: "Not completed",
    error: "Not completed" }[outcome] || "";
  const numberEl = $("#result-number");
  numberEl.hidden = !number;
  numberEl.textContent = number ? formatMsisdn(number) : "";
  // in a rejection, rules that would only have sent the case to review are noted without advice
  $("#result-reasons").replaceChildren(...reasons.map((r) => (typeof r === "string" ? reasonItem(r)
    : reasonItem(r.code, r.extra, outcome === "rejected" && r.effect === "review"))));
  $("#result-extra").replaceChildren(...(extra ? [extra] : []));
  if (code) $("#result-extra").append(h("p", { class: "muted small" }, `Code: ${code}`));
  const codes = reasons.filter((r) => typeof r === "string" || r.effect !== "review")
    .map((r) => (typeof r === "string" ? r : r.code));
  const canRetry = (outcome === "retry" || outcome === "rejected") && codes.length > 0
    && codes.every((c) => RETRYABLE.has(c)) && state.attempts < MAX_ATTEMPTS;
  $("#result-retry").hidden = !canRetry;
  $("#result-photo").hidden = !(canRetry && state.task === "register"
    && codes.some((c) => c === "face_mismatch" || c === "low_quality"));
  if (!canRetry && (outcome === "retry" || outcome === "rejected") && state.attempts >= MAX_ATTEMPTS) {
    $("#result-extra").append(h("p", {}, `No more attempts (${MAX_ATTEMPTS} live checks). The customer may come back later.`));
  }
  $("#result-done").textContent = outcome === "approved" || outcome === "review" ? "Next customer" : "End";
}

function showRegistration(reg) {
  const reasons = reg.rules.map((rule) => {
    if (rule.code === "liveness_failed" && rule.detail && rule.detail.liveness_reasons) {
      return { code: rule.code, effect: rule.effect,
        extra: h("ul", {}, rule.detail.liveness_reasons.map((r) => h("li", {}, reasonText(r)))) };
    }
    return { code: rule.code, effect: rule.effect };
  });
  if (reg.decision === "approved") {
    return showResult({ outcome: "approved", title: "Number registered", number: reg.msisdn,
      extra: h("p", {}, "Hand over the SIM card. The number works once the network activates it.") });
  }
  if (reg.decision === "review") {
    return showResult({ outcome: "review", title: "Sent to a fraud reviewer", reasons,
      extra: h("p", {}, `A reviewer decides this case; the number is assigned only if it is approved. Case reference: ${reg.id}`) });
  }
  return showResult({ outcome: "rejected", title: "Registration not approved", reasons });
}

function showNumbers(check) {
  if (check.decision !== "approved") {
    return showResult({ outcome: "rejected", title: "Numbers under this ID", reasons: check.reasons });
  }
  const list = check.numbers.length
    ? h("table", { class: "table" }, h("thead", {}, h("tr", {}, h("th", {}, "Number"), h("th", {}, "Operator"), h("th", {}, "Since"))),
      h("tbody", {}, check.numbers.map((n) => h("tr", {}, h("td", { class: "mono" }, formatMsisdn(n.msisdn)),
        h("td", {}, n.operator_id), h("td", {}, formatTime(n.since))))))
    : h("p", {}, "No active number is registered under this ID.");
  return showResult({ outcome: "approved", title: "Numbers under this ID",
    message: `${check.numbers.length} active number(s)`, extra: list });
}

function showSimReplacement(check) {
  if (check.decision !== "approved") {
    return showResult({ outcome: "rejected", title: "SIM not replaced", reasons: check.reasons });
  }
  return showResult({ outcome: "approved", title: "SIM replaced", number: state.sim.msisdn,
    extra: h("p", {}, "The number now works on the new SIM card. The old SIM no longer works.") });
}

function retry() {
  if (state.task === "sim" || state.task === "numbers" || state.consent) return enterCapture();
  return showScreen("document");
}

// ---- wiring ---------------------------------------------------------------------------------------

function wire() {
  $("#signin-form").addEventListener("submit", signIn);
  $("#sign-out").addEventListener("click", signOut);
  $("#operator").addEventListener("change", (e) => {
    localStorage.setItem(OPERATOR_SLOT, e.target.value.trim());
    e.target.removeAttribute("aria-invalid");
    checkOperator();
  });
  for (const button of $$("[data-task]")) button.addEventListener("click", () => chooseTask(button.dataset.task));
  for (const button of $$("button.cancel")) button.addEventListener("click", finish);
  for (const button of $$("button.back")) button.addEventListener("click", () => showScreen(button.dataset.to));
  $("#doc-type").addEventListener("change", docTypeChanged);
  $("#ric").addEventListener("input", () => validateRic(false));
  $("#ric").addEventListener("blur", () => $("#ric").value && validateRic(true));
  $("#mrz").addEventListener("input", () => validateMrz(false));
  $("#mrz").addEventListener("blur", () => $("#mrz").value && validateMrz(true));
  for (const id of ["#iccid", "#new-iccid"]) {
    $(id).addEventListener("input", () => validateIccidField($(id), false));
    $(id).addEventListener("blur", () => $(id).value && validateIccidField($(id), true));
  }
  $("#msisdn").addEventListener("blur", () => {
    const r = checkMsisdn($("#msisdn").value);
    setFieldError($("#msisdn"), r.ok || !$("#msisdn").value ? "" : r.message);
  });
  $("#photo-file").addEventListener("change", choosePhotoFile);
  $("#photo-camera").addEventListener("click", photoCamera);
  $("#photo-shoot").addEventListener("click", photoShoot);
  $("#photo-cam-cancel").addEventListener("click", photoCameraCancel);
  $("#doc-form").addEventListener("submit", submitDocument);
  $("#consent-form").addEventListener("submit", submitConsent);
  $("#sim-form").addEventListener("submit", submitSim);
  $("#capture-start").addEventListener("click", startCapture);
  $("#capture-cancel").addEventListener("click", finish);
  $("#result-retry").addEventListener("click", retry);
  $("#result-photo").addEventListener("click", () => showScreen("document"));
  $("#result-done").addEventListener("click", finish);
  window.addEventListener("resize", () => placeOval($("#cam"), $("#oval")));
  window.addEventListener("pagehide", () => stopCapture());
}

/** The customer is done (or cancelled): clear everything, back to the task list. */
function finish() {
  resetCustomer();
  showScreen("home");
}

start();
