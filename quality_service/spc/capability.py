"""Process capability and performance of a variable characteristic.

Cp, Cpk use sigma within subgroups (from the chart: R-bar/d2, S-bar/c4,
MR-bar/d2); Pp, Ppk the overall sample standard deviation (n - 1). A
one-sided tolerance has no Cp/Pp, and its Cpk/Ppk is the one side's.
"""
import numpy as np


def _indices(mean, sigma, lower, upper):
    if not sigma or sigma <= 0:
        return None, None
    spread = (upper - lower) / (6 * sigma) if lower is not None and upper is not None else None
    sides = [x for x in ((upper - mean) / (3 * sigma) if upper is not None else None,
                         (mean - lower) / (3 * sigma) if lower is not None else None) if x is not None]
    return spread, min(sides) if sides else None


def capability(values, lower, upper, sigma_within):
    """{count, mean, sigma_within, sigma_overall, cp, cpk, pp, ppk} of `values`
    against the specification limits `lower`/`upper` (None: no limit)."""
    values = np.asarray(values, dtype=float)
    count = int(values.size)
    if count < 2:
        return {"count": count, "mean": float(values.mean()) if count else None, "sigma_within": sigma_within,
                "sigma_overall": None, "cp": None, "cpk": None, "pp": None, "ppk": None}
    mean, overall = float(values.mean()), float(values.std(ddof=1))
    cp, cpk = _indices(mean, sigma_within, lower, upper)
    pp, ppk = _indices(mean, overall, lower, upper)
    return {"count": count, "mean": mean, "sigma_within": sigma_within, "sigma_overall": overall,
            "cp": cp, "cpk": cpk, "pp": pp, "ppk": ppk}
