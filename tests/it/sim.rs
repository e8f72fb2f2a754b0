//! Integration tests of `sim` (see the module for what it owns).
