"""Signed webhooks: endpoints admins register, and the delivery of outbox events to them.

Entry points: `service` (endpoints, deliveries, redelivery), `outbox.fan_out` and
`dispatcher.Dispatcher` (delivery with leases and retries), `signing` (Standard Webhooks).
"""
