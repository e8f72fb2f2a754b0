//! Integration tests of `store` (see the module for what it owns).
