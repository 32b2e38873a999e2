"""Property-based tests: schemathesis fuzzes every operation in /openapi.json, in process.

Why in process (the ASGI app, no port): it is fast enough to run a bounded number of
examples per operation on every test run, against the same seeded warehouse as the other
API tests. Valid and invalid inputs are both generated; every answer must be a
documented status with a documented body, and nothing a client sends may produce a 5xx.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from nephos_pipeline.api.openapi import openapi_document
from nephos_pipeline_tests.api.conftest import TOKEN

# Header values travel as bytes; Starlette reads them as latin-1, so send the token's UTF-8 bytes.
WIRE_TOKEN = TOKEN.encode().decode("latin-1")

# Not positive_data_acceptance: a schema-valid string is not necessarily a cursor this API
# issued (or a real timestamp), and those are rightly refused with a 400.
MAX_EXAMPLES = 30  # per operation and mode: the whole file stays well under a minute
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
]
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,  # nothing written into the checkout
    derandomize=True,  # the same examples on every run: a failure is reproducible
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


PATHS = list(openapi_document()["paths"])
# Negative generation needs something to break: operations with no parameters are skipped.
WITH_PARAMS = [p for p, item in openapi_document()["paths"].items() if item["get"].get("parameters")]
CASES = [(p, GenerationMode.POSITIVE) for p in PATHS] + [(p, GenerationMode.NEGATIVE) for p in WITH_PARAMS]


@pytest.fixture(scope="module")
def held(seeded_warehouse: Any) -> Iterator[None]:
    """Keep the warehouse open for the module so each request skips re-opening DuckDB."""
    with seeded_warehouse.hold():
        yield


@pytest.fixture(scope="module")
def api_schema(app: Any, held: None) -> Any:
    """The schema as the app serves it, with the bearer token configured as its security scheme.

    Configured (not passed as a header) so schemathesis knows requests are authenticated
    and does not count a request it meant to send without the header as invalid input.
    """
    config = schemathesis.Config.from_dict({"auth": {"openapi": {"bearerAuth": {"bearer": WIRE_TOKEN}}}})
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=config)


@pytest.fixture(scope="module")
def anonymous_schema(app: Any, held: None) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=schemathesis.Config.from_dict({}))


# schemathesis' own pytest integration (``from_fixture``/``parametrize``) reads a private
# pytest attribute that pytest 9 removed, so each operation is driven with ``@given`` and
# the operation's Hypothesis strategy instead; the checks are schemathesis' own.
@pytest.mark.parametrize(("path", "mode"), CASES, ids=[f"{p}-{m}" for p, m in CASES])
def test_fuzzed_requests_get_documented_answers_and_never_a_5xx(api_schema: Any, path: str, mode: Any) -> None:
    statuses: set[int] = set()

    @given(case=api_schema[path]["GET"].as_strategy(generation_mode=mode))
    @FUZZ_SETTINGS
    def run(case: Any) -> None:
        statuses.add(case.call_and_validate(checks=CHECKS).status_code)

    run()
    # Guard against a vacuous pass (e.g. every request refused with a 401).
    assert (200 if mode == GenerationMode.POSITIVE else 400) in statuses, statuses


@pytest.mark.parametrize("path", PATHS)
def test_fuzzed_requests_without_a_token_are_401_not_5xx(anonymous_schema: Any, path: str) -> None:
    @given(case=anonymous_schema[path]["GET"].as_strategy())
    @settings(FUZZ_SETTINGS, max_examples=10)
    def run(case: Any) -> None:
        response = case.call()
        assert response.status_code < 500, response.text
        if path not in {"/health", "/openapi.json"}:
            assert response.status_code == 401, response.text

    run()
