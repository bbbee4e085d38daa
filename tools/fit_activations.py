#!/usr/bin/env python3
"""Fits the polynomial coefficients used by src/SimdRnn/Kernels/Activations.*.cs.

Two weighted minimax fits, both by Lawson's algorithm (iteratively re-weighted least squares, which
converges to the minimax solution of a linear approximation problem) on a dense Chebyshev-distributed grid:

  1. tanh on |x| <= T:  tanh(x) ~ x + x^3 * P(x^2), P of degree DEG_T, minimizing the RELATIVE error
     |x + x^3 P(x^2) - tanh x| / tanh x (so the approximation is relatively accurate down to x -> 0).
  2. expm1 on |r| <= ln2/2:  e^r - 1 ~ r + r^2 * Q(r), Q of degree DEG_E, minimizing the error RELATIVE to
     e^r - 1 (so tanh = m/(m+2), m = 2^n (e^r - 1) + 2^n - 1, is relatively accurate near 0; the 2^n scaling is exact).
     (Step 1 is no longer used by the kernels, which compute tanh from expm1 alone; it is kept for reference.)

The coefficients are rounded to float32, the rounded polynomial is re-evaluated in double precision and the
resulting max errors are printed together with C# literals (round-trip "R" format via repr of float32).

Usage: /usr/bin/python3 tools/fit_activations.py   (DEG_E=4 for the degree-6 exp polynomial used until 2026-11-27)
"""
import os

import numpy as np

T = 0.4             # tanh: threshold of the small-|x| polynomial branch
DEG_T = 3           # degree of P in s = x^2 (terms x^3 .. x^(2*DEG_T+3))
DEG_E = int(os.environ.get("DEG_E", "3"))  # degree of Q in r (total exp degree DEG_E + 2); DEG_E=4: the old degree 6
LN2 = np.log(2.0)


def chebyshev_grid(a, b, m):
    k = np.arange(m)
    return (a + b) / 2 + (b - a) / 2 * np.cos(np.pi * (k + 0.5) / m)


def lawson(basis, f, w, iters=400):
    """min_c max_i |w_i (f_i - basis_i . c)| by Lawson's iteratively re-weighted least squares."""
    m = len(f)
    lw = np.full(m, 1.0 / m)
    c = None
    for _ in range(iters):
        sw = np.sqrt(lw) * w
        c, *_ = np.linalg.lstsq(basis * sw[:, None], f * sw, rcond=None)
        e = np.abs(w * (f - basis @ c))
        lw = lw * e
        lw /= lw.sum()
    return c


def fit_tanh():
    # x in (0, T]; unknown P(s) = sum c_k s^k with s = x^2.
    x = chebyshev_grid(1e-4, T, 4000)
    s = x * x
    f = (np.tanh(x) - x) / x**3                  # the target of P
    w = x**3 / np.tanh(x)                        # turns an error in P into a relative error in tanh
    basis = np.vstack([s**k for k in range(DEG_T + 1)]).T
    c = lawson(basis, f, w)
    return c.astype(np.float32)


def fit_exp():
    r = chebyshev_grid(-LN2 / 2 * 1.02, LN2 / 2 * 1.02, 4000)   # a little wider: rounding of n
    r = r[np.abs(r) > 1e-6]
    f = (np.expm1(r) - r) / r**2                 # the target of Q
    w = r**2 / np.abs(np.expm1(r))               # turns an error in Q into an error relative to e^r - 1
    basis = np.vstack([r**k for k in range(DEG_E + 1)]).T
    c = lawson(basis, f, w)
    return c.astype(np.float32)


def horner(c, t):
    acc = np.zeros_like(t) + np.float64(c[-1])
    for k in range(len(c) - 2, -1, -1):
        acc = acc * t + np.float64(c[k])
    return acc


def lit(v):
    return repr(float(np.float32(v))) + "f"


def main():
    pt = fit_tanh()
    x = np.linspace(1e-7, T, 200001)
    approx = x + x**3 * horner(pt, x * x)
    rel = np.max(np.abs(approx - np.tanh(x)) / np.tanh(x))
    print(f"tanh: |x| <= {T}, P degree {DEG_T} in x^2: max relative error (float32 coefficients, exact arithmetic) {rel:.3e}")
    for k, v in enumerate(pt):
        print(f"    T{2 * k + 3} = {lit(v)}")

    pe = fit_exp()
    r = np.linspace(-LN2 / 2 * 1.02, LN2 / 2 * 1.02, 200001)
    r = r[r != 0]
    approx = r + r * r * horner(pe, r)
    rel = np.max(np.abs(approx - np.expm1(r)) / np.abs(np.expm1(r)))
    rel_exp = np.max(np.abs(approx - np.expm1(r)) / np.exp(r))
    print(f"expm1: |r| <= 1.02 ln2/2, total degree {DEG_E + 2}: max error relative to e^r-1 {rel:.3e}, "
          f"relative to e^r {rel_exp:.3e} (float32 coefficients, exact arithmetic)")
    for k, v in enumerate(pe):
        print(f"    E{k + 2} = {lit(v)}")


if __name__ == "__main__":
    main()
