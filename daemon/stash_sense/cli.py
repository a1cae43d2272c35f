"""The `stash-sense` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import typing
from pathlib import Path

from stash_sense import __version__
from stash_sense.cli_output import print_error
from stash_sense.config import Config, ConfigError, load_config, redacted, render_example
from stash_sense.logs import setup_logging

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CONFIG = 2


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are JSON on stdout when --json is given."""

    json_errors = False

    def error(self, message: str) -> typing.NoReturn:
        """Report a usage error and exit 2."""
        if self.json_errors:
            print_error(message, as_json=True)
            self.exit(EXIT_CONFIG)
        super().error(message)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the chosen command; return the exit code."""
    words = sys.argv[1:] if argv is None else argv
    parser = _parser(json_errors="--json" in words)
    args = parser.parse_args(argv)
    if not hasattr(args, "command"):
        parser.print_help()
        return EXIT_CONFIG
    result: int = args.command(args)
    return result


def _parser(*, json_errors: bool = False) -> argparse.ArgumentParser:
    """Build the argument parser."""
    parser = _Parser(prog="stash-sense", description=__doc__)
    parser.add_argument("--version", action="version", version=f"stash-sense {__version__}")
    commands = parser.add_subparsers(title="commands")

    run = commands.add_parser("run", help="run the daemon")
    _config_arg(run)
    run.set_defaults(command=_run)

    backfill = commands.add_parser(
        "backfill", help="queue identification of every scene never identified (low priority)"
    )
    _config_arg(backfill)
    backfill.add_argument("--wait", action="store_true", help="follow the job's progress")
    backfill.set_defaults(command=_backfill)

    identify = commands.add_parser(
        "identify", help="identify the performers of one scene, or of a local video file"
    )
    _config_arg(identify)
    target = identify.add_mutually_exclusive_group(required=True)
    target.add_argument("scene_id", nargs="?", type=_scene_id, help="Stash scene id")
    target.add_argument("--file", type=Path, help="a local video file (no Stash needed)")
    identify.add_argument("--json", action="store_true", help="print machine-readable JSON")
    identify.set_defaults(command=_identify)
    identify.json_errors = json_errors

    evaluate = commands.add_parser(
        "evaluate",
        help="measure identification on your own tagged scenes; --apply calibrates auto-tagging",
    )
    _config_arg(evaluate)
    evaluate.add_argument("--scenes", type=int, default=50, help="usable scenes to evaluate")
    evaluate.add_argument("--seed", type=int, default=0, help="sampling seed (same seed, same)")
    evaluate.add_argument("--matcher", default=None, help="evaluate one matcher (default: all)")
    evaluate.add_argument(
        "--sweep", action="store_true", help="also sweep min_frames, min_margin, cluster_threshold"
    )
    evaluate.add_argument(
        "--apply", action="store_true", help="record the recommendation as the calibrated threshold"
    )
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    evaluate.set_defaults(command=_evaluate)
    evaluate.json_errors = json_errors

    analyze = commands.add_parser(
        "analyze",
        help="run one analyzer now in this process (e.g. duplicate_performers)",
        formatter_class=_AnalyzeHelp,
    )
    _config_arg(analyze)
    analyze.add_argument("name", help="analyzer name")
    analyze.add_argument("--full", action="store_true", help="ignore the watermark")
    analyze.set_defaults(command=_analyze)

    _facedb_parsers(commands)

    config = commands.add_parser("config", help="inspect the configuration")
    config_commands = config.add_subparsers(title="config commands", required=True)
    check = config_commands.add_parser("check", help="validate and print the effective config")
    _config_arg(check)
    check.set_defaults(command=_config_check)
    example = config_commands.add_parser("example", help="print the annotated default config")
    example.set_defaults(command=_config_example)
    return parser


def _facedb_parsers(commands: argparse._SubParsersAction[_Parser]) -> None:
    """Add `facedb status|install|update|rollback` and `models install`."""
    facedb = commands.add_parser("facedb", help="install, update or roll back the face database")
    actions = facedb.add_subparsers(title="facedb commands", required=True)
    status = actions.add_parser("status", help="print the installed release")
    status.set_defaults(command=_facedb, action="status")
    install = actions.add_parser(
        "install", help="install the newest release, a VERSION, or one from --from"
    )
    install.add_argument("version", nargs="?", help="release version, e.g. 2026.02.18")
    install.add_argument(
        "--from", dest="source", help="release zip URL, local zip or folder (overrides the config)"
    )
    install.set_defaults(command=_facedb, action="install")
    update = actions.add_parser("update", help="install the newest release if it is newer")
    update.set_defaults(command=_facedb, action="update")
    rollback = actions.add_parser("rollback", help="return to the previous release")
    rollback.set_defaults(command=_facedb, action="rollback")

    models = commands.add_parser("models", help="install the face models")
    model_actions = models.add_subparsers(title="models commands", required=True)
    models_install = model_actions.add_parser("install", help="download and install the models")
    models_install.add_argument(
        "--from", dest="source", help="base URL, local folder or zip with the .onnx files"
    )
    models_install.set_defaults(command=_models_install)
    for parser in (status, install, update, rollback, models_install):
        _config_arg(parser)


def _scene_id(text: str) -> int:
    """Parse a Stash scene id: a positive integer."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"scene id must be a positive integer, got {text!r}")
    return value


def _analyzer_names() -> list[str]:
    """Name every analyzer; imported only when asked so other commands stay fast."""
    from stash_sense.analyzers.registry import analyzer_classes  # noqa: PLC0415

    return [cls.name for cls in analyzer_classes()]


class _AnalyzeHelp(argparse.HelpFormatter):
    """Help for `analyze` that lists the analyzer names when it is printed."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        """Append the analyzer names to the help of the name argument."""
        text = super()._get_help_string(action)
        if action.dest == "name":
            return f"{text}: {', '.join(_analyzer_names())}"
        return text


def _config_arg(parser: argparse.ArgumentParser) -> None:
    """Add the shared --config option."""
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="TOML config file (default: ./config.toml if present, else built-in defaults)",
    )


def _load(args: argparse.Namespace) -> tuple[Config, Path | None] | None:
    """Load the config and its source, or print one line per problem (JSON with --json)."""
    try:
        return load_config(args.config)
    except ConfigError as err:
        if getattr(args, "json", False):
            message = "config error: " + "; ".join(err.problems)
            print_error(message, as_json=True, problems=err.problems)
            return None
        for problem in err.problems:
            print(f"config error: {problem}", file=sys.stderr)
        return None


def _config_check(args: argparse.Namespace) -> int:
    """Validate the config and print it with secrets redacted."""
    loaded = _load(args)
    if loaded is None:
        return EXIT_CONFIG
    config, source = loaded
    print(f"# Effective configuration (from {source or 'built-in defaults'} and environment)")
    print(redacted(config), end="")
    return EXIT_OK


def _config_example(args: argparse.Namespace) -> int:
    """Print the annotated default config."""
    print(render_example(), end="")
    return EXIT_OK


def _backfill(args: argparse.Namespace) -> int:
    """Queue the backfill job in the daemon's database; the running daemon picks it up."""
    loaded = _load(args)
    if loaded is None:
        return EXIT_CONFIG
    from stash_sense.identify.commands import enqueue_backfill  # noqa: PLC0415

    return asyncio.run(enqueue_backfill(loaded[0], wait=args.wait))


def _identify(args: argparse.Namespace) -> int:
    """Identify one scene or file in this process and print the result."""
    loaded = _load(args)
    if loaded is None:
        return EXIT_CONFIG
    config = loaded[0]
    from stash_sense.identify.commands import identify_command  # noqa: PLC0415

    # Warnings only: the table or JSON on stdout is the output.
    setup_logging("WARNING", secrets=[config.stash.api_key])
    return asyncio.run(
        identify_command(config, scene_id=args.scene_id, video=args.file, as_json=args.json)
    )


def _evaluate(args: argparse.Namespace) -> int:
    """Evaluate identification on tagged scenes in this process and print the report."""
    loaded = _load(args)
    if loaded is None:
        return EXIT_CONFIG
    if args.scenes < 1:
        print_error("--scenes must be at least 1", as_json=args.json)
        return EXIT_CONFIG
    config = loaded[0]
    from stash_sense.evaluate.command import EvaluateOptions, evaluate_command  # noqa: PLC0415

    setup_logging("WARNING", secrets=[config.stash.api_key])
    options = EvaluateOptions(
        args.scenes, args.seed, args.matcher, args.sweep, args.apply, args.json
    )
    return asyncio.run(evaluate_command(config, options))


def _analyze(args: argparse.Namespace) -> int:
    """Run one analyzer in this process and print what it found."""
    loaded = _load(args)
    if loaded is None:
        return EXIT_CONFIG
    config = loaded[0]
    names = _analyzer_names()
    if args.name not in names:
        print(
            f"error: no analyzer named {args.name!r}; choose from {', '.join(names)}",
            file=sys.stderr,
        )
        return EXIT_ERROR
    from stash_sense.analyzers.command import analyze_command  # noqa: PLC0415

    setup_logging("WARNING", secrets=[config.stash.api_key])
    return asyncio.run(analyze_command(config, args.name, full=args.full))


def _facedb(args: argparse.Namespace) -> int:
    """Show, install, update or roll back the face database in this process."""
    loaded = _load(args)
    if loaded is None:
        return EXIT_CONFIG
    config = loaded[0]
    from stash_sense.facedb import command  # noqa: PLC0415

    setup_logging("WARNING", secrets=[config.stash.api_key])
    if args.action == "status":
        return command.facedb_status(config)
    if args.action == "rollback":
        return asyncio.run(command.facedb_rollback(config))
    if args.action == "update":
        return asyncio.run(command.facedb_install(config, only_if_newer=True))
    return asyncio.run(command.facedb_install(config, version=args.version, source=args.source))


def _models_install(args: argparse.Namespace) -> int:
    """Install the face models in this process."""
    loaded = _load(args)
    if loaded is None:
        return EXIT_CONFIG
    config = loaded[0]
    from stash_sense.facedb.command import models_install  # noqa: PLC0415

    setup_logging("WARNING", secrets=[config.stash.api_key])
    return asyncio.run(models_install(config, source=args.source))


def _run(args: argparse.Namespace) -> int:
    """Run the daemon until it is stopped."""
    loaded = _load(args)
    if loaded is None:
        return EXIT_CONFIG
    config, _ = loaded
    # Imported here so `config check` stays fast and works without the heavy stack.
    from stash_sense.api.auth import ensure_token  # noqa: PLC0415
    from stash_sense.config.paths import data_dir  # noqa: PLC0415
    from stash_sense.daemon import build_app, serve  # noqa: PLC0415
    from stash_sense.store import StoreError  # noqa: PLC0415

    setup_logging(config.log.level, secrets=[config.stash.api_key, config.server.token])
    try:
        token = ensure_token(config.server.token, data_dir(config))
    except OSError as err:
        logging.getLogger(__name__).error("Cannot prepare the data dir: %s", err)
        return EXIT_ERROR
    # The generated token must never reach the log either.
    setup_logging(config.log.level, secrets=[config.stash.api_key, token])
    try:
        asyncio.run(serve(build_app(config, token)))
    except StoreError as err:
        logging.getLogger(__name__).error("%s", err)
        return EXIT_ERROR
    except OSError as err:
        logging.getLogger(__name__).error("Cannot start the API: %s", err)
        return EXIT_ERROR
    return EXIT_OK
