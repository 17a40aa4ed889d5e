"""Schemathesis 4 against the app's own OpenAPI document, authenticated as an admin.

Every operation gets ``MAX_EXAMPLES`` generated requests in positive mode (valid per the schema)
and in negative mode (invalid on purpose), sent in-process through the ASGI transport. Each
response must pass these checks:

- ``not_a_server_error``: no 5xx;
- ``status_code_conformance``: the status is documented for the operation;
- ``content_type_conformance``: the Content-Type is the documented one;
- ``response_schema_conformance``: the body matches the documented schema (success bodies and
  the one error format alike);
- ``response_headers_conformance``: documented required headers (WWW-Authenticate on 401,
  Retry-After on 429) are present and valid.

Each request carries a freshly minted admin token (current token version), so an operation that
revokes tokens (logout, a password change) does not turn the rest of the run into 401s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import hypothesis
import hypothesis.errors
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tradewind.api import accounts
from tradewind.api.security import issue_token

MAX_EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


def test_schemathesis_finds_no_server_errors_or_schema_violations(
    make_api: Callable[..., Any], db_url: str
) -> None:
    api = make_api(db_url)
    app = api.app
    key = app.state.settings.signing_key()

    def admin_headers() -> dict[str, str]:
        version = accounts.get_user(api.store, "root").token_version
        token = issue_token(key, username="root", typ="access", scopes=accounts.SCOPES,
                            version=version, ttl_s=300)  # fmt: skip
        return {"Authorization": f"Bearer {token}"}

    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    statuses: dict[int, int] = {}
    labels: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        labels.append(operation.label)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @hypothesis.settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
            def run(case: schemathesis.Case) -> None:
                response = case.call_and_validate(headers=admin_headers(), checks=CHECKS)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

            try:
                run()
            except hypothesis.errors.Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing to make invalid (no input)
            except (Exception, BaseExceptionGroup) as exc:  # collect all, then fail once
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    assert len(labels) >= 15, labels
    assert not failures, "\n\n".join(failures)
    # the run reached the operations' logic, not only their validation
    assert {200, 201, 204, 404, 422} <= set(statuses), statuses
