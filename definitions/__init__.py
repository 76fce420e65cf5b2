"""csframe definitions."""
