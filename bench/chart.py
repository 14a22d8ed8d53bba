"""The scaling curve as a small PNG: portal-worker's claims per minute by runners, against both baselines."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: write files only

import matplotlib.pyplot as plt  # after choosing the backend

from bench.report import Row


def scaling_chart(
    path: Path, curve: list[Row], *, naive: Row | None, http: Row | None, accounts: int, title: str
) -> Path:
    runners = [row.runners or 0 for row in curve]
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    ax.plot(runners, [row.claims_per_min for row in curve], marker="o", label=f"portal-worker ({curve[0].db})")
    for row in curve:
        ax.annotate(
            f"{row.claims_per_min:.0f}",
            (row.runners or 0, row.claims_per_min),
            textcoords="offset points",
            xytext=(0, 7),
            ha="center",
            fontsize=8,
        )
    if http is not None:
        ax.axhline(
            http.claims_per_min,
            color="tab:green",
            linestyle="--",
            label=f"HTTP lower bound, 1 session ({http.claims_per_min:.0f})",
        )
    if naive is not None:
        ax.axhline(
            naive.claims_per_min,
            color="tab:red",
            linestyle="--",
            label=f"naive script, browser+login per claim ({naive.claims_per_min:.0f})",
        )
    ax.axvline(accounts, color="grey", linestyle=":", label=f"{accounts} portal accounts (1 session each)")
    ax.set_xscale("log", base=2)
    ax.set_xticks(runners, [str(n) for n in runners])
    ax.set_xlabel("runners")
    ax.set_ylabel("claims checked per minute")
    ax.set_ylim(bottom=0)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
