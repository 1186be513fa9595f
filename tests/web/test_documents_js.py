"""The kiosk's client-side document checks (documents.js, run with Node) agree with the server's
validators on the same inputs: a number the page accepts is accepted by the API and vice versa,
and for an MRZ the failing fields it highlights are the ones the API names."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date

import pytest
from stdnum import luhn
from stdnum.cn import ric

from facekyc.documents import parse_document
from facekyc.documents.mrz import MrzInvalid
from facekyc.errors import DocumentInvalid
from facekyc.registry.numbers import validate_iccid
from facekyc.web import STATIC_DIR

TD3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
TD1 = "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<"


def _ric(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


RICS = [_ric("11010119850307001"), _ric("44030419900101123"), _ric("31010119791231456"), "110101198503070012",
        "11010119850307001", "1101011985030700X3", "110101198513070013", "11010119850307001A"]
TD3_CASES = [TD3, TD3.replace("C36UTO", "C37UTO"), TD3.replace("7408122F", "7408123F"), TD3[:-1] + "9",
             TD3.replace("1204159", "1204158")]
TD1_CASES = [TD1, TD1.replace("D23145890", "D23145891"), TD1.replace("7408122F", "7408121F"),
             TD1[:-32] + "7" + TD1[-31:]]
ICCIDS = ["898601" + "0" * 12 + "1" + luhn.calc_check_digit("898601" + "0" * 12 + "1"), "8986010000000000001",
          "1234567890123456789", "89860100000000000"]

SCRIPT = """
import {checkRic, checkMrz, checkIccid} from "%s/js/documents.js";
const input = JSON.parse(process.argv[1]);
const out = {
  ric: input.ric.map((v) => checkRic(v, new Date("2026-01-01")).ok),
  td3: input.td3.map((v) => checkMrz(v, "TD3").failed),
  td1: input.td1.map((v) => checkMrz(v, "TD1").failed),
  iccid: input.iccid.map((v) => checkIccid(v).ok),
};
console.log(JSON.stringify(out));
"""


def server_failed(doc_type: str, value: str) -> list[str]:
    try:
        parse_document(doc_type, value, today=date(2026, 1, 1))
    except MrzInvalid as exc:
        return exc.fields
    return []


def server_ok(doc_type: str, value: str) -> bool:
    try:
        parse_document(doc_type, value, today=date(2026, 1, 1))
    except DocumentInvalid:
        return False
    return True


def iccid_ok(value: str) -> bool:
    try:
        validate_iccid(value)
    except Exception:
        return False
    return True


def test_client_checks_agree_with_the_server() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed: the browser modules are checked only in the browser test")
    payload = json.dumps({"ric": RICS, "td3": TD3_CASES, "td1": TD1_CASES, "iccid": ICCIDS})
    done = subprocess.run([node, "--input-type=module", "-e", SCRIPT % STATIC_DIR.as_posix(), payload],
                          capture_output=True, text=True, timeout=30, check=True)
    client = json.loads(done.stdout)
    assert client["ric"] == [server_ok("cn_ric", v) for v in RICS]
    assert client["td3"] == [server_failed("passport_mrz", v) for v in TD3_CASES]
    assert client["td1"] == [server_failed("id_card_mrz", v) for v in TD1_CASES]
    assert client["iccid"] == [iccid_ok(v) for v in ICCIDS]
    assert client["ric"][:3] == [True, True, True] and not any(client["ric"][3:])
