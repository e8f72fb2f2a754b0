//! OS keychain access and the redacting `Secret` type. Nothing here logs a secret.
//!
//! - [`Secret`]: redacted Debug/Display, no `Serialize`, zeroed on drop.
//! - [`Keychain`]: the platform keychain under the app identifier; a missing entry is `None`.
//! - [`SecretSource`]: the config's `{ env = "X" }` / `{ keychain = "name" }`, and its
//!   resolver with errors that name the variable or entry and the fix.
//! - [`keys`]: add, list and remove stored credentials.

pub mod keychain;
pub mod keys;
mod secret;
mod source;

pub use keychain::{Keychain, KeychainError, SecretPart};
pub use secret::Secret;
pub use source::{ResolveError, SecretSource};
