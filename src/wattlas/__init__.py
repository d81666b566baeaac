"""wattlas: plan AI compute from the model down to the grid.

model → FLOPs → accelerators → racks → megawatts → grid region → requests.
"""

__version__ = "0.1.0"
