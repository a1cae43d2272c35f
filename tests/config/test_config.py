"""Config loading: precedence, validation errors, the example file, redaction."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from stash_sense.config import Config, ConfigError, load_config, redacted, render_example
from stash_sense.config.loader import DEFAULT_PATH

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path | None, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path, env or {})
    return info.value.problems


def test_defaults_without_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config, source = load_config(None, {})
    assert source is None
    assert config == Config()
    assert config.stash.requests_per_second == 5.0
    assert config.queue.concurrency.io == 2


def test_default_path_is_used_when_present(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / DEFAULT_PATH).write_text("[server]\nport = 7000\n")
    config, source = load_config(None, {})
    assert source == DEFAULT_PATH
    assert config.server.port == 7000


def test_precedence_env_over_file_over_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[stash]\nurl = "http://file:9999"\napi_key = "from-file"\n[server]\nport = 7001\n',
    )
    env = {
        "STASH_SENSE_STASH__API_KEY": "from-env",
        "STASH_SENSE_QUEUE__CONCURRENCY__GPU": "3",
        "STASH_SENSE_SERVER__CORS_ORIGINS": "http://a:9999, http://b:9999",
        "OTHER_VAR": "ignored",
    }
    config, _ = load_config(path, env)
    assert config.stash.url == "http://file:9999"  # file beats default
    assert config.stash.api_key == "from-env"  # env beats file
    assert config.server.port == 7001
    assert config.queue.concurrency.gpu == 3  # nested section via double underscore
    assert config.server.cors_origins == ["http://a:9999", "http://b:9999"]
    assert config.log.level == "INFO"  # untouched default


def test_env_list_as_json_int_and_float(tmp_path: Path) -> None:
    env = {
        "STASH_SENSE_SERVER__CORS_ORIGINS": '["http://x"]',
        "STASH_SENSE_STASH__REQUESTS_PER_SECOND": "2.5",
        "STASH_SENSE_SERVER__PORT": "7002",
    }
    config, _ = load_config(write(tmp_path, ""), env)
    assert config.server.cors_origins == ["http://x"]
    assert config.stash.requests_per_second == 2.5
    assert config.server.port == 7002


def test_int_accepted_for_float(tmp_path: Path) -> None:
    config, _ = load_config(write(tmp_path, "[stash]\nrequests_per_second = 2\n"), {})
    assert config.stash.requests_per_second == 2.0
    assert isinstance(config.stash.requests_per_second, float)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[server]\nprot = 1\n", "server.prot: unknown key"),
        ("[sever]\nport = 1\n", "sever: unknown key"),
        ('[server]\nport = "80"\n', "server.port: expected an integer, got str '80'"),
        ("[server]\nport = 0\n", "server.port: must be at least 1, got 0"),
        ("[server]\nport = 70000\n", "server.port: must be at most 65535, got 70000"),
        ("[server]\nport = true\n", "server.port: expected an integer, got bool True"),
        ("[stash]\nrequests_per_second = 0\n", "stash.requests_per_second: must be at least 0.1"),
        ('[log]\nlevel = "LOUD"\n', "log.level: must be one of DEBUG, INFO"),
        ("[server]\ncors_origins = [1]\n", "server.cors_origins: expected a list of strings"),
        ("server = 1\n", "server: must be a table"),
        ("[queue.concurrency]\ngpu = -1\n", "queue.concurrency.gpu: must be at least 0"),
        ('[stash]\nurl = "localhost:9999"\n', "stash.url: must be an http(s):// URL"),
        (
            '[server]\ncors_origins = ["stash.lan"]\n',
            "server.cors_origins: must be an http(s):// URL",
        ),
    ],
)
def test_file_errors_name_the_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}: ")
    assert expected in problem


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, '[server]\nport = 0\nbogus = 1\n[log]\nlevel = "x"\n')
    assert len(problems_of(path)) == 3


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"STASH_SENSE_SERVER__PORT": "eighty"}, "STASH_SENSE_SERVER__PORT: server.port: expected"),
        ({"STASH_SENSE_SERVER__PORT": "0"}, "STASH_SENSE_SERVER__PORT: server.port: must be at"),
        ({"STASH_SENSE_SERVER__NOPE": "1"}, "STASH_SENSE_SERVER__NOPE: server.nope: unknown key"),
        ({"STASH_SENSE_NOPE__X": "1"}, "STASH_SENSE_NOPE__X: nope.x: unknown key"),
        ({"STASH_SENSE_SERVER__PORT__X": "1"}, "server.port is not a section"),
    ],
)
def test_env_errors_name_the_variable(tmp_path: Path, env: dict[str, str], expected: str) -> None:
    problems = problems_of(write(tmp_path, "[server]\nport = 1234\n"), env)
    assert any(expected in p for p in problems), problems


def test_missing_explicit_file(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path / "absent.toml")
    assert "absent.toml: file not found" in problem


def test_invalid_toml(tmp_path: Path) -> None:
    (problem,) = problems_of(write(tmp_path, "[server\n"))
    assert "invalid TOML" in problem


def test_example_file_equals_defaults_and_is_current() -> None:
    example = ROOT / "config.example.toml"
    config, _ = load_config(example, {})
    # The file's relative folders resolve against the file's own folder.
    defaults = Config()
    assert config == dataclasses.replace(
        defaults,
        paths=dataclasses.replace(defaults.paths, data_dir=str(ROOT / "data")),
        faces=dataclasses.replace(
            defaults.faces,
            models_dir=str(ROOT / "data/models"),
            database_dir=str(ROOT / "data/face-db"),
            tensorrt_cache_dir=str(ROOT / "data/trt-cache"),
        ),
    )
    # Every key is listed: the file is exactly what the model renders.
    assert example.read_text(encoding="utf-8") == render_example()


def test_example_has_a_comment_for_every_key() -> None:
    lines = render_example().splitlines()
    for index, line in enumerate(lines):
        if "=" in line and not line.startswith("#"):
            assert lines[index - 1].startswith("# "), line


def test_redacted_hides_secrets_only(tmp_path: Path) -> None:
    path = write(tmp_path, '[stash]\napi_key = "sekrit-key"\n[server]\ntoken = "tok-123"\n')
    config, _ = load_config(path, {})
    text = redacted(config)
    assert "sekrit-key" not in text
    assert "tok-123" not in text
    parsed = tomllib.loads(text)
    assert parsed["stash"]["api_key"] == "***"
    assert parsed["server"]["token"] == "***"
    assert parsed["stash"]["url"] == "http://localhost:9999"


def test_config_check_cli(tmp_path: Path) -> None:
    good = write(tmp_path, '[stash]\napi_key = "sekrit-key"\n[server]\ntoken = "tok-123"\n')
    run = subprocess.run(
        [sys.executable, "-m", "stash_sense", "config", "check", "--config", str(good)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "sekrit-key" not in run.stdout + run.stderr
    assert "tok-123" not in run.stdout + run.stderr
    assert 'api_key = "***"' in run.stdout
    assert tomllib.loads(run.stdout.split("\n", 1)[1])["stash"]["url"] == "http://localhost:9999"

    bad = tmp_path / "bad.toml"
    bad.write_text('[server]\nport = 0\n[log]\nlevel = "x"\n')
    run = subprocess.run(
        [sys.executable, "-m", "stash_sense", "config", "check", "--config", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    errors = run.stderr.strip().splitlines()
    assert len(errors) == 2
    assert all(line.startswith("config error: ") and str(bad) in line for line in errors)


def test_redacted_output() -> None:
    config = Config()
    text = redacted(config)
    assert 'api_key = ""' in text  # empty secrets stay visibly empty


def test_upstream_ignored_fields_are_checked(tmp_path: Path) -> None:
    """A misspelt upstream field is a config error naming it; known ones load."""
    path = tmp_path / "config.toml"
    path.write_text('[analyzers]\nupstream_ignored_fields = ["scene.tags", "performer.heigth"]\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert "'performer.heigth'" in str(info.value)
    assert "'scene.tags'" not in str(info.value)
    path.write_text('[analyzers]\nupstream_ignored_fields = ["scene.tags", "studio.parent"]\n')
    config, _ = load_config(path, env={})
    assert config.analyzers.upstream_ignored_fields == [
        "scene.tags",
        "studio.parent",
    ]


def test_upstream_field_names_follow_the_analyzers() -> None:
    """The config's list of upstream fields is exactly what the analyzers compare."""
    from stash_sense.analyzers.upstream import PERFORMER, SCENE, STUDIO, TAG
    from stash_sense.config.model import UPSTREAM_FIELD_NAMES

    compared = [f"{s.entity}.{f}" for s in (PERFORMER, STUDIO, TAG, SCENE) for f in s.fields]
    assert sorted(UPSTREAM_FIELD_NAMES) == sorted(compared)


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ('[tagging]\nauto_min_confidence = "calibrated"\n', {}, "calibrated"),
        ("[tagging]\nauto_min_confidence = 0.6\n", {}, 0.6),
        ("[tagging]\nauto_min_confidence = 1\n", {}, 1.0),
        ("", {"STASH_SENSE_TAGGING__AUTO_MIN_CONFIDENCE": "calibrated"}, "calibrated"),
        ("", {"STASH_SENSE_TAGGING__AUTO_MIN_CONFIDENCE": "0.8"}, 0.8),
    ],
)
def test_auto_min_confidence_takes_a_number_or_calibrated(
    tmp_path: Path, text: str, env: dict[str, str], expected: float | str
) -> None:
    config, _ = load_config(write(tmp_path, text), env)
    assert config.tagging.auto_min_confidence == expected
    assert type(config.tagging.auto_min_confidence) is type(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('auto_min_confidence = "calibrate"', "must be one of calibrated, got 'calibrate'"),
        ("auto_min_confidence = 1.5", "must be at most 1, got 1.5"),
        ("auto_min_confidence = true", "expected a number or a string"),
    ],
)
def test_auto_min_confidence_rejects_other_values(tmp_path: Path, text: str, expected: str) -> None:
    (problem,) = problems_of(write(tmp_path, f"[tagging]\n{text}\n"))
    assert problem.startswith(f"{tmp_path / 'config.toml'}: tagging.auto_min_confidence: ")
    assert expected in problem


@pytest.mark.parametrize("size", [0, 100, 650, 1000])
def test_detection_size_must_be_a_positive_multiple_of_32(tmp_path: Path, size: int) -> None:
    path = write(tmp_path, f"[faces]\ndetection_size = {size}\n")
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}: faces.detection_size: must be ")
    assert load_config(write(tmp_path, "[faces]\ndetection_size = 608\n"), {})[0]


def test_detection_size_from_the_environment_is_checked_too(tmp_path: Path) -> None:
    (problem,) = problems_of(None, {"STASH_SENSE_FACES__DETECTION_SIZE": "650"})
    assert problem == (
        "environment STASH_SENSE_FACES__DETECTION_SIZE: faces.detection_size: "
        "must be a multiple of 32, got 650"
    )


def test_file_paths_are_relative_to_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    elsewhere = tmp_path / "shell"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    path = folder / "config.toml"
    path.write_text(
        '[paths]\ndata_dir = "state"\n'
        '[faces]\nmodels_dir = "./m"\ndatabase_dir = "/abs/db"\n'
        '[facedb]\nsource = "releases/db.zip"\nmodels_source = "https://host/models"\n'
    )
    config, _ = load_config(Path("../etc/config.toml"), {})
    assert Path(config.paths.data_dir) == folder.resolve() / "state"
    assert Path(config.faces.models_dir) == folder.resolve() / "m"
    assert config.faces.database_dir == "/abs/db"
    assert Path(config.facedb.source) == folder.resolve() / "releases/db.zip"
    assert config.facedb.models_source == "https://host/models"


def test_env_and_default_paths_stay_relative_to_the_shell(tmp_path: Path) -> None:
    path = write(tmp_path, "[server]\nport = 7000\n")
    config, _ = load_config(path, {"STASH_SENSE_PATHS__DATA_DIR": "state"})
    assert config.paths.data_dir == "state"
    assert config.faces.models_dir == "./data/models"
    assert config.facedb.source == "github:carrotwaxr/stash-sense-data"
