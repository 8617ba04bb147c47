"""Control chart factors of normal samples of size n, computed rather than
copied from a printed table (whose 3-4 decimals would round every limit):

- d2(n) = E[R]/sigma, the mean relative range;
- d3(n) = sd(R)/sigma;
- c4(n) = E[s]/sigma.

d2 and d3 integrate the distribution of the range of n standard normals
(Montgomery, Introduction to SQC, 8th ed., appendix VI gives the rounded values
the tests compare with); c4 is closed-form. Cached: a size is integrated once
per process (d3 takes ~0.25 s).
"""
import math
from functools import lru_cache

import numpy as np
from scipy import integrate, special

MIN_SIZE, MAX_SIZE = 2, 25
_TOLERANCE = {"epsabs": 1e-12, "epsrel": 1e-12}


def _check(n):
    if not MIN_SIZE <= n <= MAX_SIZE:
        raise ValueError(f"subgroup size {n} outside {MIN_SIZE}..{MAX_SIZE}")


@lru_cache(maxsize=None)
def d2(n):
    _check(n)
    if n == 2:
        return 2 / math.sqrt(math.pi)   # exact: the mean of |X1 - X2|
    value, _ = integrate.quad(lambda x: 1 - special.ndtr(-x) ** n - special.ndtr(x) ** n, -np.inf, np.inf,
                              **_TOLERANCE)
    return value


@lru_cache(maxsize=None)
def d3(n):
    _check(n)

    def joint(x, y):   # P(min < x, max > y) complement terms, x < y (Tippett 1925)
        return 1 - special.ndtr(y) ** n - special.ndtr(-x) ** n + (special.ndtr(y) - special.ndtr(x)) ** n

    second_moment, _ = integrate.dblquad(joint, -np.inf, np.inf, lambda y: -np.inf, lambda y: y,
                                         epsabs=1e-11, epsrel=1e-11)
    return math.sqrt(2 * second_moment - d2(n) ** 2)


@lru_cache(maxsize=None)
def c4(n):
    _check(n)
    return math.sqrt(2 / (n - 1)) * math.exp(special.gammaln(n / 2) - special.gammaln((n - 1) / 2))
