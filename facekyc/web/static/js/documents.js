// Client-side checks of what the clerk types, so a wrong character is caught while typing.
// The server checks everything again; these only give faster, more precise feedback.

/** China resident identity card number: 17 digits + check (ISO 7064 MOD 11-2), a real birth date. */
export function checkRic(raw, today = new Date()) {
  const value = String(raw || "").replace(/[\s-]/g, "").toUpperCase();
  if (!value) return { ok: false, value, message: "Enter the 18-character ID number." };
  if (!/^[0-9]*X?$/.test(value) || (value.includes("X") && value.indexOf("X") !== 17)) {
    return { ok: false, value, message: "Only digits are allowed, and X only as the last character." };
  }
  if (value.length !== 18) {
    return { ok: false, value, partial: value.length < 18, message: `The number has 18 characters (${value.length} typed).` };
  }
  const y = Number(value.slice(6, 10));
  const m = Number(value.slice(10, 12));
  const d = Number(value.slice(12, 14));
  const birth = new Date(Date.UTC(y, m - 1, d));
  if (y < 1900 || birth.getUTCFullYear() !== y || birth.getUTCMonth() !== m - 1 || birth.getUTCDate() !== d) {
    return { ok: false, value, message: "Characters 7-14 must be a birth date (YYYYMMDD)." };
  }
  if (birth.getTime() > today.getTime()) {
    return { ok: false, value, message: "The birth date in the number is in the future." };
  }
  if (ricCheckChar(value.slice(0, 17)) !== value[17]) {
    return { ok: false, value, message: "The last character (check digit) does not match: a character is mistyped." };
  }
  return { ok: true, value, message: "" };
}

export function ricCheckChar(body17) {
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += Number(body17[i]) * (2 ** (17 - i) % 11);
  const check = (12 - (sum % 11)) % 11;
  return check === 10 ? "X" : String(check);
}

// ---- ICAO 9303 machine readable zone -------------------------------------------------------------

/** Field names as the server's problem+json `fields` uses them, with words for the clerk. */
export const MRZ_FIELD_LABELS = {
  mrz_format: "layout",
  document_type: "document type",
  issuing_state: "issuing state",
  document_number: "document number",
  birth_date: "birth date",
  sex: "sex",
  expiry_date: "expiry date",
  nationality: "nationality",
  optional_data: "optional data",
  names: "name",
  final_check: "final check digit",
};

export function mrzCharValue(ch) {
  if (ch >= "0" && ch <= "9") return ch.charCodeAt(0) - 48;
  if (ch >= "A" && ch <= "Z") return ch.charCodeAt(0) - 55;
  return 0; // "<" filler
}

/** ICAO 7-3-1 weighted check digit of a string, as a character. */
export function mrzCheckDigit(text) {
  const weights = [7, 3, 1];
  let sum = 0;
  for (let i = 0; i < text.length; i += 1) sum += mrzCharValue(text[i]) * weights[i % 3];
  return String(sum % 10);
}

export function normaliseMrz(raw) {
  return String(raw || "")
    .toUpperCase()
    .split(/\r?\n/)
    .map((line) => line.replace(/[ \t]/g, ""))
    .filter((line) => line.length > 0);
}

function validDate(yymmdd) {
  if (!/^\d{6}$/.test(yymmdd)) return false;
  const m = Number(yymmdd.slice(2, 4));
  const d = Number(yymmdd.slice(4, 6));
  return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

const STATE = /^([A-Z]{3}|[A-Z]{2}<|[A-Z]<<)$/;

/**
 * Check a TD3 (passport, 2x44) or TD1 (ID card, 3x30) MRZ.
 * Returns {ok, lines, failed: [field...], spans: {field: [[line, start, end], ...]}, message}.
 */
export function checkMrz(raw, kind) {
  const lines = normaliseMrz(raw);
  const [rows, cols] = kind === "TD3" ? [2, 44] : [3, 30];
  const result = { ok: false, lines, failed: [], spans: {}, message: "" };
  if (lines.length === 0) {
    result.message = `Enter the ${rows} MRZ lines.`;
    result.failed.push("mrz_format");
    return result;
  }
  const bad = lines.findIndex((line) => !/^[A-Z0-9<]*$/.test(line));
  if (bad >= 0) {
    result.failed.push("mrz_format");
    result.spans.mrz_format = [[bad, 0, lines[bad].length]];
    result.message = `Line ${bad + 1}: only A-Z, 0-9 and < are allowed.`;
    return result;
  }
  if (lines.length !== rows || lines.some((line) => line.length !== cols)) {
    result.failed.push("mrz_format");
    const lengths = lines.map((line) => line.length).join(", ");
    result.message = `Expected ${rows} lines of ${cols} characters (typed: ${lines.length} line(s) of ${lengths}).`;
    result.partial = lines.length <= rows && lines.every((line) => line.length <= cols);
    return result;
  }
  const checks = kind === "TD3" ? td3Checks(lines) : td1Checks(lines);
  for (const [field, ok, spans] of checks) {
    if (!ok && !result.failed.includes(field)) {
      result.failed.push(field);
      result.spans[field] = spans;
    }
  }
  // as the server does: one misread breaks its own field's digit and the composite; name only the field
  if (["document_number", "birth_date", "expiry_date", "optional_data"].some((f) => result.failed.includes(f))) {
    result.failed = result.failed.filter((f) => f !== "final_check");
    delete result.spans.final_check;
  }
  const order = Object.keys(MRZ_FIELD_LABELS);
  result.failed.sort((x, y) => order.indexOf(x) - order.indexOf(y));
  result.ok = result.failed.length === 0;
  if (!result.ok) {
    const words = result.failed.map((f) => MRZ_FIELD_LABELS[f] || f);
    result.message = `Check the ${words.join(", ")}: ${result.failed.length === 1 ? "it does" : "they do"} not match the check digits or format.`;
  }
  return result;
}

function digitOk(field, check) {
  return mrzCheckDigit(field) === check;
}

function td3Checks([l1, l2]) {
  const optional = l2.slice(28, 42);
  const optionalOk = digitOk(optional, l2[42]) || (/^<+$/.test(optional) && (l2[42] === "<" || l2[42] === "0"));
  const composite = l2.slice(0, 10) + l2.slice(13, 20) + l2.slice(21, 43);
  const names = l1.slice(5);
  return [
    ["document_type", l1[0] === "P", [[0, 0, 2]]],
    ["issuing_state", STATE.test(l1.slice(2, 5)), [[0, 2, 5]]],
    ["names", /^[A-Z]/.test(names.split("<<")[0] || ""), [[0, 5, 44]]],
    ["document_number", digitOk(l2.slice(0, 9), l2[9]), [[1, 0, 10]]],
    ["nationality", STATE.test(l2.slice(10, 13)), [[1, 10, 13]]],
    ["birth_date", validDate(l2.slice(13, 19)) && digitOk(l2.slice(13, 19), l2[19]), [[1, 13, 20]]],
    ["sex", "MFX<".includes(l2[20]), [[1, 20, 21]]],
    ["expiry_date", validDate(l2.slice(21, 27)) && digitOk(l2.slice(21, 27), l2[27]), [[1, 21, 28]]],
    ["optional_data", optionalOk, [[1, 28, 43]]],
    ["final_check", digitOk(composite, l2[43]), [[1, 43, 44]]],
  ];
}

function td1Checks([l1, l2, l3]) {
  // A number longer than 9 characters: "<" in the check position, the rest (and its check digit)
  // continues in the optional data up to the first filler.
  let numberOk;
  let numberSpan = [[0, 5, 15]];
  if (l1[14] === "<" && l1[15] !== "<") {
    const rest = l1.slice(15, 30).split("<")[0];
    numberOk = rest.length >= 2 && digitOk(l1.slice(5, 14) + rest.slice(0, -1), rest.slice(-1));
    numberSpan = [[0, 5, 15 + rest.length]];
  } else {
    numberOk = digitOk(l1.slice(5, 14), l1[14]);
  }
  const composite = l1.slice(5, 30) + l2.slice(0, 7) + l2.slice(8, 15) + l2.slice(18, 29);
  return [
    ["document_type", /^[ACI]/.test(l1[0]), [[0, 0, 2]]],
    ["issuing_state", STATE.test(l1.slice(2, 5)), [[0, 2, 5]]],
    ["document_number", numberOk, numberSpan],
    ["birth_date", validDate(l2.slice(0, 6)) && digitOk(l2.slice(0, 6), l2[6]), [[1, 0, 7]]],
    ["sex", "MFX<".includes(l2[7]), [[1, 7, 8]]],
    ["expiry_date", validDate(l2.slice(8, 14)) && digitOk(l2.slice(8, 14), l2[14]), [[1, 8, 15]]],
    ["nationality", STATE.test(l2.slice(15, 18)), [[1, 15, 18]]],
    ["final_check", digitOk(composite, l2[29]), [[1, 29, 30]]],
    ["names", /^[A-Z]/.test(l3.split("<<")[0] || ""), [[2, 0, 30]]],
  ];
}

/** Where each MRZ field lies, for highlighting a field the server named (no local failure needed). */
export function mrzFieldSpans(kind) {
  const probe = kind === "TD3" ? ["P".padEnd(44, "<"), "".padEnd(44, "<")] : ["I".padEnd(30, "<"), "".padEnd(30, "<"), "".padEnd(30, "<")];
  const checks = kind === "TD3" ? td3Checks(probe) : td1Checks(probe);
  return Object.fromEntries(checks.map(([field, , spans]) => [field, spans]));
}

// ---- SIM and numbers ------------------------------------------------------------------------------

export function luhnOk(digits) {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** ICCID printed on the SIM card: 19 or 20 digits starting with 89, Luhn check digit last. */
export function checkIccid(raw) {
  const value = String(raw || "").replace(/[\s-]/g, "");
  if (!value) return { ok: false, value, message: "Enter the ICCID printed on the SIM card." };
  if (!/^\d+$/.test(value)) return { ok: false, value, message: "An ICCID has digits only." };
  if (!value.startsWith("89")) return { ok: false, value, message: "An ICCID starts with 89." };
  if (value.length < 19 || value.length > 20) {
    return { ok: false, value, partial: value.length < 19, message: `An ICCID has 19 or 20 digits (${value.length} typed).` };
  }
  if (!luhnOk(value)) return { ok: false, value, message: "The last digit (check digit) does not match: a digit is mistyped." };
  return { ok: true, value, message: "" };
}

/** A phone number in international form, as the lines API expects it. */
export function checkMsisdn(raw) {
  const value = String(raw || "").replace(/[\s()-]/g, "");
  if (!/^\+[1-9]\d{6,14}$/.test(value)) {
    return { ok: false, value, message: "Enter the number in international form, e.g. +86 139 0000 0001." };
  }
  return { ok: true, value, message: "" };
}
