// Camera: open/close, the face oval, cheap live hints, still snapshots and the timed JPEG burst.

const CONSTRAINTS = {
  audio: false,
  // preferences only: exact values fail with OverconstrainedError on many devices
  video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: { ideal: "user" }, frameRate: { ideal: 30 } },
};

export function cameraErrorText(err) {
  switch (err && err.name) {
    case "NotAllowedError":
      return "The browser may not use the camera. Allow camera access for this page and try again.";
    case "NotFoundError":
    case "OverconstrainedError":
      return "No usable camera was found. Connect a camera and try again.";
    case "NotReadableError":
      return "The camera is busy in another program. Close it there and try again.";
    default:
      return "The camera could not be started.";
  }
}

export async function openCamera(video) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw Object.assign(new Error("no camera API"), { name: "NotFoundError" });
  }
  const stream = await navigator.mediaDevices.getUserMedia(CONSTRAINTS);
  video.srcObject = stream;
  video.muted = true;
  video.setAttribute("playsinline", "");
  await video.play();
  if (!video.videoWidth) await new Promise((resolve) => video.addEventListener("loadedmetadata", resolve, { once: true }));
  return stream;
}

/** Stop every track (the camera light goes off) and detach the stream. */
export function closeCamera(video) {
  const stream = video && video.srcObject;
  if (stream && typeof stream.getTracks === "function") for (const track of stream.getTracks()) track.stop();
  if (video) {
    video.pause();
    video.srcObject = null;
  }
}

/** The face oval in video pixels: centred, a little high, 70 % of the height. */
export function ovalGeometry(vw, vh) {
  const ry = 0.35 * vh;
  const rx = Math.min(0.75 * ry, 0.42 * vw);
  return { cx: vw / 2, cy: 0.47 * vh, rx, ry };
}

/** Place the oval element over the displayed video (object-fit: contain inside its stage). */
export function placeOval(video, oval) {
  const vw = video.videoWidth;
  const vh = video.videoHeight;
  if (!vw || !vh) return;
  const box = video.getBoundingClientRect();
  const scale = Math.min(box.width / vw, box.height / vh);
  const offsetX = (box.width - vw * scale) / 2;
  const offsetY = (box.height - vh * scale) / 2;
  const g = ovalGeometry(vw, vh);
  Object.assign(oval.style, {
    left: `${offsetX + (g.cx - g.rx) * scale}px`,
    top: `${offsetY + (g.cy - g.ry) * scale}px`,
    width: `${2 * g.rx * scale}px`,
    height: `${2 * g.ry * scale}px`,
  });
  oval.hidden = false;
}

/**
 * Cheap hints from one small frame: light in the oval, backlight, how much of the oval looks like
 * skin (a face far away fills little of it), and detail (a turned-away head or covered camera is flat).
 */
export function measureFrame(video, canvas) {
  const vw = video.videoWidth;
  const vh = video.videoHeight;
  if (!vw || !vh) return null;
  const w = 64;
  const h = Math.max(1, Math.round((64 * vh) / vw));
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(video, 0, 0, w, h);
  const { data } = ctx.getImageData(0, 0, w, h);
  const g = ovalGeometry(w, h);
  let inN = 0, inSum = 0, inSq = 0, skin = 0, outN = 0, outSum = 0;
  for (let y = 0; y < h; y += 1) {
    for (let x = 0; x < w; x += 1) {
      const i = 4 * (y * w + x);
      const r = data[i], gr = data[i + 1], b = data[i + 2];
      const luma = 0.299 * r + 0.587 * gr + 0.114 * b;
      const dx = (x + 0.5 - g.cx) / g.rx;
      const dy = (y + 0.5 - g.cy) / g.ry;
      if (dx * dx + dy * dy <= 1) {
        inN += 1;
        inSum += luma;
        inSq += luma * luma;
        const cb = 128 - 0.168736 * r - 0.331264 * gr + 0.5 * b;
        const cr = 128 + 0.5 * r - 0.418688 * gr - 0.081312 * b;
        if (cb >= 77 && cb <= 127 && cr >= 133 && cr <= 173) skin += 1;
      } else {
        outN += 1;
        outSum += luma;
      }
    }
  }
  const mean = inSum / Math.max(1, inN);
  return {
    brightness: mean,
    contrast: Math.sqrt(Math.max(0, inSq / Math.max(1, inN) - mean * mean)),
    skin: skin / Math.max(1, inN),
    surround: outSum / Math.max(1, outN),
  };
}

/** One short instruction from the measures (or "" when nothing needs fixing). */
export function hintFor(m) {
  if (!m) return "Starting the camera…";
  if (m.brightness < 55) return "More light, please: the face is too dark.";
  if (m.brightness > 215) return "Too much light on the face: move away from the lamp or window.";
  if (m.surround - m.brightness > 45) return "The light is behind the customer: turn them toward the light.";
  if (m.contrast < 12) return "Face the camera: nothing clear is in the oval.";
  if (m.skin < 0.22) return "Move closer: the face should fill the oval.";
  return "";
}

/** A still JPEG of the current video frame (not mirrored), e.g. a document held to the camera. */
export function snapshot(video, quality = 0.92) {
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("snapshot failed"))), "image/jpeg", quality);
  });
}

/** Frame rate for a burst of `durationMs` that stays under `maxFrames` (server limit 120). */
export function burstFps(durationMs, maxFrames = 112, preferred = 12) {
  return Math.max(6, Math.min(preferred, Math.floor(maxFrames / (durationMs / 1000))));
}

/**
 * Record a burst: new video frames, throttled to `fps`, as JPEG blobs with client timestamps (ms
 * from the start). Resolves {blobs, stamps} after `durationMs`; `signal` aborts (rejects AbortError).
 */
export function captureBurst(video, { durationMs, fps, maxFrames = 112, maxSide = 640, quality = 0.85, signal }) {
  return new Promise((resolve, reject) => {
    const vw = video.videoWidth;
    const vh = video.videoHeight;
    const scale = Math.min(1, maxSide / Math.max(vw, vh));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(vw * scale);
    canvas.height = Math.round(vh * scale);
    const ctx = canvas.getContext("2d");
    const interval = 1000 / fps;
    const pending = [];
    const useFrameCallback = typeof video.requestVideoFrameCallback === "function";
    let t0 = null;
    let due = 0;
    let lastMediaTime = -1;
    let finished = false;
    let timer = null;

    const finish = async () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      try {
        const frames = await Promise.all(pending);
        const kept = frames.filter((f) => f.blob);
        resolve({ blobs: kept.map((f) => f.blob), stamps: kept.map((f) => f.t) });
      } catch (err) {
        reject(err);
      }
    };

    const grab = (now, mediaTime) => {
      if (finished) return;
      if (signal && signal.aborted) {
        finished = true;
        reject(new DOMException("capture cancelled", "AbortError"));
        return;
      }
      if (t0 === null) t0 = now;
      const t = now - t0;
      if (t > durationMs || pending.length >= maxFrames) {
        finish();
        return;
      }
      const fresh = mediaTime === undefined || mediaTime !== lastMediaTime;
      if (t >= due && fresh) {
        lastMediaTime = mediaTime;
        due = Math.max(due + interval, t + interval / 2);
        ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
        const stamp = Math.round(t * 10) / 10;
        pending.push(new Promise((res) => canvas.toBlob((blob) => res({ blob, t: stamp }), "image/jpeg", quality)));
      }
      schedule();
    };

    const schedule = () => {
      if (useFrameCallback) video.requestVideoFrameCallback((now, meta) => grab(now, meta.mediaTime));
      else timer = setTimeout(() => grab(performance.now(), video.currentTime), interval / 3);
    };
    // the last frame may never come (camera unplugged): end on time anyway
    setTimeout(() => grab(t0 === null ? performance.now() : t0 + durationMs + 1), durationMs + 1500);
    schedule();
  });
}
