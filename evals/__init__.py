"""Evaluation domain: datasets, suites, scorers, runner, gates, promotion policies, online evals.

Entry points: `suites.publish_suite`, `runs.start_run`, `runner.Runner`, `policy.GatePolicy`,
`online.OnlineEvaluator`.
"""
