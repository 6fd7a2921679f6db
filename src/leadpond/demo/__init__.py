"""The demo workspace: a generated B2B world (people, companies, journeys) with its ground truth."""
