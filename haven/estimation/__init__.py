"""Multiple systems estimation: how many victims no register sees.

The computation lives in plain Python modules that do not import Django (``table``,
``loglinear``, ``selection``, ``bootstrap``, ``mse``, ``render``); the ``estimate`` management
command is a thin layer around :func:`haven.estimation.mse.estimate`. ``docs/estimation.md``
describes the method and its limits.
"""
