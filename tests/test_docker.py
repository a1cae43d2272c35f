"""Docker artefacts: compose file, unRAID template, Dockerfile (no image is built here)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from stash_sense.config.loader import load_config

ROOT = Path(__file__).resolve().parents[1]
HEALTH_URL = "http://127.0.0.1:6960/api/v1/health"


def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def unraid() -> ET.Element:
    return ET.parse(ROOT / "docker" / "unraid.xml").getroot()


def settings_of(env: dict[str, str]) -> dict[str, str]:
    """Keep the daemon's own variables, with values the loader can parse."""
    return {
        k: ("key" if v.startswith("${") else v)
        for k, v in env.items()
        if k.startswith("STASH_SENSE_")
    }


@pytest.mark.parametrize("service", ["stash-sense", "stash-sense-gpu"])
def test_compose_service_is_complete(service: str) -> None:
    spec = compose()["services"][service]
    assert spec["restart"] == "unless-stopped"
    assert "6960:6960" in spec["ports"]
    volumes = spec["volumes"]
    assert any(v.endswith(":/data") for v in volumes), "data volume"
    media = [v for v in volumes if v.endswith(":ro")]
    assert len(media) == 1, "media mounted read-only"
    media_target = media[0].split(":")[1]
    # The path mapping's right side is where the media mount lands in the container.
    mappings = spec["environment"]["STASH_SENSE_FACES__PATH_MAPPINGS"]
    assert all(m.split("=", 1)[1].rstrip("/") == media_target for m in mappings.split(","))
    test = spec["healthcheck"]["test"]
    assert HEALTH_URL in " ".join(test)
    # Every variable is a real config key with a value the daemon accepts.
    config, _ = load_config(None, settings_of(spec["environment"]))
    assert config.server.port == 6960
    assert config.faces.path_mappings == [mappings]


def test_compose_gpu_variant_reserves_a_gpu_and_demands_cuda() -> None:
    services = compose()["services"]
    gpu = services["stash-sense-gpu"]
    assert gpu["profiles"] == ["gpu"]
    assert "profiles" not in services["stash-sense"]
    (device,) = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and device["capabilities"] == ["gpu"]
    assert gpu["build"]["args"]["EXTRA"] == "gpu"
    assert gpu["build"]["args"]["BASE"].startswith("nvidia/cuda:")
    assert gpu["environment"]["STASH_SENSE_FACES__EXECUTION_PROVIDER"] == "cuda"
    # The merge key keeps the shared settings under the GPU override.
    assert gpu["environment"]["STASH_SENSE_STASH__URL"] == "http://stash:9999"


def test_unraid_template_maps_every_setting() -> None:
    root = unraid()
    assert root.tag == "Container"
    assert root.findtext("Network") == "bridge"
    configs = {c.get("Target"): c for c in root.findall("Config")}
    assert configs["6960"].get("Type") == "Port"
    assert configs["/data"].get("Mode") == "rw"
    assert configs["/media"].get("Mode") == "ro"
    assert configs["STASH_SENSE_STASH__API_KEY"].get("Mask") == "true"
    for config in configs.values():
        assert config.get("Type") in {"Port", "Path", "Variable", "Device"}
        assert (config.text or "") == (config.get("Default") or "")
    env = {
        target: (config.text or "key")
        for target, config in configs.items()
        if target is not None and config.get("Type") == "Variable"
    }
    loaded, _ = load_config(None, settings_of(env))
    assert loaded.faces.path_mappings == ["/data/=/media/"]
    assert "[PORT:6960]/api/v1/health" in (root.findtext("WebUI") or "")


def test_dockerfile_builds_on_a_base_that_already_has_uid_1000() -> None:
    text = (ROOT / "Dockerfile").read_text()
    # Ubuntu 24.04 (the CUDA base) ships user "ubuntu" with uid 1000: never create it blindly.
    assert not re.search(r"^\s*(&&\s*)?useradd[^\n]*--uid 1000", text, re.M) or re.search(
        r"if ! getent passwd 1000", text
    )
    assert re.search(r"^USER 1000(:1000)?$", text, re.M)
    assert HEALTH_URL in text
    assert "ARG EXTRA=cpu" in text
