"""`supervisor` run as `python -m supervisor`: the same command line as the installed script."""

from supervisor.cli import main

main()
