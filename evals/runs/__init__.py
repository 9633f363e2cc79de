"""Runs: one suite on one prompt version, executed under a lease, with a verdict.

Entry points: `service` (start, read, cancel, resume, compare), `runner.Runner`, `executor`,
`verdict` (gate conditions and the baseline bootstrap).
"""
