"""``python -m mdnkit``: the command line (see :mod:`mdnkit.cli`)."""

from .cli import main

raise SystemExit(main())
