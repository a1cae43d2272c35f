"""Prometheus metrics: the text format, in-memory histograms, and what a scrape reads.

`histogram.py` and `stages.py` import nothing from the rest of the daemon, so any
domain may feed them without an import cycle.
"""
