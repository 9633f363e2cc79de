"""Evaluation domain: datasets, suites, scorers, runs and promotion gates.

Empty until the evaluation work lands; the prompt registry's label policy is its plug-in point.
"""
