"""Library-wide analyzers: scheduled durable jobs that propose review items."""

from stash_sense.analyzers.base import Analyzer, AnalyzerRun, AnalyzerServices

__all__ = ["Analyzer", "AnalyzerRun", "AnalyzerServices"]
