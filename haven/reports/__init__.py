"""The yearly figures: what the knowledge centre publishes about the chat.

The arithmetic lives in plain Python modules that do not import Django, so it can be
tested (and checked by hand) on its own:

* :mod:`.stats`: shares with their Wilson interval, and year-against-year comparisons;
* :mod:`.phrases`: a plain Dutch and English phrase for a share ("one in seven");
* :mod:`.disclosure`: statistical disclosure control for published output;
* :mod:`.charts`: server-side SVG charts.

The Django layer (the aggregate queries in :mod:`.selectors`, pages, commands) is built
around them.
"""
