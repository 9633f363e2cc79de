"""Monitors: a label's gate re-checked on a schedule or production signals watched, incidents.

Entry points: `service` (monitors as data), `scheduler.Scheduler.tick`, `incidents`.
"""
