"""csframe core/cli."""
