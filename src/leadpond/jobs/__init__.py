"""The job layer: work that outlives a request, claimed from the ``job`` table with leases."""
