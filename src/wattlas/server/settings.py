"""Settings of the planning service that the command line needs without the web stack."""

DEFAULT_URL = "sqlite:///wattlas-server.db"
