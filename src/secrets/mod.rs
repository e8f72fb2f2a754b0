//! OS keychain access and the redacting `Secret` type. Nothing here logs a secret.
