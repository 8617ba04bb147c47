"""Control charts, pure: a chart's points from the data, its limits from a
baseline window, each point standardized against limits for the run rules.

- xbar_r, xbar_s: subgroups of n measurements (a k x n array); the location
  series is each subgroup's mean, the dispersion series its range or standard
  deviation; sigma within = R-bar / d2 or S-bar / c4.
- imr: individual measurements and their moving ranges of two; sigma within =
  MR-bar / d2(2).
- p: fraction nonconforming of each inspection (d of n), limits per point
  from its n; c: defects per unit, Poisson limits.

Everything in float64 from the stored values: no rounding on the way.
"""
from dataclasses import dataclass

import numpy as np

from quality_service.spc import factors, run_rules

XBAR_R, XBAR_S, IMR, P, C = "xbar_r", "xbar_s", "imr", "p", "c"
VARIABLE = (XBAR_R, XBAR_S, IMR)
ATTRIBUTE = (P, C)
CHARTS = VARIABLE + ATTRIBUTE
SERIES = {XBAR_R: ("xbar", "r"), XBAR_S: ("xbar", "s"), IMR: ("x", "mr"), P: ("p", None), C: ("c", None)}
MIN_BASELINE = 20   # points: limits from fewer are not worth freezing (Montgomery: 20-25 subgroups)


def default_chart(kind, subgroup_size):
    """The chart a characteristic is watched on unless another is asked for."""
    if kind != "variable":
        return P
    return IMR if subgroup_size == 1 else XBAR_R if subgroup_size <= 10 else XBAR_S


def charts_for(kind, subgroup_size):
    if kind != "variable":
        return ATTRIBUTE
    return (IMR,) if subgroup_size == 1 else VARIABLE


@dataclass
class Series:
    """A chart's points in chart order. `values`: every measurement (capability)."""
    chart: str
    keys: list
    location: np.ndarray
    dispersion: np.ndarray | None = None
    sizes: np.ndarray | None = None
    values: np.ndarray | None = None

    def __len__(self):
        return len(self.keys)


def subgroup_series(chart, keys, subgroups):
    """X-bar/R or X-bar/S points of a k x n array of measurements."""
    data = np.asarray(subgroups, dtype=float)
    spread = np.ptp(data, axis=1) if chart == XBAR_R else np.std(data, axis=1, ddof=1)
    return Series(chart, list(keys), data.mean(axis=1), spread, values=data.ravel())


def individual_series(keys, values):
    x = np.asarray(values, dtype=float)
    moving = np.full(len(x), np.nan)
    moving[1:] = np.abs(np.diff(x))
    return Series(IMR, list(keys), x, moving, values=x)


def proportion_series(keys, nonconforming, inspected):
    d, n = np.asarray(nonconforming, dtype=float), np.asarray(inspected, dtype=float)
    return Series(P, list(keys), d / n, sizes=n)


def count_series(keys, defects):
    return Series(C, list(keys), np.asarray(defects, dtype=float))


def _band(centre, sigma, floor=None):
    lower = centre - 3 * sigma
    return {"centre": centre, "lcl": max(lower, floor) if floor is not None else lower,
            "ucl": centre + 3 * sigma, "sigma": sigma}


def compute_limits(series, subgroup_size):
    """Control limits from `series` (the baseline): {"location": band,
    "dispersion": band or None, "sigma_within": float or None} with a band
    {centre, lcl, ucl, sigma}; p limits depend on each point's size, so its
    band holds the centre only."""
    if len(series) == 0:
        raise ValueError("no points to compute limits from")
    chart = series.chart
    if chart in (XBAR_R, XBAR_S):
        n = subgroup_size
        spread = float(np.mean(series.dispersion))
        if chart == XBAR_R:
            sigma = spread / factors.d2(n)
            spread_sigma = spread * factors.d3(n) / factors.d2(n)
        else:
            c4 = factors.c4(n)
            sigma = spread / c4
            spread_sigma = spread * np.sqrt(1 - c4 ** 2) / c4
        return {"location": _band(float(np.mean(series.location)), sigma / np.sqrt(n)),
                "dispersion": _band(spread, float(spread_sigma), floor=0.0), "sigma_within": sigma}
    if chart == IMR:
        moving = float(np.nanmean(series.dispersion)) if len(series) > 1 else 0.0
        sigma = moving / factors.d2(2)
        return {"location": _band(float(np.mean(series.location)), sigma),
                "dispersion": _band(moving, moving * factors.d3(2) / factors.d2(2), floor=0.0),
                "sigma_within": sigma}
    if chart == P:
        p_bar = float(np.sum(series.location * series.sizes) / np.sum(series.sizes))
        return {"location": {"centre": p_bar, "lcl": None, "ucl": None, "sigma": None}, "dispersion": None,
                "sigma_within": None}
    c_bar = float(np.mean(series.location))
    return {"location": _band(c_bar, float(np.sqrt(c_bar)), floor=0.0), "dispersion": None, "sigma_within": None}


def point_limits(series, limits):
    """(sigma, lcl, ucl) of the location series at each point (arrays)."""
    band = limits["location"]
    if series.chart == P:
        p_bar = band["centre"]
        sigma = np.sqrt(p_bar * (1 - p_bar) / series.sizes)
        return sigma, np.maximum(p_bar - 3 * sigma, 0.0), np.minimum(p_bar + 3 * sigma, 1.0)
    count = len(series)
    return np.full(count, band["sigma"]), np.full(count, band["lcl"]), np.full(count, band["ucl"])


def standardized(series, limits):
    """z of each location point: its distance from the centre in sigmas (0 where sigma is 0)."""
    sigma, _, _ = point_limits(series, limits)
    distance = series.location - limits["location"]["centre"]
    return np.divide(distance, sigma, out=np.zeros(len(series)), where=sigma > 0)


def violations(series, limits, rule_set):
    """[(point index, series name, rule)] in point order: the run rules of
    `rule_set` on the location series; on the dispersion series a point
    beyond its limits (`r_beyond_limits`, ...)."""
    location_name, dispersion_name = SERIES[series.chart]
    found = [(int(i), location_name, rule)
             for rule, indices in run_rules.evaluate(standardized(series, limits), rule_set).items()
             for i in indices]
    if dispersion_name is not None and limits["dispersion"] is not None:
        band, spread = limits["dispersion"], series.dispersion
        outside = (spread > band["ucl"]) | ((band["lcl"] > 0) & (spread < band["lcl"]))
        found += [(int(i), dispersion_name, f"{dispersion_name}_beyond_limits")
                  for i in np.flatnonzero(np.nan_to_num(outside, nan=False))]
    return sorted(found)
