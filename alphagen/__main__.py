"""`python -m alphagen ...` is the `alphagen` command (handy where the console script is not on PATH)."""

from alphagen.cli import main

main()
