//! Integration tests of `exchange` (see the module for what it owns).
