"""Training performance: layout rules, memory, step time (`step`), MoE and sharding,
the layout search, software years and fitted constants."""
