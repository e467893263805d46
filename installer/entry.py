"""Entry point of the frozen build (PyInstaller runs this file as __main__)."""

from console.app import main

raise SystemExit(main())
