import pytest

from wattlas import catalog


@pytest.fixture(autouse=True)
def _no_user_catalog_leak():
    """User catalog rows are process-wide; keep each test independent."""
    yield
    catalog.clear_user_rows()
