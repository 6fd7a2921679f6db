"""The marketing content pool: items by stage and type, their H5 viewer, analytics and
next-best-content."""
