"""Normal forms of what people type: email addresses, phone numbers, company names, job titles.

Pure functions with no database: identity, accounts, profiles and imports all read through them.
"""
