"""Evaluation domain: datasets, suites, scorers, the runner, gates and promotion policies.

Entry points: `suites.publish_suite`, `runs.start_run`, `runner.Runner`, `policy.GatePolicy`.
"""
