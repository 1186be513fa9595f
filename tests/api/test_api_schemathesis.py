"""Property-based fuzzing of every operation in the app's own OpenAPI document (schemathesis, in-process ASGI).

Bounded and derandomized: the same cases on every run. Each request carries a key of the role the route
needs, so the fuzzer reaches validation and the domain instead of stopping at 401/403. Checks: no 5xx,
only documented status codes, documented content types (errors are problem+json) and response schemas.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402  (after the importorskip)
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.slow

ROLE_BY_PREFIX = {"/v1/capture-sessions": "clerk", "/v1/registrations": "clerk", "/v1/verifications": "clerk",
                  "/v1/document-photo-checks": "clerk", "/v1/numbers-query": "clerk", "/v1/closures": "clerk",
                  "/v1/sim-replacements": "clerk", "/v1/reviews": "reviewer", "/v1/audit": "auditor"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 20  # per operation and mode (valid and invalid input)


def fuzz(operation: Any, mode: GenerationMode, auth: dict[str, str]) -> None:
    """Up to EXAMPLES derandomized cases of one operation, each sent with `auth` instead of generated keys."""

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(mode))
    def run(case: Any) -> None:
        headers = {k: v for k, v in (case.headers or {}).items() if k.lower() not in ("authorization", "x-api-key")}
        case.headers = {**headers, **auth}
        case.call_and_validate(checks=CHECKS)

    run()


def test_openapi_operations_never_500_and_match_their_schema(deploy: Callable[..., Any], api_factory: Any) -> None:
    from fastapi.testclient import TestClient

    dep = deploy(rate_limit_per_minute=1_000_000, max_upload_bytes=200_000)
    api = api_factory(TestClient(dep.app, raise_server_exceptions=False), dep.admin_token)
    api.operator("op", numbers=2)
    keys = {role: api.key(role) for role in ("admin", "clerk", "reviewer", "auditor")}
    schema = schemathesis.openapi.from_asgi("/openapi.json", dep.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    failures: list[str] = []
    for operation in operations:
        role = next((r for prefix, r in ROLE_BY_PREFIX.items() if operation.path.startswith(prefix)), "admin")
        has_input = any(len(params) for params in (operation.path_parameters, operation.query, operation.body))
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) if has_input else (GenerationMode.POSITIVE,):
            try:
                fuzz(operation, mode, keys[role])
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis' FailureGroup is a BaseExceptionGroup
                failures.append(f"{operation.label} ({mode}): {exc}")  # fuzz every operation, report all at once
    assert not failures, "\n\n".join(failures)
