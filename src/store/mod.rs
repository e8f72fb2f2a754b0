//! The local SQLite database: migrations and one module per table.
