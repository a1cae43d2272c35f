"""Draw a report's precision-recall curves as a small, self-contained SVG."""

from __future__ import annotations

from html import escape
from typing import Any

WIDTH, HEIGHT = 480, 360
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 28, 48
COLOURS = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#4a5568")


def _x(recall: float) -> float:
    return LEFT + recall * (WIDTH - LEFT - RIGHT)


def _y(precision: float) -> float:
    return HEIGHT - BOTTOM - precision * (HEIGHT - TOP - BOTTOM)


def pr_chart(report: dict[str, Any]) -> str:
    """Return an SVG of precision over recall per matcher, the target and the recommendation."""
    target = float(report["settings"]["target_precision"])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11">',
        f"<title>Precision-recall, evaluation {int(report['id'])}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>',
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            f'<line x1="{_x(0):.1f}" y1="{_y(tick):.1f}" x2="{_x(1):.1f}" y2="{_y(tick):.1f}" '
            'stroke="#e2e8f0"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{_y(tick) + 4:.1f}" text-anchor="end">{tick:.2f}</text>'
        )
        parts.append(
            f'<text x="{_x(tick):.1f}" y="{HEIGHT - BOTTOM + 16}" '
            f'text-anchor="middle">{tick:.2f}</text>'
        )
    parts += [
        f'<text x="{(LEFT + WIDTH - RIGHT) / 2:.1f}" y="{HEIGHT - 12}" '
        'text-anchor="middle">recall</text>',
        f'<text x="14" y="{(TOP + HEIGHT - BOTTOM) / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {(TOP + HEIGHT - BOTTOM) / 2:.1f})">precision</text>',
        f'<line x1="{_x(0):.1f}" y1="{_y(target):.1f}" x2="{_x(1):.1f}" y2="{_y(target):.1f}" '
        'stroke="#e53e3e" stroke-dasharray="4 3"/>',
        f'<text x="{_x(1):.1f}" y="{_y(target) - 4:.1f}" text-anchor="end" fill="#e53e3e">'
        f"target {target:.2f}</text>",
    ]
    # Only the matchers at their configured knobs: sweep variants would bury the picture.
    drawn = [v for v in report["variants"] if v["name"] == v["matcher"]]
    for index, variant in enumerate(drawn):
        colour = COLOURS[index % len(COLOURS)]
        points = [(p[2], p[1]) for p in variant["curve"] if p[1] is not None and p[2] is not None]
        if points:
            path = " ".join(f"{_x(r):.1f},{_y(p):.1f}" for r, p in points)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        parts.append(
            f'<text x="{LEFT + 8}" y="{TOP - 10 + 14 * index + 14}" fill="{colour}">'
            f"{escape(variant['name'])}</text>"
        )
        rec = variant["recommendation"]
        if rec and rec["recall"] is not None and rec["precision"] is not None:
            parts.append(
                f'<circle cx="{_x(rec["recall"]):.1f}" cy="{_y(rec["precision"]):.1f}" r="4" '
                f'fill="{colour}"><title>threshold {rec["threshold"]:.2f}</title></circle>'
            )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
