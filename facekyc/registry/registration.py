"""Registration: document + document photo + checked live capture -> approved / rejected / review.

Approved means, in one transaction: number assigned, subscriber (and template) enrolled, capture
consumed, audit entry written. The face index is updated only after the commit.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from facekyc.documents import IdentityDocument
from facekyc.registry import audit, evidence
from facekyc.registry.errors import Conflict, NotFound
from facekyc.registry.numbers import assign_number
from facekyc.registry.policy import Decision, RuleHit, number_limit, outcome
from facekyc.registry.scope import Scope
from facekyc.storage import enrolment_log
from facekyc.storage.db import transaction, with_retry
from facekyc.storage.models import Operator, Registration, Subscriber, Subscription, utcnow
from facekyc.vision.engine import FaceAnalysis
from facekyc.vision.fmr_words import estimated_fmr, fmr_floor

if TYPE_CHECKING:
    from facekyc.registry.service import Registry

log = logging.getLogger("facekyc.registration")
DEDUP_CANDIDATES = 10


@dataclass(frozen=True)
class RegistrationRequest:
    """Validated input; the document face is already analysed (purpose document, policy primary)."""

    operator_id: str
    document: IdentityDocument
    document_face: FaceAnalysis
    capture_session_id: str
    iccid: str
    consent_version: str
    consent_at: datetime
    name: str | None = None
    document_photo: bytes | None = None  # kept only when image retention is on
    photo: bytes | None = None  # the uploaded document photo: cut to a face crop only if the case goes to review


@dataclass
class RegistrationOutcome:
    """What the caller learns: the decision, every fired rule, the scores and, if approved, the number."""

    registration: Registration
    msisdn: str | None = None
    subscriber_ref: str | None = None
    enrolled: tuple[int, np.ndarray] | None = field(default=None, repr=False)


def lock_identity(session: Session, identity_index: str) -> None:
    """Serialise work on one identity (number limit) on PostgreSQL; SQLite serialises all writers."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": identity_index})


def active_count(session: Session, subscriber_id: int, operator_id: str) -> int:
    return int(session.execute(select(func.count()).select_from(Subscription).where(
        Subscription.subscriber_id == subscriber_id, Subscription.operator_id == operator_id,
        Subscription.status == "active")).scalar_one())


def iccid_in_use(session: Session, iccid: str) -> bool:
    return session.execute(select(Subscription.id).where(Subscription.iccid == iccid,
                                                         Subscription.status == "active")).first() is not None


class RegistrationService:
    def __init__(self, registry: Registry) -> None:
        self.r = registry

    # ---- the decision ------------------------------------------------------------------------
    def register(self, req: RegistrationRequest, actor: str, scope: Scope) -> RegistrationOutcome:
        """Decide a registration at the key's own operator (403 operator_mismatch otherwise)."""
        scope.require_operator(req.operator_id)
        identity = self.r.vault.blind_identity(req.document)
        t0 = time.perf_counter()
        result = with_retry(lambda: self._register_tx(req, identity, actor, scope.store))
        if result.enrolled is not None:
            self.r.index.add(*result.enrolled)
        reg = result.registration
        self.r.metrics.stage("registration_tx", time.perf_counter() - t0)
        self.r.metrics.decision("registration", reg.decision, reg.reasons)
        log.info("registration decided", extra={"registration": reg.id, "decision": reg.decision,
                                                "reasons": reg.reasons, "operator": reg.operator_id})
        return result

    def _register_tx(self, req: RegistrationRequest, identity: str, actor: str,
                     store: str | None) -> RegistrationOutcome:
        settings, scorer = self.r.settings, self.r.scorer
        fmr = settings.fmr_target
        with transaction(self.r.sessions) as session:
            operator = session.get(Operator, req.operator_id)
            if operator is None:
                raise NotFound("no such operator", code="operator_not_found", field="operator_id")
            lock_identity(session, identity)
            if iccid_in_use(session, req.iccid):
                raise Conflict("this SIM (ICCID) is already in service", code="iccid_in_use", field="iccid")
            capture = self.r.captures.consume(session, req.capture_session_id, "registration", operator.id)
            hits: list[RuleHit] = []
            scores: dict[str, Any] = {}
            live = capture.embeddings
            live_template: np.ndarray | None = None
            subscriber = session.execute(select(Subscriber).where(Subscriber.identity_index == identity)
                                         ).scalar_one_or_none()
            if live is None:
                hits.append(RuleHit("liveness_failed", "reject", {"liveness_reasons": capture.session.reasons or []}))
            else:
                live_quality = capture.session.quality or {}
                if not req.document_face.quality.passed or not live_quality.get("passed", False):
                    hits.append(RuleHit("low_quality", "reject", {
                        "document_failed": req.document_face.quality.failed,
                        "live_failed": list(live_quality.get("failed", [])),
                        "hints": req.document_face.quality.hints + list(live_quality.get("hints", []))}))
                if scorer.needs_more(req.document_face.embeddings, live):  # a lazy analysis, in the cascade's band
                    self.r.engine.complete(req.document_face)
                cmp = scorer.compare(req.document_face.embeddings, live, fmr)
                scores["document_vs_live"] = round(cmp.score, 4)
                scores["threshold"] = round(cmp.threshold, 4)
                scores["estimated_fmr"] = cmp.estimated_fmr
                scores["estimated_fmr_floor"] = fmr_floor(scorer)
                if cmp.decision != "match":
                    hits.append(RuleHit("face_mismatch", "reject", {"score": round(cmp.score, 4),
                                                                    "threshold": round(cmp.threshold, 4)}))
                live_template = scorer.template(live)
                hits.extend(self._identity_rules(session, subscriber, live, scores))
            if subscriber is not None:
                held = active_count(session, subscriber.id, operator.id)
                limit = number_limit(settings, operator)
                if held >= limit:
                    hits.append(RuleHit("number_limit", "reject", {"active": held, "limit": limit}))
            decision: Decision = outcome(hits)
            reg = Registration(
                id="reg_" + secrets.token_hex(12), operator_id=operator.id, capture_session_id=capture.session.id,
                created_by=actor, created_at=utcnow(), decision=decision, status="", reasons=[], rules=[],
                scores=scores, fmr_target=fmr, doc_type=req.document.doc_type, iccid=req.iccid,
                consent_version=req.consent_version, consent_at=req.consent_at)
            result = RegistrationOutcome(reg)
            if decision == "approved":
                assert live_template is not None
                number = assign_number(session, operator.id)
                if number is None:
                    hits.append(RuleHit("no_number_available", "reject", {}))
                    decision = reg.decision = "rejected"
                else:
                    subscriber, enrolled = self.enrol(session, subscriber, identity, req.document, req.name,
                                                      live_template, capture.face_crop)
                    sub = Subscription(id="sub_" + secrets.token_hex(12), operator_id=operator.id,
                                       subscriber_id=subscriber.id, phone_number_id=number.id,
                                       msisdn=number.msisdn, iccid=req.iccid, registration_id=reg.id)
                    session.add(sub)
                    reg.subscriber_id, reg.subscription_id = subscriber.id, sub.id
                    result.msisdn, result.subscriber_ref, result.enrolled = number.msisdn, subscriber.ref, enrolled
            if decision == "review":
                assert live_template is not None
                self._seal_pending(reg, req, live_template)
                if subscriber is not None:
                    reg.subscriber_id = subscriber.id
            reg.status = {"approved": "completed", "rejected": "rejected", "review": "pending_review"}[decision]
            reg.reasons = [h.code for h in hits]
            reg.rules = [h.to_dict() for h in hits]
            session.add(reg)
            session.flush()
            if decision == "review":  # the reviewer's evidence, until the decision
                evidence.keep(self.r, session, reg.id, self._document_crop(req), capture.face_crop)
            if req.document_photo is not None and self.r.settings.retain_images_days > 0:
                from facekyc.registry.retention import retain_image

                retain_image(self.r, session, reg.id, "document", req.document_photo)
            audit.append(session, actor=actor, action="registration.decided", target=reg.id, details={
                "operator": operator.id, "decision": decision, "reasons": reg.reasons, "scores": scores,
                "fmr_target": fmr, "capture_session": capture.session.id, "dedup_searched": live_template is not None,
                "subscription": reg.subscription_id, "consent_version": req.consent_version, "store": store})
        return result

    def _identity_rules(self, session: Session, subscriber: Subscriber | None, live: dict[str, np.ndarray],
                        scores: dict[str, Any]) -> list[RuleHit]:
        """The audited 1:N search: same face under another identity, other face under this identity.
        Each configuration's templates are searched with the live face's template of that configuration."""
        configs, hits = self.r.configs, []
        dedup_fmr = self.r.settings.dedup_fmr_target
        dedup_threshold = configs.current.threshold(dedup_fmr)
        t0 = time.perf_counter()
        cursor = self.r.feed.catch_up(session)  # every process's enrolments, not only ours
        searched = [(configs.current_id, self.r.index)]
        searched += [(c, configs.legacy_index(c)) for c in configs.legacy_in_use()]
        found: dict[int, tuple[str, float]] = {}
        for cfg, index in searched:
            template = configs.scorer(cfg).template(live)
            found.update({h.subscriber_id: (cfg, h.inner_product) for h in index.search(template, DEDUP_CANDIDATES)})
        self.r.metrics.dedup.observe(time.perf_counter() - t0)
        found.update({sid: (cfg, ip) for sid, cfg, ip in self.r.feed.serialise(session, cursor, live)})
        own_id = subscriber.id if subscriber is not None else None
        dups = []
        for sid, (cfg, ip) in found.items():
            scorer = configs.scorer(cfg)
            score = scorer.template_score(ip)
            if sid != own_id and score >= scorer.threshold(dedup_fmr):
                dups.append((sid, cfg, score, estimated_fmr(scorer, score)))
        dups.sort(key=lambda d: (d[3], -d[2]))  # most certain first: FMR is comparable across configurations
        scores["dedup_threshold"] = round(dedup_threshold, 4)
        scores["dedup_fmr_target"] = dedup_fmr
        if dups:
            refs = {sid: ref for sid, ref in session.execute(select(Subscriber.id, Subscriber.ref)
                                                             .where(Subscriber.id.in_([d[0] for d in dups])))}
            hits.append(RuleHit("duplicate_face", "review", {
                "matches": [{"subscriber": refs.get(sid), "score": round(s, 4), "estimated_fmr": fmr,
                             **({} if cfg == configs.current_id else {"template_config": cfg})}
                            for sid, cfg, s, fmr in dups],
                "threshold": round(dedup_threshold, 4)}))
        if subscriber is not None and subscriber.template_ciphertext is not None and subscriber.wrapped_key:
            configs.learn(session, subscriber.template_version)
            scorer = configs.scorer(subscriber.template_version)
            enrolled = self.open_template(subscriber)
            score = scorer.template_score(float(np.dot(enrolled, scorer.template(live))))
            threshold = scorer.threshold(self.r.settings.fmr_target)
            scores["enrolled_vs_live"] = round(score, 4)
            scores["enrolled_vs_live_estimated_fmr"] = estimated_fmr(scorer, score)
            if score < threshold:
                hits.append(RuleHit("identity_face_mismatch", "review", {"score": round(score, 4),
                                                                          "threshold": round(threshold, 4)}))
        return hits

    # ---- enrolment ---------------------------------------------------------------------------
    def enrol(self, session: Session, subscriber: Subscriber | None, identity: str, doc: IdentityDocument,
              name: str | None, template: np.ndarray, face_crop: bytes | None = None
              ) -> tuple[Subscriber, tuple[int, np.ndarray] | None]:
        """Create the subscriber (data key, sealed number/name/template) or reuse the existing one."""
        if subscriber is not None and subscriber.template_ciphertext is not None:
            return subscriber, None
        if subscriber is None:
            ref = "sbr_" + secrets.token_hex(12)
            subscriber = Subscriber(ref=ref, identity_index=identity, doc_type=doc.doc_type, status="active")
            session.add(subscriber)
        owner = subscriber.ref
        key, wrapped = self.r.vault.new_key(owner)
        subscriber.wrapped_key = wrapped
        subscriber.document_ciphertext = self.r.vault.seal(key, doc.number.encode(), owner, "document")
        subscriber.name_ciphertext = self.r.vault.seal(key, name.encode(), owner, "name") if name else None
        subscriber.template_ciphertext = self.r.vault.seal_template(key, template.astype(np.float32), owner)
        subscriber.template_version = self.r.configs.current_id
        evidence.seal_subscriber_crop(self.r, key, subscriber, face_crop)
        session.flush()
        enrolment_log.append(session, subscriber.id, "add")
        return subscriber, (subscriber.id, template)

    def reenrol(self, session: Session, subscriber: Subscriber, embeddings: dict[str, np.ndarray]) -> bool:
        """After a face-verified contact: reseal the template under the current configuration (an index
        event makes every process follow). False when it already is current."""
        current = self.r.configs.current_id
        if subscriber.template_version == current or subscriber.wrapped_key is None:
            return False
        key = self.r.vault.open_key(subscriber.wrapped_key, subscriber.ref)
        template = self.r.configs.current.template(embeddings).astype(np.float32)
        subscriber.template_ciphertext = self.r.vault.seal_template(key, template, subscriber.ref)
        subscriber.template_version = current
        session.flush()
        enrolment_log.append(session, subscriber.id, "add")
        return True

    def open_template(self, subscriber: Subscriber) -> np.ndarray:
        assert subscriber.wrapped_key is not None and subscriber.template_ciphertext is not None
        key = self.r.vault.open_key(subscriber.wrapped_key, subscriber.ref)
        return self.r.vault.open_template(key, subscriber.template_ciphertext, subscriber.ref)

    # ---- pending reviews ---------------------------------------------------------------------
    def _document_crop(self, req: RegistrationRequest) -> bytes | None:
        """The document photo's face, cut only for a case going to review (the photo itself is not kept)."""
        if req.photo is None or self.r.settings.review_evidence_max_days <= 0:
            return None
        from facekyc.vision.evidence_crop import face_crop_jpeg
        from facekyc.vision.image import decode_image

        pixels = decode_image(req.photo, max_pixels=self.r.settings.max_image_pixels)
        return face_crop_jpeg(pixels.bgr, req.document_face.face)

    def _seal_pending(self, reg: Registration, req: RegistrationRequest, template: np.ndarray) -> None:
        """Keep what completing the case needs, sealed under the registration's own data key."""
        owner = f"registration:{reg.id}"
        key, wrapped = self.r.vault.new_key(owner)
        payload = {"doc_type": req.document.doc_type, "issuing_state": req.document.issuing_state,
                   "number": req.document.number, "name": req.name,
                   "birth_date": req.document.birth_date.isoformat() if req.document.birth_date else None,
                   "display_name": req.document.display_name, "template": template.astype(float).tolist(),
                   "template_config": self.r.configs.current_id}
        reg.wrapped_key = wrapped
        reg.payload_ciphertext = self.r.vault.seal(key, json.dumps(payload).encode(), owner, "pending")

    def open_pending(self, reg: Registration) -> tuple[IdentityDocument, str | None, np.ndarray]:
        from datetime import date

        owner = f"registration:{reg.id}"
        assert reg.wrapped_key is not None and reg.payload_ciphertext is not None
        key = self.r.vault.open_key(reg.wrapped_key, owner)
        data = json.loads(self.r.vault.open(key, reg.payload_ciphertext, owner, "pending"))
        if data.get("template_config", self.r.configs.current_id) != self.r.configs.current_id:
            raise Conflict("the case's face template was made by another model configuration than the current one; "
                           "reject it and ask the customer back", code="template_config_changed")
        doc = IdentityDocument(data["doc_type"], data["issuing_state"], data["number"],
                               date.fromisoformat(data["birth_date"]) if data["birth_date"] else None,
                               data["display_name"])
        return doc, data["name"], np.asarray(data["template"], dtype=np.float32)

    def get(self, registration_id: str, scope: Scope) -> tuple[Registration, str | None]:
        """A registration of the key's operator (global keys: any); 404 otherwise, as if absent."""
        with self.r.sessions() as session:
            reg = session.get(Registration, registration_id)
            if reg is None or not scope.sees(reg.operator_id):
                raise NotFound("no such registration", code="registration_not_found")
            msisdn = None
            if reg.subscription_id:
                sub = session.get(Subscription, reg.subscription_id)
                msisdn = sub.msisdn if sub else None
            return reg, msisdn
