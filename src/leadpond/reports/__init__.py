"""Reports: rollups the pipeline keeps as it goes, so counts over a million people stay fast."""
