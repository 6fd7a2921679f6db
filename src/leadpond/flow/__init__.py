"""The pipeline's contracts every stage shares: the batch record and who hears that people changed.

Stages import this package; it imports no stage (only the event log's model).
"""
