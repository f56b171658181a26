"""The OpenAPI document tells the truth: what schemathesis finds with every check is a failure.

Clients are generated from /openapi.json, so every error a route can answer is documented as
the one model the server sends (``{"detail": "one sentence"}``), and the constraints the
handlers enforce are in the schema. The run is the one issue 16 tried, ``schemathesis run
--checks all`` with 40 examples per operation and /admin/reload left out, against a real server
on the bundled list with the fake embedder (the model proves nothing here), with a fixed seed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from secml_papers.service.api import create_app
from secml_papers.service.errors_http import ErrorPublic, errors
from secml_papers.service.library import Library
from secml_papers.service.settings import Settings

from .conftest import FakeEmbedder
from .servers import serve

ERROR_REF = "#/components/schemas/ErrorPublic"
# The one rule JSON Schema cannot state: between two query parameters (their descriptions say
# it). /search answers it with 400, which schemathesis would count as valid data rejected.
HOOKS = """
import schemathesis


@schemathesis.hook
def filter_query(ctx, query):
    lo, hi = (query or {}).get("year_min"), (query or {}).get("year_max")
    return not (isinstance(lo, int) and isinstance(hi, int) and lo > hi)
"""


@pytest.fixture(scope="module")
def document() -> dict:
    return create_app(Library(Settings(), FakeEmbedder())).openapi()


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    library = Library(Settings(index_dir=tmp_path_factory.mktemp("openapi")), FakeEmbedder())
    library.index()
    with serve(create_app(library)) as url:
        yield url


def _operations(document: dict) -> Iterator[tuple[str, str, dict]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_the_documented_422_is_the_one_sentence_model(document: dict) -> None:
    model = document["components"]["schemas"]["ErrorPublic"]
    assert model["required"] == ["detail"] and model["properties"]["detail"]["type"] == "string"
    assert ErrorPublic.model_json_schema()["properties"].keys() == {"detail"}
    assert "HTTPValidationError" not in json.dumps(document)  # FastAPI's list, never sent
    for path, method, operation in _operations(document):
        if path == "/admin/reload" or not operation.get("parameters", operation.get("requestBody")):
            continue
        schema = operation["responses"]["422"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": ERROR_REF}, (method, path)


def test_every_documented_error_is_the_one_model(document: dict) -> None:
    for path, method, operation in _operations(document):
        if path == "/admin/reload":
            continue  # service/admin.py documents its own statuses
        codes = [c for c in operation["responses"] if int(c) >= 400]
        assert "500" in codes, (method, path)
        for code in codes:
            content = operation["responses"][code]["content"]["application/json"]
            assert content["schema"] == {"$ref": ERROR_REF}, (method, path, code)


def test_what_each_operation_can_answer(document: dict) -> None:
    def codes(path: str, method: str) -> set[str]:
        return {c for c in document["paths"][path][method]["responses"] if c != "200"}

    assert codes("/papers/{paper_id}", "get") == {"404", "422", "500", "503"}
    assert codes("/search", "get") == {"400", "404", "422", "500", "503"}
    assert {"401", "413", "429", "503"} <= codes("/check-pr", "post")
    assert "403" in codes("/check-pr", "post")  # link checks the operator did not turn on
    retry = document["paths"]["/related"]["post"]["responses"]["429"]["headers"]
    assert "Retry-After" in retry


def test_the_constraints_the_handlers_enforce_are_in_the_schema(document: dict) -> None:
    search = document["paths"]["/search"]["get"]["parameters"]
    q = next(p for p in search if p["name"] == "q")["schema"]
    assert q["minLength"] == 1 and q["pattern"] == r"\S"
    related = document["components"]["schemas"]["RelatedRequest"]
    assert [branch["required"] for branch in related["anyOf"]] == [["id"], ["title"]]
    title = document["components"]["schemas"]["CategorizeRequest"]["properties"]["title"]
    assert title["minLength"] == 1 and title["pattern"] == r"\S"


def test_the_errors_helper() -> None:
    documented = errors(404, 429)
    assert sorted(documented) == [404, 429, 500]
    assert all(entry["model"] is ErrorPublic for entry in documented.values())
    assert "Retry-After" in documented[429]["headers"] and "headers" not in documented[404]


def test_a_real_422_matches_its_documented_model(base_url: str) -> None:
    for answer in (
        httpx.get(f"{base_url}/search", params={"q": "x", "k": 0}),
        httpx.post(f"{base_url}/related", json={"id": "x", "k": "5"}),
        httpx.post(f"{base_url}/check-pr", json={"base": "", "head": "", "check_links": 0}),
    ):
        assert answer.status_code == 422
        body = answer.json()
        assert list(body) == ["detail"] and isinstance(body["detail"], str)


def test_schemathesis_with_every_check_finds_nothing(base_url: str, tmp_path: Path) -> None:
    hooks = tmp_path / "hooks.py"
    hooks.write_text(HOOKS)
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{base_url}/openapi.json",
        "--checks=all",
        "--max-examples=40",
        "--seed=1",
        "--workers=1",
        "--generation-database=none",
        "--exclude-path=/admin/reload",
        "--no-color",
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": str(hooks)}
    run = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    summary = run.stdout[-6000:] + run.stderr[-2000:]
    assert run.returncode == 0, summary
    assert "No issues found" in run.stdout, summary
