// Reason codes in plain words, with what the clerk can do about each.

export const REASONS = {
  // registration rules
  face_mismatch: ["The face on camera does not match the photo on the document.",
    "Check that the document belongs to the customer. Retake the document photo without glare, then capture the face again."],
  liveness_failed: ["The live check did not pass.", "Capture the face again, following each prompt."],
  low_quality: ["The document photo or the face on camera is not clear enough to decide.",
    "Use more even light, hold the camera still and keep the face close, then try again."],
  number_limit: ["This ID already holds the most numbers allowed at this operator.",
    "The customer can end a number they no longer use first."],
  duplicate_face: ["The face matches a customer registered under another ID.",
    "A fraud reviewer will look at the case."],
  identity_face_mismatch: ["The face differs from the face registered earlier for this ID.",
    "A fraud reviewer will look at the case."],
  no_number_available: ["No phone number is free at this operator.", "Ask an administrator to add numbers to the pool."],
  document_invalid: ["The identity document did not pass validation.", "Check the document and type it again."],
  reviewer_rejected: ["A reviewer rejected the case.", ""],
  template_config_unavailable: ["The face registered for this customer was made by a face model this server no longer has.",
    "The customer must register their face again."],
  // liveness reasons
  too_few_frames: ["Too few camera pictures arrived.", "Keep this page in front and the camera connected, then try again."],
  too_fast: ["The capture was too short.", "Try again and follow every prompt until the end."],
  timing_implausible: ["The camera pictures arrived unevenly.", "Close other programs using the camera and try again."],
  frames_duplicated: ["The camera sent the same picture again and again (frozen image).", "Reconnect the camera and try again."],
  no_face: ["No face was seen in most pictures.", "Keep the face inside the oval the whole time."],
  multiple_faces: ["More than one face was in view.", "Only the customer should be in front of the camera."],
  identity_changed: ["The face changed during the capture.", "Only the customer should be in front of the camera."],
  challenge_not_performed: ["The requested movements were not seen.",
    "Follow each prompt clearly: turn or tilt the head, then come back to face the camera."],
  wrong_order: ["The movements were not done in the order asked.", "Follow the prompts one by one, as they appear."],
  planar_motion: ["The face moved like a flat picture.", "A real person must stand in front of the camera."],
  screen_detected: ["The face seems to be shown on a screen.", "A real person must stand in front of the camera."],
  print_detected: ["The face seems to be a printed photo.", "A real person must stand in front of the camera."],
  passive_attack: ["The picture does not look like a live face.", "A real person must stand in front of the camera, in even light."],
  // problems (4xx)
  session_expired: ["The capture took too long and expired.", "Capture the face again."],
  session_used: ["This capture was already used.", "Capture the face again."],
  iccid_in_use: ["This SIM card is already in service.", "Use another SIM card and type its ICCID."],
  line_not_found: ["No active line with that number belongs to this ID.", "Check the number."],
  operator_not_found: ["This kiosk's operator is not known to the service.", "Check the operator in the kiosk settings."],
  image_unreadable: ["The picture could not be read.", "Use a JPEG or PNG picture."],
  rate_limited: ["Too many requests from this kiosk.", "Wait a minute and try again."],
  liveness_unavailable: ["The live check is not available on the service.", "Tell the administrator."],
};

// Problems about the document photo (field document_photo), said about that photo
export const PHOTO_PROBLEMS = {
  no_face: "No face was found on the document photo. Retake it: the whole portrait, sharp and without glare.",
  multiple_faces: "Several faces are on the document photo. Photograph only the portrait page or card.",
  face_too_small: "The face on the document photo is too small. Take the photo closer to the document.",
  image_unreadable: "The picture could not be read. Use a JPEG, PNG or WebP picture.",
  unsupported_media_type: "This kind of file is not accepted. Use a JPEG, PNG or WebP picture.",
  upload_too_large: "The picture is too large. Use a smaller picture.",
  image_too_large: "The picture has too many pixels. Use a smaller picture.",
};

export function reasonText(code) {
  return (REASONS[code] || [`Reason: ${code.replace(/_/g, " ")}.`, ""])[0];
}

export function reasonTip(code) {
  return (REASONS[code] || ["", ""])[1];
}

// Reasons where another capture (or a new document photo) may help
export const RETRYABLE = new Set([
  "face_mismatch", "liveness_failed", "low_quality", "too_few_frames", "too_fast", "timing_implausible",
  "frames_duplicated", "no_face", "multiple_faces", "identity_changed", "challenge_not_performed", "wrong_order",
  "session_expired", "session_used", "planar_motion", "screen_detected", "print_detected", "passive_attack",
]);

export const CHALLENGE_PROMPTS = {
  // The SUBJECT's own directions; the preview is mirrored, so the arrow points the same way on screen.
  turn_left: ["←", "Turn your head to your left, then back"],
  turn_right: ["→", "Turn your head to your right, then back"],
  look_up: ["↑", "Tilt your head up, then back"],
  look_down: ["↓", "Tilt your head down, then back"],
  blink: ["◡", "Blink slowly"],
  open_mouth: ["○", "Open your mouth wide, then close it"],
};

export const DOC_TYPE_LABELS = {
  cn_ric: "China resident ID card",
  passport_mrz: "Passport (MRZ)",
  id_card_mrz: "ID card (MRZ)",
};
