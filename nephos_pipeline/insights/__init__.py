"""Insights: measured findings (numbers from SQL statistics) turned into words.

The analyses compute every number; this package only narrates them. A deterministic
narrative always exists, and an LLM narrative is used only when its output passes
validation, because model output is untrusted input that ends up on a dashboard.
"""
