"""csframe core."""
