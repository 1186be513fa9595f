"""What an API key may see: one operator's data, or everything (global reviewer/auditor and admin keys)."""

from __future__ import annotations

from dataclasses import dataclass

from facekyc.registry.errors import Forbidden, NotFound


@dataclass(frozen=True)
class Scope:
    """`operator_id` None means global; `store` is the clerk key's store label, kept in the audit."""

    operator_id: str | None
    store: str | None = None

    @property
    def is_global(self) -> bool:
        return self.operator_id is None

    def own_operator(self) -> str:
        """The operator a key acts for; 403 for a global key (acting needs one operator's key)."""
        if self.operator_id is None:
            raise Forbidden("this operation acts for one operator; use a key bound to it", code="key_not_scoped")
        return self.operator_id

    def sees(self, operator_id: str | None) -> bool:
        """Global keys see every row; scoped keys only rows of their operator (never unowned legacy rows)."""
        return self.operator_id is None or operator_id == self.operator_id

    def require_visible(self, operator_id: str | None, what: str, code: str) -> None:
        """404, as if absent, for another operator's row: a key learns nothing about others' data."""
        if not self.sees(operator_id):
            raise NotFound(f"no such {what}", code=code)

    def require_global(self) -> None:
        """403 for operator-scoped keys on views that span every operator (the whole audit log)."""
        if not self.is_global:
            raise Forbidden("this operation needs a global key (this key is scoped to one operator)",
                            code="global_scope_required")

    def require_operator(self, operator_id: str) -> None:
        """403 when a clerk acts for an operator other than its key's (it may know the operator exists)."""
        if self.operator_id is not None and operator_id != self.operator_id:
            raise Forbidden("this API key belongs to another operator", code="operator_mismatch",
                            field="operator_id")


GLOBAL = Scope(None)
