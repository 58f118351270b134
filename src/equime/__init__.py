"""EquiME: synthetic, demographically fair micro-expression video datasets."""

__version__ = "0.1.0"
