"""Device-side code: what runs on the applicant's machine or at the authority, never on the
server. Nothing here imports a web framework or a database (an import-linter contract)."""
