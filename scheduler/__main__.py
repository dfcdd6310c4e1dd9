"""`python -m scheduler`: the same as the `scheduler` command."""

from scheduler.cli import main

if __name__ == "__main__":  # not when `scheduler serve --processes` spawns a server process
    raise SystemExit(main())
