//! Where CopyDesk keeps its data, as the shells see it: re-exported from the store, which
//! owns the data directory (the keychain shares its identifier from there too).

pub use crate::store::paths::{data_dir, APP_IDENTIFIER, DATA_DIR_ENV};
