"""End to end in headless Chromium: the kiosk registers customers with a real face video as the
camera, and a reviewer decides a duplicate-face case in the console; an auditor checks the chain.

The camera is `real_turns.mp4` (Chromium's fake capture device, restarted at frame 0 whenever the
page opens the camera). The server runs in test mode with the clip's own challenge fixed
(turn_left then turn_right in the subject's terms), since a recording can only do its own motions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from stdnum import luhn
from stdnum.cn import ric

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RESULT_TIMEOUT_MS = 90_000
DOCS_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def ric_number(seq: int) -> str:
    body = f"11010119850307{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def iccid(seq: int) -> str:
    body = f"898601{seq:013d}"
    return body + luhn.calc_check_digit(body)


def sign_in(page: Any, url: str, token: str) -> None:
    page.goto(url)
    page.wait_for_selector("#api-key", state="visible")
    page.fill("#api-key", token)
    page.press("#api-key", "Enter")


def visible_screen(page: Any) -> str:
    return str(page.evaluate("document.body.dataset.current"))


def register(page: Any, *, photo: Path, document: str, sim: str, name: str, shot: Any = None,
             prefix: str = "") -> dict[str, Any]:
    """One customer through the kiosk: document, consent, live capture, result. Returns what the
    result screen shows."""
    page.click("[data-task=register]")
    page.wait_for_selector("[data-screen=document]:not([hidden])")
    page.select_option("#doc-type", "cn_ric")
    page.fill("#ric", document)
    page.fill("#name", name)
    page.fill("#iccid", sim)
    page.set_input_files("#photo-file", str(photo))
    page.wait_for_selector("#photo-preview:not([hidden])")
    if shot:
        shot(page, f"{prefix}02-document")
    page.click("#doc-form button[type=submit]")
    page.wait_for_selector("[data-screen=consent]:not([hidden])")
    page.check("#consent-agree")
    if shot:
        shot(page, f"{prefix}03-consent")
    page.click("#consent-form button[type=submit]")
    page.wait_for_selector("[data-screen=capture]:not([hidden])")
    # Start as soon as the camera is ready: the clip then plays its turns during the prompts.
    page.wait_for_selector("#capture-start:not([disabled])", timeout=20_000)
    page.click("#capture-start")
    page.wait_for_selector("#capture-state[data-state=capturing]", timeout=10_000)
    if shot:
        page.wait_for_selector("#stage[data-step=turn_left]", timeout=10_000)
        shot(page, f"{prefix}04-capturing")
    page.wait_for_selector("#capture-state[data-state=checking]", timeout=30_000)
    page.wait_for_selector("[data-screen=result]:not([hidden])", timeout=RESULT_TIMEOUT_MS)
    return {
        "outcome": page.get_attribute("#result", "data-outcome"),
        "title": page.inner_text("#result-title"),
        "number": page.inner_text("#result-number") if page.is_visible("#result-number") else "",
        "reasons": page.eval_on_selector_all("#result-reasons > li", "els => els.map(e => e.dataset.code)"),
        "text": page.inner_text("#result"),
    }


def test_kiosk_registers_rejects_and_sends_to_review(server: Any, browser: Any, media: Any, screenshot: Any
                                                     ) -> None:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    sign_in(page, f"{server.base_url}/kiosk", "fk_not_a_real_key_at_all_0000000000")
    page.wait_for_selector("#api-key-error:has-text('not known')")
    screenshot(page, "kiosk-01-signin-error")
    page.fill("#api-key", server.tokens["clerk"])
    page.press("#api-key", "Enter")
    page.wait_for_selector("[data-screen=home]:not([hidden])")
    errors.clear()  # the refused key above was logged as a 401 on purpose
    page.fill("#operator", "demo")
    page.dispatch_event("#operator", "change")
    assert page.evaluate("sessionStorage.length") == 1
    assert server.tokens["clerk"] not in page.url

    # typing a wrong check digit is caught while typing, next to the field
    page.click("[data-task=register]")
    good = ric_number(1)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    page.fill("#ric", bad)
    page.wait_for_selector("#ric-error:has-text('check digit')")
    assert page.get_attribute("#ric", "aria-invalid") == "true"
    page.select_option("#doc-type", "passport_mrz")
    page.fill("#mrz", "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C37UTO7408122F1204159ZE184226B<<<<<10")
    page.press("#mrz", "Tab")
    page.wait_for_selector("#mrz-error:has-text('document number')")
    assert page.locator("#mrz-view mark").count() >= 1
    screenshot(page, "kiosk-02-field-errors")
    page.click("#doc-form button.cancel")

    # 1. the customer's own document photo (a frontal still of the same clip): approved, number shown
    first = register(page, photo=media.doc_same, document=good, sim=iccid(1), name="Test Customer",
                     shot=screenshot, prefix="kiosk-")
    screenshot(page, "kiosk-05-approved")
    assert first["outcome"] == "approved", f"{first}\n{server.log()[-4000:]}"
    assert first["number"].replace(" ", "").startswith("+86139"), first
    page.click("#result-done")
    page.wait_for_selector("[data-screen=home]:not([hidden])")
    assert page.evaluate("document.getElementById('cam').srcObject") is None  # camera released

    # 2. someone else's document photo (LFW): rejected, face_mismatch said in words
    second = register(page, photo=media.doc_other, document=ric_number(2), sim=iccid(2), name="Other Person")
    screenshot(page, "kiosk-06-rejected")
    assert second["outcome"] == "rejected", second
    assert "face_mismatch" in second["reasons"], second
    assert "does not match the photo on the document" in second["text"]
    assert page.is_visible("#result-retry")  # a retry is offered within the attempt limit
    page.click("#result-done")

    # 3. the same face under a second identity: duplicate_face -> sent to review
    third = register(page, photo=media.doc_same, document=ric_number(3), sim=iccid(3), name="Second Identity")
    screenshot(page, "kiosk-07-review")
    assert third["outcome"] == "review", third
    assert "duplicate_face" in third["reasons"], third

    # sign out: nothing of the session stays in the tab
    page.click("#result-done")
    page.click("#sign-out")
    page.wait_for_selector("[data-screen=signin]:not([hidden])")
    assert page.evaluate("sessionStorage.length") == 0
    assert page.evaluate("document.getElementById('photo-preview').getAttribute('src')") is None
    assert not errors, errors
    page.close()


def test_reviewer_approves_the_duplicate_case_and_auditor_sees_the_chain(server: Any, browser: Any,
                                                                         screenshot: Any) -> None:
    pending = httpx.get(f"{server.base_url}/v1/reviews", headers=server.headers("reviewer"), timeout=10).json()
    if not pending:
        pytest.fail("no pending review case: the kiosk test before this one must have produced it")
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, f"{server.base_url}/review", server.tokens["reviewer"])
    page.wait_for_selector("#queue-body tr")
    screenshot(page, "review-01-queue")
    assert "duplicate face" in page.inner_text("#queue-body")
    page.click("#queue-body tr a")
    page.wait_for_selector("#decide-form:not([hidden])")
    assert page.is_visible("#case-dups-card")
    assert page.locator("#case-dups tbody tr").count() >= 1
    assert "live" in page.inner_text("#case-liveness")
    screenshot(page, "review-02-case", full_page=True)

    # the comment is mandatory
    page.check("#verdict-approve")
    page.click("#decide-submit")
    page.wait_for_selector("#comment-error:has-text('required')")
    page.fill("#comment", "Same person re-registering under a second ID card; both documents checked in store.")
    page.click("#decide-submit")
    page.wait_for_selector("#decided:not([hidden])")
    screenshot(page, "review-03-decided")
    assert "Approved" in page.inner_text("#decided-outcome")
    assert page.inner_text("#decided-number").replace(" ", "").startswith("+86139")
    page.click("#sign-out")
    assert page.evaluate("sessionStorage.length") == 0

    sign_in(page, f"{server.base_url}/review", server.tokens["auditor"])
    page.wait_for_selector("#chain[data-ok=true]")
    page.wait_for_selector("#audit-body tr")
    screenshot(page, "review-04-audit")
    assert "review.decided" in page.inner_text("#audit-body")
    page.click("#sign-out")
    assert not errors, errors
    page.close()
