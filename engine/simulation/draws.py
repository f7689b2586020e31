"""Random draws a population file describes: a fixed value, weighted choices, a lognormal or a uniform range.

One shape everywhere (amounts, response times, spent ratios, form fields):

    5                                   a fixed value
    {choices: [a, b], weights: [3, 1]}  weighted choices (equal weights when left out)
    {lognormal: {median: 4, sigma: 0.8}} a lognormal with that median
    {uniform: [1, 8]}                   uniform between the two
    ... plus optional min, max (clip) and jitter (an integer 0..jitter added)

``{value: weight, ...}`` (``{true: 0.2, false: 0.8}``) is shorthand for choices with weights.
"""

from __future__ import annotations

import math
import random
from typing import Any

SHAPES = ("choices", "lognormal", "uniform")


def normalise(spec: Any) -> Any:
    """The shorthand ``{value: weight}`` as ``{choices, weights}``; anything else unchanged."""
    if isinstance(spec, dict) and spec and not any(k in spec for k in (*SHAPES, "min", "max", "jitter")):
        return {"choices": list(spec), "weights": list(spec.values())}
    return spec


def draw(spec: Any, rng: random.Random) -> Any:
    """One value from ``spec`` (validated by the population schema)."""
    if not isinstance(spec, dict):
        return spec
    if "choices" in spec:
        value = rng.choices(spec["choices"], weights=spec.get("weights"))[0]
    elif "lognormal" in spec:
        shape = spec["lognormal"]
        value = rng.lognormvariate(math.log(shape["median"]), shape.get("sigma", 0.5))
    else:
        low, high = spec["uniform"]
        value = rng.uniform(low, high)
    if spec.get("jitter"):
        value += rng.randint(0, int(spec["jitter"]))
    if "min" in spec:
        value = max(value, spec["min"])
    if "max" in spec:
        value = min(value, spec["max"])
    return value


def weighted(shares: dict[str, float], rng: random.Random) -> str:
    """One key of ``shares``, by its weight."""
    return rng.choices(list(shares), weights=list(shares.values()))[0]
