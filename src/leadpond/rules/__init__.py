"""Tags, scores, lifecycle stages, key events and personas, applied by the pipeline."""
