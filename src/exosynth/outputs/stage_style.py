"""How the evidence stages look in every picture: their short labels and colours.

The figures (matplotlib) and the evidence map page (plotly.js) share them; this module imports
no plotting library, so the evidence map's job does not pay matplotlib's import for two maps.
"""

from __future__ import annotations

STAGE_LABELS = {"in_vitro": "In vitro", "animal": "Animal", "clinical": "Clinical"}
# Okabe & Ito (2008) colours, light to dark.
STAGE_COLOURS = {"in_vitro": "#56B4E9", "animal": "#E69F00", "clinical": "#0072B2"}
