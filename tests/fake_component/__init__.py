"""A component that lives outside ozg-commons' own packages, for the contract tests: it is
installed only through an entry point that the test puts on ``sys.path``."""
