"""How the evidence stages and the risk-of-bias judgements look in every picture: the stages'
short labels and colours, the judgements' colours.

The figures (matplotlib) and the evidence map page (plotly.js) share them; this module imports
no plotting library, so the evidence map's job does not pay matplotlib's import for a few maps.
"""

from __future__ import annotations

from exosynth.quality_terms import HIGH, LOW, UNCLEAR

STAGE_LABELS = {"in_vitro": "In vitro", "animal": "Animal", "clinical": "Clinical"}
# Okabe & Ito (2008) colours, light to dark.
STAGE_COLOURS = {"in_vitro": "#56B4E9", "animal": "#E69F00", "clinical": "#0072B2"}
# The robvis figures' judgement colours (Okabe & Ito): low, unclear, high risk of bias.
JUDGEMENT_COLOURS = {LOW: "#009E73", UNCLEAR: "#F0E442", HIGH: "#D55E00"}
