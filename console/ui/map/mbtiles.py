"""Raster tiles read from an MBTiles file (SQLite), for the map page to show with no server.

Plain Python and sqlite3, no Qt: the view's URL scheme handler asks ``MBTiles.tile`` for each
tile the page requests. MBTiles stores rows bottom-up (TMS); the page asks top-down (XYZ).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from console.ui.map.page import MapConfigError

MIME = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}


class MBTiles:
    """An MBTiles file opened read-only; ``MapConfigError`` naming ``key`` if it cannot be."""

    def __init__(self, path: Path, *, key: str = "map.basemap") -> None:
        self.path = Path(path)
        where = f"{key}: {self.path}"
        if not self.path.is_file():
            raise MapConfigError(f"{where}: file not found")
        try:
            self._db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
            rows = self._db.execute("SELECT name, value FROM metadata").fetchall()
            self._db.execute(
                "SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles LIMIT 1"
            )
        except sqlite3.Error as e:
            raise MapConfigError(f"{where} is not an MBTiles file ({e})") from None
        self.metadata = {str(k): str(v) for k, v in rows}
        fmt = self.metadata.get("format", "png").lower()
        if fmt not in MIME:
            raise MapConfigError(
                f"{where}: tiles in {fmt!r} format cannot be shown (png, jpg or webp only)"
            )
        self.mime = MIME[fmt]
        self.attribution = self.metadata.get("attribution", "")
        self.max_zoom = _int(self.metadata.get("maxzoom"), 19)
        self.min_zoom = _int(self.metadata.get("minzoom"), 0)

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile at XYZ ``z/x/y``, or None when the file has none there."""
        if z < 0 or z > 30 or not (0 <= x < (1 << z) and 0 <= y < (1 << z)):
            return None
        try:
            row = self._db.execute(
                "SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?",
                (z, x, (1 << z) - 1 - y),
            ).fetchone()
        except sqlite3.Error:
            return None
        return bytes(row[0]) if row and row[0] is not None else None

    def close(self) -> None:
        self._db.close()


def _int(value: str | None, default: int) -> int:
    try:
        return int(str(value))
    except ValueError:
        return default
