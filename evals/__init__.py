"""Evaluation domain: model calls, datasets, suites, scorers, runs, promotion, online, gateway.

Entry points: `suites.publish_suite`, `runs.service.start_run`, `runs.runner.Runner`,
`promotion.gate.GatePolicy`, `online.evaluator.OnlineEvaluator`, `llm.client.ModelClient`.
"""
