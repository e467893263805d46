"""Entry point of ``responder-console`` (and ``python -m console``).

The command line itself is console.cli: one module per subcommand.
"""

from __future__ import annotations

from console.cli import build_parser, main

__all__ = ["build_parser", "main"]

if __name__ == "__main__":
    raise SystemExit(main())
