"""The hand-written text format, the histogram and the engine's stage readers."""

from __future__ import annotations

import logging

import pytest

from stash_sense.metrics.histogram import Histogram
from stash_sense.metrics.stages import StageReaders, StageSample
from stash_sense.metrics.text import Exposition
from tests.metrics.exposition import parse, value


def test_label_values_and_help_are_escaped_and_read_back() -> None:
    out = Exposition()
    tricky = 'a "quoted" C:\\path\nand a second line'
    out.gauge("x_info", "Help with a \\ and a\nline feed.", [({"v": tricky, "w": ""}, 1)])
    text = out.text()
    # One sample line: the line feed inside the value is escaped, not written.
    assert text.count("\n") == 3
    assert 'v="a \\"quoted\\" C:\\\\path\\nand a second line"' in text
    families = parse(text)
    assert families["x_info"].help == "Help with a \\ and a\nline feed."
    assert value(families, "x_info", v=tricky, w="") == 1


def test_values_integers_floats_and_special() -> None:
    out = Exposition()
    out.gauge(
        "g",
        "Values.",
        [({"k": "i"}, 3), ({"k": "f"}, 0.25), ({"k": "b"}, True), ({"k": "inf"}, float("inf"))],
    )
    out.gauge("n", "Not a number.", [({}, float("nan"))])
    text = out.text()
    assert 'g{k="i"} 3\n' in text and 'g{k="b"} 1\n' in text and 'g{k="inf"} +Inf\n' in text
    assert "n NaN\n" in text
    families = parse(text)
    assert value(families, "g", k="f") == 0.25


def test_families_without_samples_still_declare_help_and_type() -> None:
    out = Exposition()
    out.counter("c_total", "Nothing yet.", [])
    assert out.text() == "# HELP c_total Nothing yet.\n# TYPE c_total counter\n"
    assert parse(out.text())["c_total"].type == "counter"


def test_histogram_buckets_are_cumulative_and_inclusive() -> None:
    histogram = Histogram([1, 0.5, 5])
    for v in (0.5, 0.7, 1.0, 3, 9, 0.1):
        histogram.observe(v)
    out = Exposition()
    out.histogram("d_seconds", "Durations.", [({"type": 'x"y'}, histogram.snapshot())])
    families = parse(out.text())
    # A value equal to a bound counts in that bound's bucket (le means <=).
    assert value(families, "d_seconds_bucket", type='x"y', le="0.5") == 2
    assert value(families, "d_seconds_bucket", type='x"y', le="1.0") == 4
    assert value(families, "d_seconds_bucket", type='x"y', le="5.0") == 5
    assert value(families, "d_seconds_bucket", type='x"y', le="+Inf") == 6
    assert value(families, "d_seconds_count", type='x"y') == 6
    assert value(families, "d_seconds_sum", type='x"y') == pytest.approx(14.3)


@pytest.mark.parametrize(
    ("kind", "name", "labels"),
    [
        ("gauge", "bad-name", {}),
        ("gauge", "ok", {"bad-label": "x"}),
        ("gauge", "ok", {"__reserved": "x"}),
        ("counter", "no_suffix", {}),
    ],
)
def test_invalid_names_are_refused(kind: str, name: str, labels: dict[str, str]) -> None:
    out = Exposition()
    with pytest.raises(ValueError, match=r"name|_total|label"):
        getattr(out, kind)(name, "Help.", [(labels, 1)])


def test_a_family_cannot_be_added_twice() -> None:
    out = Exposition()
    out.gauge("g", "Once.", [])
    with pytest.raises(ValueError, match="twice"):
        out.gauge("g", "Twice.", [])


def test_histogram_needs_finite_distinct_bounds() -> None:
    for bounds in ([], [1, float("inf")], [1, 1]):
        with pytest.raises(ValueError, match="bound"):
            Histogram(bounds)


def test_stage_readers_merge_and_survive_a_failing_reader(
    caplog: pytest.LogCaptureFixture,
) -> None:
    readers = StageReaders()

    def engine() -> list[StageSample]:
        return [StageSample("detect", 2.0, 10, 3, 4), StageSample("decode", 1.0, 5, 5, 0)]

    def other() -> list[StageSample]:
        return [StageSample("detect", 0.5, 2, 1, 1)]

    def broken() -> list[StageSample]:
        raise RuntimeError("engine stopped")

    readers.add(engine)
    readers.add(other)
    readers.add(broken)
    with caplog.at_level(logging.WARNING):
        first = readers.samples()
        second = readers.samples()
    assert (
        first
        == second
        == [
            StageSample("decode", 1.0, 5, 5, 0),
            StageSample("detect", 2.5, 12, 4, 5),
        ]
    )
    # Logged once, not at every scrape.
    assert [r.getMessage() for r in caplog.records].count(
        f"Stage metrics reader {broken!r} failed: engine stopped"
    ) == 1
    readers.remove(engine)
    readers.remove(broken)
    readers.remove(broken)  # a second removal is harmless
    assert readers.samples() == [StageSample("detect", 0.5, 2, 1, 1)]


@pytest.mark.parametrize(
    "text",
    [
        'g{v="a"b"} 1\n',  # an unescaped quote
        "# HELP g G.\n# TYPE g gauge\ng 1",  # no final line feed
        '# HELP g G.\n# TYPE g gauge\ng{v="x"} one\n',  # not a number
        "# TYPE g gauge\ng 1\n",  # TYPE without HELP
        "# HELP g G.\n# TYPE g gauge\nh 1\n",  # a sample of another family
        "# HELP c C.\n# TYPE c counter\nc 1\n",  # a counter not ending in _total
        '# HELP h H.\n# TYPE h histogram\nh_bucket{le="1.0"} 2\nh_bucket{le="+Inf"} 1\n'
        "h_count 1\nh_sum 1\n",  # buckets not cumulative
    ],
)
def test_the_reader_refuses_what_the_format_does_not_allow(text: str) -> None:
    with pytest.raises(AssertionError):
        parse(text)
