"""Serving performance: the prefill/decode roofline (`roofline`), the capacity model
(`plan`), load curves, search, MoE serving, disaggregation, compression and scenario input."""
