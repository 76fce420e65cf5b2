"""csframe plugins."""
