"""Small builders for test data that does not need a whole data dictionary."""

from engine.bench.scratch_line import make_scratch_line as make_line

__all__ = ["make_line"]
