"""csframe adapters."""
