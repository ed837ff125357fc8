"""The label set and the rules: knowledge kept as data files in data/."""
