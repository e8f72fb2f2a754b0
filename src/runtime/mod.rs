//! Tokio tasks that drive the engine: one supervisor per copy, the journal (outbox),
//! stream reconnect and resync, the injected clock, notifications out.
