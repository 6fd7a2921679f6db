"""Console users, their roles per workspace, and their login sessions."""
