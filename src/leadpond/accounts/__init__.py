"""B2B accounts: companies, their keys, and the people who work there."""
