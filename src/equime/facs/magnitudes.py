"""How far each Action Unit moves the face at FACS intensity E (1.0): one number per AU, shared by
every motion source of the warp generator and by the read-outs that turn motion back into
intensity, so "intensity 1.0" means the same displacement everywhere.

Units are inter-ocular distances (IOD; 1 IOD ~ 63 mm, the adult mean interpupillary distance,
Dodgson 2004, "Variation and extrema of human interpupillary distance"): the largest landmark
displacement of the AU's motion at E. Directions follow the FACS manual's appearance changes
(Ekman, Friesen & Hager 2002). Magnitudes: 3-D motion studies of maximal voluntary movements in
healthy adults put the largest displacements at the mouth (lip corners in a maximal smile, about
1 cm) and a few mm at the brows and lids (Coulson et al. 2000, Ann Otol Rhinol Laryngol 109:478;
Sforza et al. 2010, J Craniomaxillofac Surg 38:409); each AU's E motion is set inside that range
for its region, as below ("mm" at 63 mm per IOD).
"""

from __future__ import annotations

E_DISPLACEMENT: dict[int, float] = {
    1: 0.13,
    2: 0.13,
    4: 0.1077,
    5: 0.07,
    6: 0.07,
    7: 0.045,
    9: 0.08,
    10: 0.08,
    12: 0.136,
    14: 0.0608,
    15: 0.10,
    16: 0.07,
    17: 0.06,
    20: 0.1044,
    23: 0.035,
    24: 0.035,
    25: 0.05,
    26: 0.13,
}

E_SOURCE: dict[int, str] = {
    1: "inner brow lift ~8 mm (brow lifts of 3-D studies)",
    2: "outer brow lift ~8 mm (as AU1)",
    4: "brow lowered and drawn in ~7 mm (brow range of 3-D studies)",
    5: "upper lid lift ~4 mm (lid aperture grows by a few mm)",
    6: "cheek / lower lid lift ~4 mm (infraorbital markers in smiles)",
    7: "lower lid lift ~3 mm (lid tightening narrows the aperture)",
    9: "nose wing lift ~5 mm (alar markers in sneers)",
    10: "upper lip lift ~5 mm",
    12: "lip corner up and out ~9 mm (commissure in maximal smiles, ~1 cm)",
    14: "lip corner in ~4 mm",
    15: "lip corner down ~6 mm",
    16: "lower lip down ~4 mm",
    17: "chin boss up ~4 mm",
    20: "lip corner out ~6 mm",
    23: "lips narrowed ~2 mm each, corners drawn in ~2 mm",
    24: "lips pressed ~2 mm each",
    25: "lower lip parts ~3 mm",
    26: "chin down ~8 mm (a slight jaw drop; AU27 is the wide one)",
}
