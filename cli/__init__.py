"""The ``sohoa`` command line (``main``), the station client, the demo and the storage commands.

The top floor: it may import every other package, and none imports it.
"""
