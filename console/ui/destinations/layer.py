"""The map's destination layer: what the page is sent for each destination."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from console.domain.destinations import CapacityReport, DestinationSet, StatusCache, board_rows


def layer_items(
    destinations: DestinationSet,
    capacity: Mapping[str, CapacityReport],
    now: datetime,
    statuses: StatusCache | None = None,
) -> list[dict[str, Any]]:
    """One marker per destination: where, open / closing soon / closed, and its tooltip lines
    (name, kind, hours, capacity with its age, criteria)."""
    out = []
    for row in sorted(board_rows(destinations, capacity, now, statuses), key=lambda r: r.id):
        d = row.destination
        tip = [
            d.name + (" (sample data)" if d.sample and "sample" not in d.name.lower() else ""),
            f"{d.kind.label} — {row.status_text}",
            f"Capacity: {row.capacity_text}" + ("" if row.accepting else " — not accepting"),
            " · ".join(meaning for _sym, meaning in row.badges),
        ]
        if d.phone:
            tip.append(f"Phone: {d.phone}")
        out.append(
            {
                "id": d.id,
                "lat": round(d.lat, 5),
                "lon": round(d.lon, 5),
                "state": row.state.value,
                "label": d.name,
                "tip": tip,
            }
        )
    return out
