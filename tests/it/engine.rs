//! Integration tests of `engine` (see the module for what it owns).
