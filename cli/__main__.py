"""``python -m cli``: the ``sohoa`` command."""

from cli.main import main

main()
