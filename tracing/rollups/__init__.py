"""Rollups: aggregates of generations per time bucket, kept as generations are written.

Entry points: `write.apply` (add or subtract rows, in the writer's transaction) and
`read.aggregate` (the groups of a time range, O(buckets)); `histogram` holds the percentiles.
"""
