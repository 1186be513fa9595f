"""The append-only audit log: a keyed hash chain plus signed checkpoints an operator keeps elsewhere.

Each entry's `hash` is HMAC-SHA256 (audit key from the keyring, named by `key_id`, never stored in
the database) over its content and the previous hash, so someone who can write the database but
not read the keyring cannot recompute it. Entries from before migration 0002 keep their plain
SHA-256 (`key_id` NULL) up to the sequence number the keyring records as `legacy_until`; an
unkeyed entry after it is a rewrite. Deleting the newest entries and fixing `audit_head` is only
visible against an exported checkpoint (Ed25519-signed seq + hash of the head).

Sessions carry the keys in `session.info[CHAIN_KEYS]` (set by the Registry's session factory).
Entries hold ids, codes and scores only: never images, templates, names or document numbers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from facekyc.crypto.signing import CheckpointSigner, signature_valid
from facekyc.errors import KeyNotFound, KeyringError
from facekyc.storage.models import AuditEntry, AuditHead

GENESIS = "0" * 64
CHAIN_KEYS = "facekyc.audit_keys"
CHECKPOINT_FORMAT = "facekyc-audit-checkpoint"


class ChainKeys(Protocol):
    """What the chain needs from the keyring (`LocalKeyring` provides it)."""

    @property
    def audit_key_id(self) -> str: ...

    def audit_key(self, key_id: str) -> bytes: ...

    @property
    def audit_legacy_until(self) -> int | None: ...

    def audit_signing_seed(self) -> bytes: ...


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8: the same entry always hashes the same."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _body(seq: int, at: str, actor: str, action: str, target: str | None, details: str, prev: str) -> dict[str, Any]:
    return {"seq": seq, "at": at, "actor": actor, "action": action, "target": target,
            "details": json.loads(details), "prev_hash": prev}


def entry_hash(seq: int, at: str, actor: str, action: str, target: str | None, details: str, prev: str) -> str:
    """The legacy (pre-0002) unkeyed digest: anyone can recompute it."""
    return hashlib.sha256(canonical_json(_body(seq, at, actor, action, target, details, prev)).encode()).hexdigest()


def entry_mac(key: bytes, key_id: str, seq: int, at: str, actor: str, action: str, target: str | None,
              details: str, prev: str) -> str:
    """HMAC-SHA256 over the entry, its key id and the previous hash."""
    body = {**_body(seq, at, actor, action, target, details, prev), "key_id": key_id}
    return hmac.new(key, canonical_json(body).encode(), hashlib.sha256).hexdigest()


def chain_keys(session: Session) -> ChainKeys:
    """The keys bound to this session; refusing beats writing an unkeyed entry."""
    keys = session.info.get(CHAIN_KEYS)
    if keys is None:
        raise RuntimeError("this session has no audit keys: open it from Registry.sessions (or bind_keys)")
    found: ChainKeys = keys
    return found


def append(session: Session, *, actor: str, action: str, target: str | None = None,
           details: dict[str, Any] | None = None) -> AuditEntry:
    """Add an entry inside the caller's transaction; the head row lock serialises appends."""
    keys = chain_keys(session)
    key_id = keys.audit_key_id
    key = keys.audit_key(key_id)
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()
    at = datetime.now(UTC).isoformat(timespec="microseconds")
    text = canonical_json(details or {})
    seq = head.seq + 1
    digest = entry_mac(key, key_id, seq, at, actor, action, target, text, head.hash)
    entry = AuditEntry(seq=seq, at=at, actor=actor, action=action, target=target, details=text,
                       prev_hash=head.hash, hash=digest, key_id=key_id)
    session.add(entry)
    head.seq, head.hash = seq, digest
    session.flush()
    return entry


@dataclass(frozen=True)
class AuditReport:
    """Result of walking the chain: ok, how many entries, and the first problem found."""

    ok: bool
    entries: int
    first_bad_seq: int | None = None
    problem: str | None = None
    legacy_entries: int = 0
    checkpoint_seq: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "first_bad_seq": self.first_bad_seq,
                "problem": self.problem, "legacy_entries": self.legacy_entries,
                "checkpoint_seq": self.checkpoint_seq}


def _row_problem(keys: ChainKeys, row: AuditEntry, legacy_until: int, cache: dict[str, bytes]) -> str | None:
    """Why one entry's digest does not hold, or None; `cache` keeps the keys looked up so far."""
    try:
        if row.key_id is None:
            if row.seq > legacy_until:
                return "unkeyed entry after the keyed chain began (rewritten with plain hashes?)"
            digest = entry_hash(row.seq, row.at, row.actor, row.action, row.target, row.details, row.prev_hash)
        else:
            if row.key_id not in cache:
                cache[row.key_id] = keys.audit_key(row.key_id)
            digest = entry_mac(cache[row.key_id], row.key_id, row.seq, row.at, row.actor, row.action,
                               row.target, row.details, row.prev_hash)
    except KeyNotFound:
        return f"audit key {row.key_id!r} is not in the key ring"
    except (ValueError, TypeError):
        return "entry unreadable"
    return None if hmac.compare_digest(digest, row.hash) else "entry edited (hash differs)"


def verify(session: Session, checkpoint: dict[str, Any] | None = None, batch: int = 1000) -> AuditReport:
    """Recheck every digest in order, the head, and (given one) an exported checkpoint.

    Detects edited, removed, inserted, reordered entries, entries re-hashed without the audit key,
    and, against a checkpoint, the newest entries deleted with `audit_head` fixed."""
    keys = chain_keys(session)
    if checkpoint is not None:
        problem = checkpoint_problem(keys, checkpoint)
        if problem:
            return AuditReport(False, 0, None, problem)
    legacy_until = _legacy_until(keys, checkpoint)
    want_seq = int(checkpoint["seq"]) if checkpoint is not None else None
    prev, expected_seq, count, last, legacy = GENESIS, 1, 0, 0, 0
    cache: dict[str, bytes] = {}
    while True:
        rows = session.execute(select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq)
                               .limit(batch)).scalars().all()
        if not rows:
            break
        for row in rows:
            if row.seq != expected_seq:
                return AuditReport(False, count, expected_seq, "entry missing (sequence gap)", legacy)
            if row.prev_hash != prev:
                return AuditReport(False, count, row.seq, "chain broken (previous hash differs)", legacy)
            problem = _row_problem(keys, row, legacy_until, cache)
            if problem:
                return AuditReport(False, count, row.seq, problem, legacy)
            if checkpoint is not None and row.seq == want_seq and not hmac.compare_digest(row.hash,
                                                                                          checkpoint["hash"]):
                return AuditReport(False, count, row.seq, "entry differs from the signed checkpoint", legacy)
            legacy += row.key_id is None
            prev, expected_seq, count, last = row.hash, row.seq + 1, count + 1, row.seq
    if want_seq is not None and count < want_seq:
        return AuditReport(False, count, count + 1, f"entries removed: the signed checkpoint has {want_seq}, the "
                           f"chain {count} (truncated?)", legacy, want_seq)
    head = session.get(AuditHead, 1)
    if head is None or head.seq != count or head.hash != prev:
        return AuditReport(False, count, count + 1 if head and head.seq > count else None,
                           "head does not match the last entry (entries removed at the end?)", legacy, want_seq)
    return AuditReport(True, count, legacy_entries=legacy, checkpoint_seq=want_seq)


def _legacy_until(keys: ChainKeys, checkpoint: dict[str, Any] | None) -> int:
    """Where unkeyed entries must end: the keyring's record, else the signed checkpoint's, else 0."""
    if keys.audit_legacy_until is not None:
        return keys.audit_legacy_until
    if checkpoint is not None:
        return int(checkpoint.get("legacy_until") or 0)
    return 0


def _signed_part(checkpoint: dict[str, Any]) -> bytes:
    return canonical_json({k: v for k, v in checkpoint.items() if k != "signature"}).encode()


def make_checkpoint(session: Session) -> dict[str, Any]:
    """Sign the head of a verified chain; raises ValueError if the chain does not verify now."""
    keys = chain_keys(session)
    report = verify(session)
    if not report.ok:
        raise ValueError(f"the audit chain does not verify ({report.problem}); no checkpoint signed")
    head = session.get(AuditHead, 1)
    assert head is not None
    signer = CheckpointSigner(keys.audit_signing_seed())
    body: dict[str, Any] = {"format": CHECKPOINT_FORMAT, "version": 1, "seq": head.seq, "hash": head.hash,
                            "legacy_until": keys.audit_legacy_until or 0,
                            "at": datetime.now(UTC).isoformat(timespec="seconds"), "public_key": signer.public_key}
    return {**body, "signature": signer.sign(_signed_part(body))}


def checkpoint_problem(keys: ChainKeys, checkpoint: dict[str, Any]) -> str | None:
    """Why a checkpoint cannot be trusted (wrong format, another key, bad signature), or None."""
    try:
        if checkpoint.get("format") != CHECKPOINT_FORMAT or checkpoint.get("version") != 1:
            return "not a facekyc audit checkpoint"
        if not isinstance(checkpoint["seq"], int) or not isinstance(checkpoint["hash"], str):
            return "checkpoint is malformed"
        public_key = CheckpointSigner(keys.audit_signing_seed()).public_key
        if checkpoint.get("public_key") != public_key:
            return "checkpoint was signed by another key ring"
        if not signature_valid(public_key, _signed_part(checkpoint), str(checkpoint.get("signature", ""))):
            return "checkpoint signature is invalid (edited?)"
    except (KeyError, TypeError, AttributeError):
        return "checkpoint is malformed"
    return None


def bind_keys(info: dict[str, Any], keys: ChainKeys) -> dict[str, Any]:
    """Session `info` carrying the audit keys, for `sessionmaker(..., info=...)`."""
    return {**info, CHAIN_KEYS: keys}


def record_legacy_cutoff(session: Session, keyring: Any) -> int | None:
    """On the first start after migration 0002, pin in the key file where the unkeyed entries end.

    Nothing to pin (no unkeyed entry: the default cutoff 0 holds) or already pinned: no write. Returns
    the cutoff the key file could not take (read-only), for the caller to report."""
    if keyring.audit_legacy_until is not None:
        return None
    last_legacy = session.execute(select(AuditEntry.seq).where(AuditEntry.key_id.is_(None))
                                  .order_by(AuditEntry.seq.desc()).limit(1)).scalar_one_or_none()
    if not last_legacy:
        return None
    try:
        keyring.record_audit_legacy_until(int(last_legacy))
    except (OSError, KeyringError):
        return int(last_legacy)
    return None
