"""Measuring a converted sine: its frequency, THD+N, and how far it lags an ideal one."""

from __future__ import annotations

from typing import Any

import numpy as np

Samples = np.ndarray[Any, Any]


def sine(hz: float, rate: int, seconds: float, channels: int, dbfs: float = -6.0) -> bytes:
    """Interleaved s16le, every channel the same sine."""
    n = np.arange(int(rate * seconds))
    x = np.round(32767 * 10 ** (dbfs / 20) * np.sin(2 * np.pi * hz * n / rate))
    return np.repeat(x.astype("<i2"), channels).tobytes()


def fit(x: Samples, hz: float, rate: int) -> tuple[Samples, float]:
    """Least-squares a*sin + b*cos + c at ``hz``: the fitted sine and its phase (radians)."""
    n = np.arange(len(x))
    w = 2 * np.pi * hz * n / rate
    basis = np.column_stack([np.sin(w), np.cos(w), np.ones_like(w)])
    coef, *_ = np.linalg.lstsq(basis, x.astype(float), rcond=None)
    return basis @ coef, float(np.arctan2(coef[1], coef[0]))


def thd_n_db(x: Samples, hz: float, rate: int) -> float:
    """Everything that is not the sine at ``hz`` (harmonics, noise, clicks) relative to it."""
    fitted, _ = fit(x, hz, rate)
    residual = x.astype(float) - fitted
    return float(20 * np.log10(np.sqrt(np.mean(residual**2)) / np.sqrt(np.mean(fitted**2))))


def lag_samples(x: Samples, start: int, hz: float, rate: int) -> float:
    """How many samples ``x[start:]`` lags sin(2*pi*hz*n/rate) sampled from n = 0."""
    _, phase = fit(x[start:], hz, rate)
    expected = (2 * np.pi * hz * start / rate + np.pi) % (2 * np.pi) - np.pi
    lag = ((expected - phase + np.pi) % (2 * np.pi) - np.pi) * rate / (2 * np.pi * hz)
    return float(lag)
