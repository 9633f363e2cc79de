"""Online evaluation: scoring a sample of production generations in the background.

Entry points: `evaluator.OnlineEvaluator`, `configs` (per prompt and label).
"""
