"""Build an evaluation's report from its stored scores, and render it as a terminal table."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from typing import Any

from stash_sense.cli_output import column_width
from stash_sense.evaluate.metrics import Figures, Prediction, ScoreSet, Truth, recommend, thin
from stash_sense.evaluate.store import EVALUATED, Evaluation, EvaluationStore, SceneRow

CURVE_POINTS = 200  # points kept per curve in a report (the recommendation uses them all)


async def build_report(
    store: EvaluationStore, evaluation: Evaluation, *, auto_threshold: float
) -> dict[str, Any]:
    """Sweep every variant's stored scores and describe the run (works on a partial run too)."""
    settings = evaluation.settings
    scenes = await store.scenes(evaluation.id)
    truths = {s.scene_id: Truth(s.truth, s.seen) for s in scenes if s.state == EVALUATED}
    predictions = await store.predictions(evaluation.id)
    return assemble(
        evaluation, scenes, truths, predictions, auto_threshold=auto_threshold, settings=settings
    )


def assemble(
    evaluation: Evaluation,
    scenes: list[SceneRow],
    truths: dict[int, Truth],
    predictions: dict[str, list[Prediction]],
    *,
    auto_threshold: float,
    settings: dict[str, Any],
) -> dict[str, Any]:
    """Put the report together from plain data (no I/O)."""
    target = float(settings["target_precision"])
    auto_frames = int(settings["auto_min_frames"])
    proposed = float(settings["min_confidence"])
    variants = []
    sets: dict[str, ScoreSet] = {}
    for variant in settings["variants"]:
        scored = sets[variant["name"]] = ScoreSet(predictions.get(variant["name"], []), truths)
        curve = scored.sweep(min_frames=auto_frames)
        best = recommend(curve, target)
        variants.append(
            {
                **variant,
                "proposed": _figures(scored.at(proposed)),
                "auto": _figures(scored.at(auto_threshold, min_frames=auto_frames)),
                "recommendation": _figures(best) if best else None,
                "curve": [_point(p) for p in thin(curve, CURVE_POINTS)],
            }
        )
    main_name = settings["matcher"]
    main = next((v for v in variants if v["name"] == main_name), variants[0] if variants else None)
    outcomes = (
        {o.scene_id: o for o in sets[main["name"]].outcomes(auto_threshold, min_frames=auto_frames)}
        if main
        else {}
    )
    costs = [s.cost_ms for s in scenes if s.cost_ms is not None]
    return {
        "id": evaluation.id,
        "state": evaluation.state,
        "created_at": evaluation.created_at,
        "finished_at": evaluation.finished_at,
        "settings": {k: v for k, v in settings.items() if k != "variants"},
        "auto_threshold": auto_threshold,
        "scenes": {
            "sampled": len(scenes),
            "evaluated": len(truths),
            "by_state": dict(Counter(s.state for s in scenes)),
            "skipped_reasons": dict(Counter(s.reason for s in scenes if s.state == "skipped")),
            "cost_ms_per_scene": round(sum(costs) / len(costs), 1) if costs else None,
        },
        "matcher": main["matcher"] if main else None,
        "recommendation": main["recommendation"] if main else None,
        "variants": variants,
        "per_scene": [_scene(s, outcomes.get(s.scene_id)) for s in scenes],
    }


def _figures(figures: Figures) -> dict[str, Any]:
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(figures).items()}


def _point(figures: Figures) -> list[float | None]:
    """A curve point, compact: [threshold, precision, recall, recall_seen]."""
    return [
        round(figures.threshold, 4),
        None if figures.precision is None else round(figures.precision, 4),
        None if figures.recall is None else round(figures.recall, 4),
        None if figures.recall_seen is None else round(figures.recall_seen, 4),
    ]


def _scene(row: SceneRow, outcome: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "scene_id": row.scene_id,
        "state": row.state,
        "reason": row.reason,
        "truth": sorted(row.truth),
    }
    if outcome is not None:
        entry.update(
            hits=outcome.hits,
            misses=outcome.misses,
            false_alarms=outcome.false_alarms,
            unseen=outcome.unseen,
            cost_ms=row.cost_ms,
        )
    return entry


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def render_table(report: dict[str, Any]) -> str:
    """Format a report for the terminal."""
    scenes = report["scenes"]
    settings = report["settings"]
    lines = [
        f"Evaluation {report['id']} ({report['state']}): {scenes['evaluated']} scenes evaluated "
        f"of {scenes['sampled']} sampled; cost {scenes['cost_ms_per_scene']} ms per scene",
    ]
    for reason, count in sorted(scenes["skipped_reasons"].items()):
        lines.append(f"  skipped {count}: {reason}")
    names = column_width([v["name"] for v in report["variants"]], "variant")
    lines += [
        "",
        f"auto threshold {report['auto_threshold']:.2f} with >= {settings['auto_min_frames']} "
        f"frames; target precision {settings['target_precision']:.2f}",
        f"{'variant':<{names}} {'P auto':>7} {'R auto':>7} {'R seen':>7} "
        f"{'P prop':>7} {'R prop':>7}  recommended threshold (P, R kept)",
    ]
    for v in report["variants"]:
        auto, prop, rec = v["auto"], v["proposed"], v["recommendation"]
        advice = (
            f"{rec['threshold']:.2f} ({_pct(rec['precision'])}, {_pct(rec['recall'])})"
            if rec
            else "none reaches the target"
        )
        lines.append(
            f"{v['name']:<{names}} {_pct(auto['precision']):>7} {_pct(auto['recall']):>7} "
            f"{_pct(auto['recall_seen']):>7} {_pct(prop['precision']):>7} "
            f"{_pct(prop['recall']):>7}  {advice}"
        )
    scored = [s for s in report["per_scene"] if "hits" in s]
    hits = column_width([_ids(s["hits"]) for s in scored], "hits")
    misses = column_width([_ids(s["misses"]) for s in scored], "misses")
    lines += ["", f"{'scene':>7}  {'hits':<{hits}} {'misses':<{misses}} false alarms"]
    for scene in scored:
        lines.append(
            f"{scene['scene_id']:>7}  {_ids(scene['hits']):<{hits}} "
            f"{_ids(scene['misses']):<{misses}} {_ids(scene['false_alarms'])}"
        )
    return "\n".join(lines)


def _ids(ids: list[str]) -> str:
    """Join universal ids whole: a cut id cannot be looked up."""
    return ", ".join(ids) or "-"
