"""The scaling curve as a small PNG: claims per minute by runners against both baselines, and peak memory.

Left: portal-worker's claims/min for each runner count, the plain-HTTP lower bound and the naive
script as horizontal lines (each works one session at a time), and the run at the shipped pacing
as a single point. Right: portal-worker's peak PSS (the headline) and peak RSS (which counts
Chromium's shared pages once per process) by runners.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: write files only

import matplotlib.pyplot as plt  # after choosing the backend

from bench.report import Row


def scaling_chart(
    path: Path,
    curve: list[Row],
    *,
    naive: Row | None,
    http: Row | None,
    accounts: int,
    title: str,
    paced: Row | None = None,
) -> Path:
    runners = [row.runners or 0 for row in curve]
    fig, (speed, memory) = plt.subplots(1, 2, figsize=(11, 4.4), dpi=110)

    speed.plot(runners, [row.claims_per_min for row in curve], marker="o", label=f"portal-worker ({curve[0].db})")
    for row in curve:
        speed.annotate(
            f"{row.claims_per_min:.0f}",
            (row.runners or 0, row.claims_per_min),
            textcoords="offset points",
            xytext=(0, 7),
            ha="center",
            fontsize=8,
        )
    if paced is not None:
        speed.plot(
            [paced.runners or 0],
            [paced.claims_per_min],
            marker="s",
            linestyle="none",
            color="tab:purple",
            label=f"portal-worker, shipped pacing {paced.pace_s:g} s ({paced.claims_per_min:.0f})",
        )
    if http is not None:
        speed.axhline(
            http.claims_per_min,
            color="tab:green",
            linestyle="--",
            label=f"HTTP lower bound, 1 session at a time ({http.claims_per_min:.0f})",
        )
    if naive is not None:
        speed.axhline(
            naive.claims_per_min,
            color="tab:red",
            linestyle="--",
            label=f"naive script, browser+login per claim ({naive.claims_per_min:.0f})",
        )
    speed.set_ylabel("claims checked per minute")
    speed.set_title(title, fontsize=9)

    memory.plot(runners, [row.peak_pss_mb for row in curve], marker="o", color="tab:blue", label="peak PSS")
    memory.plot(
        runners,
        [row.peak_rss_mb for row in curve],
        marker="o",
        linestyle="--",
        color="tab:grey",
        label="peak RSS (shared pages once per process)",
    )
    for row in curve:
        memory.annotate(
            f"{row.peak_pss_mb:.0f}",
            (row.runners or 0, row.peak_pss_mb),
            textcoords="offset points",
            xytext=(0, 7),
            ha="center",
            fontsize=8,
        )
    memory.set_ylabel("peak memory of the worker's process tree, MB")
    memory.set_title(f"memory ({curve[0].db})", fontsize=9)

    ticks = sorted({*runners, accounts, *([paced.runners or 0] if paced is not None else [])})
    for ax in (speed, memory):
        ax.axvline(accounts, color="grey", linestyle=":", label=f"{accounts} portal accounts (1 session each)")
        ax.set_xscale("log", base=2)
        ax.set_xticks(ticks, [str(n) for n in ticks])
        ax.set_xlabel("runners")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
