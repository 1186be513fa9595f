// The /v1 API from the browser: bearer key from sessionStorage, RFC 9457 problems as ApiError.

import { setFieldError } from "./ui.js";

const KEY_SLOT = "facekyc.apiKey";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code || `http_${status}`;
    this.detail = problem.detail || "";
    this.field = problem.field || null;
    this.fields = problem.fields || (problem.field ? [problem.field] : []);
  }
}

export const auth = {
  get token() {
    return sessionStorage.getItem(KEY_SLOT);
  },
  set(token) {
    sessionStorage.setItem(KEY_SLOT, token);
  },
  // Forget everything this tab kept: the key and any other session state.
  clear() {
    sessionStorage.clear();
  },
};

/**
 * Call the API. `json` sends application/json, `form` sends a FormData (multipart).
 * Resolves to the parsed JSON body; rejects with ApiError (problem+json) or a network Error.
 */
export async function api(path, { method = "GET", json, form, token, signal } = {}) {
  const headers = { Accept: "application/json, application/problem+json" };
  const key = token || auth.token;
  if (key) headers.Authorization = `Bearer ${key}`;
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form; // the browser sets the multipart boundary
  }
  let response;
  try {
    response = await fetch(path, {
      method, headers, body, signal, cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer",
    });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, { code: "network_error", detail: "The service cannot be reached. Check the network." });
  }
  const type = response.headers.get("content-type") || "";
  const data = type.includes("json") ? await response.json().catch(() => ({})) : {};
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** Check a key and learn its role (GET /v1/me). */
export function whoAmI(token) {
  return api("/v1/me", { token });
}

/** Sign in from a key field: checks the key and its role, stores it for this tab only; returns the
 * caller, or null after saying in words, next to the field, what is wrong. */
export async function signInWithKey(input, roles, needs) {
  const token = input.value.trim();
  setFieldError(input, "");
  if (!token) {
    setFieldError(input, "Enter your API key.");
    return null;
  }
  try {
    const who = await whoAmI(token);
    if (!roles.includes(who.role)) {
      setFieldError(input, `This key belongs to the role "${who.role}". ${needs}`);
      return null;
    }
    auth.set(token);
    input.value = "";
    return who;
  } catch (err) {
    setFieldError(input, err.status === 401 ? "This key is not known or was revoked." : err.message);
    return null;
  }
}

/**
 * Fetch an image the API serves only with a key (review evidence) and hand back an object URL for an
 * <img>. The caller revokes it (URL.revokeObjectURL) when the picture must be gone.
 */
export async function apiImage(path) {
  const headers = { Accept: "image/jpeg, application/problem+json" };
  if (auth.token) headers.Authorization = `Bearer ${auth.token}`;
  let response;
  try {
    response = await fetch(path, { headers, cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer" });
  } catch {
    throw new ApiError(0, { code: "network_error", detail: "The service cannot be reached. Check the network." });
  }
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => ({})));
  return URL.createObjectURL(await response.blob());
}
