"""Server-side request forgery through ``POST /check-pr``: the real app, served on 127.0.0.1,
with a local server standing in for an internal service that must receive nothing."""

from __future__ import annotations

from pathlib import Path

import httpx

from secml_papers.service.api import create_app
from secml_papers.service.library import Library
from secml_papers.service.netguard import AddressPolicy
from secml_papers.service.settings import Settings

from .servers import serve
from .test_ssrf_links import counting_server

ANCHOR = "### Membership Inference Attacks\n"


def _head(base: str, urls: list[str]) -> str:
    entries = "".join(
        f'- Tester et al. [**"Probe Number {n} of the Link Guard"**]({url}) @ **ICML 2024**.\n'
        for n, url in enumerate(urls, start=1)
    )
    return base.replace(ANCHOR, f"{ANCHOR}\n{entries}", 1)


def test_links_to_an_internal_service_never_reach_it(
    tmp_path: Path, fake_embedder, bundled_text: str
) -> None:
    settings = Settings(index_dir=tmp_path / "index", http_link_checks=True)
    library = Library(settings, fake_embedder)
    with counting_server() as internal, counting_server() as site:
        port = internal.port
        site.redirects["/to-internal"] = internal.url("/internal-admin")
        # the one stub that stands in for a public site; the internal service stays private
        policy = AddressPolicy(public_endpoints=frozenset({("127.0.0.1", site.port)}))
        probes = {
            "loopback": f"http://127.0.0.1:{port}/internal-admin",
            "localhost": f"http://localhost:{port}/internal-admin",
            "redirect": site.url("/to-internal"),
            "decimal": f"http://2130706433:{port}/internal-admin",
            "hex": f"http://0x7f.1:{port}/internal-admin",
            "mapped": f"http://[::ffff:127.0.0.1]:{port}/internal-admin",
            "public": site.url("/paper"),
        }
        head = _head(bundled_text, list(probes.values()))
        with serve(create_app(library, link_policy=policy)) as url:
            response = httpx.post(
                f"{url}/check-pr",
                json={"base": bundled_text, "head": head, "check_links": True},
                timeout=60,
            )
        assert response.status_code == 200, response.text
        links = {link["url"]: link for link in response.json()["links"]}
        assert internal.log == []  # the stand-in for the internal service received 0 requests
        assert [path for _, _, path in sorted(site.log)] == ["/paper", "/to-internal"]
    assert links[probes["public"]]["kind"] == "ok"
    details = {}
    for name, probe in probes.items():
        if name == "public":
            continue
        link = links[probe]
        assert (link["kind"], link["status"], link["problem"]) == ("refused", None, True), name
        assert "link checks reach only public addresses" in link["detail"]
        details[name] = link["detail"]
    assert details["loopback"].startswith("not requested: 127.0.0.1 is a loopback address")
    assert details["localhost"].startswith("not requested: localhost resolves to 127.0.0.1")
    assert details["redirect"].startswith(f"redirect not followed: {probes['redirect']} answered")
    assert "2130706433 is 127.0.0.1, a loopback address" in details["decimal"]
    assert "0x7f.1 is 127.0.0.1, a loopback address" in details["hex"]
    assert "(IPv4-mapped 127.0.0.1)" in details["mapped"]
    assert response.json()["findings"]["links"] == len(details)


def test_link_checks_over_http_are_off_by_default(
    tmp_path: Path, fake_embedder, bundled_text: str
) -> None:
    library = Library(Settings(index_dir=tmp_path / "index"), fake_embedder)
    with counting_server() as internal:
        head = _head(bundled_text, [internal.url("/internal-admin")])
        with serve(create_app(library)) as url:
            calls = len(fake_embedder.calls)
            refused = httpx.post(
                f"{url}/check-pr",
                json={"base": bundled_text, "head": head, "check_links": True},
                timeout=60,
            )
            assert len(fake_embedder.calls) == calls  # decided before any work
            plain = httpx.post(
                f"{url}/check-pr", json={"base": bundled_text, "head": head}, timeout=60
            )
        assert internal.log == []
    assert refused.status_code == 403
    assert refused.json() == {
        "detail": "link checks are off on this server: its operator has not enabled them "
        "(SECML_PAPERS_HTTP_LINK_CHECKS)"
    }
    assert plain.status_code == 200 and plain.json()["links"] == []


def test_the_setting_reads_its_environment_variable() -> None:
    assert Settings().http_link_checks is False
    on = Settings.from_env({"SECML_PAPERS_HTTP_LINK_CHECKS": "true"})
    assert on.http_link_checks is True
    assert Settings.from_env({"SECML_PAPERS_HTTP_LINK_CHECKS": "0"}).http_link_checks is False
