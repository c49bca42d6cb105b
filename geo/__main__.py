"""`python -m geo`: the command line for analysts and scheduled jobs."""

from geo.cli import main

raise SystemExit(main())
