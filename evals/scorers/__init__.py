"""Scorers of evaluation suites: deterministic, LLM-as-judge, RAG (ragas) and safety metrics.

Entry points: registry.build_scorers, validate_scorer_specs, judge_refs; base.Scorer, base.Score.
"""
