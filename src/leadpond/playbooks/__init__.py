"""Playbooks as code: a workspace's whole marketing logic in one versioned YAML file."""
