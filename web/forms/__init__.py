"""Task forms: a JSON Schema drawn as an HTML form (``fields.build``), the submission turned back into
JSON by the schema's types (``parse.parse``), and the engine's refusals put next to their fields
(``problems.attach``). Checking stays the engine's (engine/domain/forms.py)."""

from web.forms.fields import BLANK_ROWS, Field, Option, build, walk
from web.forms.parse import ARRAYS_MARKER, UPLOAD_SUFFIX, Parsed, parse
from web.forms.problems import Problem, attach

__all__ = ["ARRAYS_MARKER", "BLANK_ROWS", "UPLOAD_SUFFIX", "Field", "Option", "Parsed", "Problem", "attach", "build",
           "parse", "walk"]
