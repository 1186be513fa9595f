// Small DOM helpers. Data always goes in with textContent, never as HTML.

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

/** Build an element: h("p", {class: "x"}, "text", child). Strings become text nodes. */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Show one `[data-screen]` section, hide the others, move focus to its heading. */
export function showScreen(name) {
  for (const section of $$("[data-screen]")) section.hidden = section.dataset.screen !== name;
  const screen = $(`[data-screen="${name}"]`);
  document.body.dataset.current = name;
  const heading = screen && $("h2", screen);
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: false });
  }
  return screen;
}

/** Put an error in words next to a field (its `#<id>-error` element) and mark it invalid. */
export function setFieldError(input, message) {
  if (!input) return;
  const slot = document.getElementById(`${input.id}-error`);
  if (message) {
    input.setAttribute("aria-invalid", "true");
    if (slot) {
      slot.textContent = message;
      input.setAttribute("aria-describedby", slot.id);
    }
  } else {
    input.removeAttribute("aria-invalid");
    if (slot) slot.textContent = "";
  }
}

export function clearErrors(root) {
  for (const input of $$("[aria-invalid]", root)) input.removeAttribute("aria-invalid");
  for (const slot of $$(".field-error", root)) slot.textContent = "";
  for (const box of $$(".form-error", root)) {
    box.textContent = "";
    box.hidden = true;
  }
}

/** A message box for a whole form or page (role=alert or status in the markup). */
export function say(box, message, kind = "error") {
  if (!box) return;
  box.textContent = message || "";
  box.hidden = !message;
  box.dataset.kind = kind;
}

export function formatAge(iso, now = Date.now()) {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.round(hours / 24)} days`;
}

export function formatTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
}

export function formatScore(value) {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(3) : "—";
}

/** "+8613900000001" -> "+86 139 0000 0001" for reading aloud; other numbers get groups of 3-4. */
export function formatMsisdn(msisdn) {
  const text = String(msisdn || "");
  const cn = /^\+86(\d{3})(\d{4})(\d{4})$/.exec(text);
  if (cn) return `+86 ${cn[1]} ${cn[2]} ${cn[3]}`;
  return text.replace(/^(\+\d{1,3})(\d+)$/, (_m, cc, rest) => `${cc} ${rest.replace(/(\d{3,4})(?=\d)/g, "$1 ")}`);
}
