"""The AufenthV fee catalogue: one TOML file per legal version (data, not code)."""
