//! Integration tests of `secrets` (see the module for what it owns).
