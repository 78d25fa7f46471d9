"""The data-protection audit trail.

Every access to personal data is recorded here in a tamper-evident, verifiable log that
data-protection officers audit and applicants can see.

Other packages use only what this module exports.
"""
