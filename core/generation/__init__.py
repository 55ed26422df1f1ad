"""Producing the data rows and assertions: the provider interface, the offline provider, validation."""
