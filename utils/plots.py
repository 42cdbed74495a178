"""Plots used across the notebooks: datasets, cost curves and decision boundaries."""

from typing import Callable

import matplotlib.pyplot as plt
import numpy as np

CLASS_COLOURS = ("tab:blue", "tab:red")


def plot_dataset(X: np.ndarray, Y: np.ndarray, title: str, ax=None):
    """Scatter 2-D examples X (2, m) coloured by their label Y (1, m)."""
    ax = ax or plt.gca()
    for label, colour in enumerate(CLASS_COLOURS):
        chosen = Y[0] == label
        ax.scatter(X[0, chosen], X[1, chosen], s=12, c=colour, label=f"y = {label}", edgecolors="none")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title)
    ax.legend(loc="upper right")
    ax.set_aspect("equal")
    return ax


def plot_costs(costs: dict[str, list[float]], every: int, title: str, ax=None, log_scale: bool = False):
    """One line per run: costs[label][k] is the cost after k * `every` iterations."""
    ax = ax or plt.gca()
    for label, values in costs.items():
        ax.plot(np.arange(len(values)) * every, values, label=label)
    ax.set_xlabel("iteration")
    ax.set_ylabel("cost $J$")
    if log_scale:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.legend()
    return ax


def plot_decision_boundary(predict: Callable[[np.ndarray], np.ndarray], X: np.ndarray, Y: np.ndarray,
                           title: str, ax=None, resolution: int = 200):
    """Shade the regions where predict (taking (2, k) points, returning (1, k) labels) says 0 or 1."""
    ax = ax or plt.gca()
    pad = 0.25
    x1 = np.linspace(X[0].min() - pad, X[0].max() + pad, resolution)
    x2 = np.linspace(X[1].min() - pad, X[1].max() + pad, resolution)
    grid1, grid2 = np.meshgrid(x1, x2)
    labels = predict(np.stack([grid1.ravel(), grid2.ravel()])).reshape(grid1.shape)
    ax.contourf(grid1, grid2, labels, levels=[-0.5, 0.5, 1.5], colors=CLASS_COLOURS, alpha=0.25)
    plot_dataset(X, Y, title, ax=ax)
    return ax
