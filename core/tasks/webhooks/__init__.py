"""Webhooks: where task notices go (registry), in which format (formats), and how they get there (delivery)."""
