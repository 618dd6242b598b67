#!/usr/bin/env python3
"""Same as the ``haven`` command, for those used to ``manage.py``."""

from haven.cli import main

if __name__ == "__main__":
    main()
