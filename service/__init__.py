"""The FastAPI app, the search page and the CLI: the only package that knows HTTP."""
