"""The data layer: every SQL statement of the product lives in this package.

One module per table (``sessions``, ``messages``, ``responses``,
``rate_limits``, ``settings_store``), plus ``stats`` for the dashboard's
aggregates and ``connection`` for opening, configuring and upgrading the file.
Functions are plain: they take an open connection and parameters, and every
statement is parameterised.
"""

from .connection import (  # noqa: F401
    SCHEMA_VERSION,
    SchemaError,
    close_db,
    connect,
    get_db,
    init_app,
    open_database,
    readable,
    transaction,
)
