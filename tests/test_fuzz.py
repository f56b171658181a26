"""Schema-driven fuzzing of the HTTP API from its own OpenAPI document (schemathesis).

A bounded run against a real server on the bundled list, with the fake embedder (the model
proves nothing here): whatever the generated requests, no answer is a 5xx.
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode

from secml_papers.service.api import create_app
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings

from .conftest import FakeEmbedder
from .servers import serve

CASES_PER_OPERATION = 40
TRIED: Counter[str] = Counter()


@pytest.fixture(scope="module")
def fuzz_url(tmp_path_factory: pytest.TempPathFactory):
    library = Library(Settings(index_dir=tmp_path_factory.mktemp("fuzz")), FakeEmbedder())
    library.index()
    with serve(create_app(library)) as base:
        yield base


# The document the server publishes at /openapi.json; building the app loads nothing.
schema = schemathesis.openapi.from_dict(create_app(Library(Settings(), FakeEmbedder())).openapi())
schema.config.generation.update(modes=list(GenerationMode))  # valid and invalid requests


@pytest.fixture(scope="module", autouse=True)
def report_cases():
    yield
    print(f"\nschemathesis cases per operation: {dict(TRIED)}; total {sum(TRIED.values())}")


@schema.parametrize()
@settings(
    max_examples=CASES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_gets_a_server_error(case, fuzz_url: str) -> None:
    if case.body and isinstance(case.body, dict):
        case.body.pop("check_links", None)  # never let generated text send requests out
    response = case.call(base_url=fuzz_url, timeout=60)
    TRIED[f"{case.method} {case.path}"] += 1
    assert response.status_code < 500, (case.method, case.path, response.text[:300])
    if response.status_code >= 400:
        assert isinstance(response.json().get("detail"), str)
