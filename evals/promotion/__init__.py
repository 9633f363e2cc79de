"""Promotion: the policies that gate labels, the gate itself, and the audit trail.

Entry points: `policy` (pins), `gate.GatePolicy`, `audit.verify_audit`.
"""
