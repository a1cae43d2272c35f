"""Signed image URLs: a crop loads without the token only with a valid, fresh signature."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from stash_sense.api.signing import UrlSigner
from stash_sense.daemon import build_app
from stash_sense.keys import DAEMON

from ..helpers import TOKEN, daemon_config


def test_signatures_bind_path_and_expiry() -> None:
    signer = UrlSigner("secret-token", ttl_seconds=60)
    now = 1_800_000_000.0
    url = signer.sign("/api/v1/crops/7", now=now)
    path, _, query = url.partition("?")
    params = dict(part.split("=") for part in query.split("&"))
    assert "secret-token" not in url
    assert signer.valid(path, params["exp"], params["sig"], now=now)
    assert not signer.valid("/api/v1/crops/8", params["exp"], params["sig"], now=now)
    assert not signer.valid(path, str(int(params["exp"]) + 60), params["sig"], now=now)
    assert not signer.valid(path, params["exp"], params["sig"], now=now + 3600)
    assert not UrlSigner("other-token").valid(path, params["exp"], params["sig"], now=now)
    assert not signer.valid(path, "12e3", params["sig"], now=now)
    assert not signer.valid(path, params["exp"], "é", now=now)


async def test_crop_route_takes_a_signature_instead_of_the_token(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    app = build_app(daemon_config(tmp_path / "data"), TOKEN)
    client = await aiohttp_client(app)
    signer = app[DAEMON].signer
    good = signer.sign("/api/v1/crops/99")
    # A valid signature passes authentication (and then finds no such crop).
    assert (await client.get(good)).status == 404
    assert (await client.get("/api/v1/crops/99")).status == 401
    tampered = good.replace("/99?", "/98?")
    assert (await client.get(tampered)).status == 401
    expired = UrlSigner(TOKEN, ttl_seconds=-600).sign("/api/v1/crops/99", now=time.time())
    resp = await client.get(expired)
    assert resp.status == 401
    assert "signature" in (await resp.json())["error"]["message"]
    # A signature is only for images: it never opens other routes.
    jobs = signer.sign("/api/v1/jobs")
    assert (await client.get(jobs)).status == 401


async def test_evaluation_chart_takes_a_signature_on_get_only(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    app = build_app(daemon_config(tmp_path / "data"), TOKEN)
    client = await aiohttp_client(app)
    signer = app[DAEMON].signer
    chart = signer.sign("/api/v1/evaluations/5/chart.svg")
    # A valid signature passes authentication (and then finds no such evaluation).
    assert (await client.get(chart)).status == 404
    assert (await client.get("/api/v1/evaluations/5/chart.svg")).status == 401
    # A signature never stands in for the token on a change, even on a signed path.
    apply = signer.sign("/api/v1/evaluations/5/apply")
    assert (await client.post(apply)).status == 401
    assert (await client.get(signer.sign("/api/v1/evaluations/latest"))).status == 404
