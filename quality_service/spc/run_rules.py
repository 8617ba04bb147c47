"""Run rules on a chart's standardized points z = (point - centre) / sigma,
vectorized over the whole series (10,000 points in well under a millisecond
per rule). A rule flags the point that completes its pattern; a longer run
flags each further point too (as Minitab does), so a run of 11 above the centre
flags points 9, 10 and 11 under Nelson 2.

Nelson (1984) rules 1-8, and the four Western Electric zone rules (1956).
"""
import numpy as np

NELSON = {
    "nelson_1": "one point beyond 3 sigma",
    "nelson_2": "nine points in a row on one side of the centre line",
    "nelson_3": "six points in a row steadily increasing or decreasing",
    "nelson_4": "fourteen points in a row alternating up and down",
    "nelson_5": "two of three points in a row beyond 2 sigma on one side",
    "nelson_6": "four of five points in a row beyond 1 sigma on one side",
    "nelson_7": "fifteen points in a row within 1 sigma of the centre line",
    "nelson_8": "eight points in a row beyond 1 sigma, on both sides",
}
WESTERN_ELECTRIC = {
    "we_1": "one point beyond 3 sigma",
    "we_2": "two of three points in a row beyond 2 sigma on one side",
    "we_3": "four of five points in a row beyond 1 sigma on one side",
    "we_4": "eight points in a row on one side of the centre line",
}
RULE_SETS = {"nelson": NELSON, "western_electric": WESTERN_ELECTRIC}
DESCRIPTIONS = {**NELSON, **WESTERN_ELECTRIC}
LONGEST_PATTERN = 15   # points of history a new point's rules look back on


def _counts(mask, length):
    """How many of the `length` points ending at each point are in `mask` (0 before a full window)."""
    out = np.zeros(len(mask), dtype=np.int64)
    if len(mask) >= length:
        total = np.concatenate(([0], np.cumsum(mask, dtype=np.int64)))
        out[length - 1:] = total[length:] - total[:-length]
    return out


def _run(mask, length):
    return _counts(mask, length) == length


def _k_of(z, k, length, beyond):
    """k of `length` points in a row beyond `beyond` sigma on one side, the flagged point among them."""
    above, below = z > beyond, z < -beyond
    return ((_counts(above, length) >= k) & above) | ((_counts(below, length) >= k) & below)


def _trend(z, points):
    """`points` in a row each above (or each below) the one before."""
    flags = np.zeros(len(z), dtype=bool)
    if len(z) > 1:
        step = np.diff(z)
        flags[1:] = _run(step > 0, points - 1) | _run(step < 0, points - 1)
    return flags


def _alternating(z, points):
    """`points` in a row, each turning the direction of the one before."""
    flags = np.zeros(len(z), dtype=bool)
    if len(z) > 2:
        step = np.diff(z)
        flags[2:] = _run(step[:-1] * step[1:] < 0, points - 2)
    return flags


def _same_side(z, points):
    return _run(z > 0, points) | _run(z < 0, points)


def _beyond_both_sides(z, points):
    """`points` in a row beyond 1 sigma, some above and some below."""
    return (_run(np.abs(z) > 1, points) & (_counts(z > 1, points) > 0) & (_counts(z < -1, points) > 0))


_TESTS = {
    "nelson_1": lambda z: np.abs(z) > 3,
    "nelson_2": lambda z: _same_side(z, 9),
    "nelson_3": lambda z: _trend(z, 6),
    "nelson_4": lambda z: _alternating(z, 14),
    "nelson_5": lambda z: _k_of(z, 2, 3, 2),
    "nelson_6": lambda z: _k_of(z, 4, 5, 1),
    "nelson_7": lambda z: _run(np.abs(z) < 1, 15),
    "nelson_8": lambda z: _beyond_both_sides(z, 8),
    "we_1": lambda z: np.abs(z) > 3,
    "we_2": lambda z: _k_of(z, 2, 3, 2),
    "we_3": lambda z: _k_of(z, 4, 5, 1),
    "we_4": lambda z: _same_side(z, 8),
}


def evaluate(z, rule_set="nelson"):
    """{rule: indices of the points it flags} for the rules of `rule_set` that flag any."""
    z = np.asarray(z, dtype=float)
    found = {}
    for rule in RULE_SETS[rule_set]:
        flagged = np.flatnonzero(_TESTS[rule](z))
        if flagged.size:
            found[rule] = flagged
    return found
