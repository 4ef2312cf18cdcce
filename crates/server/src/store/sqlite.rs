//! The SQLite store. PLACEHOLDER: being written.

use super::StoreError;

/// The SQLite implementation of [`super::Store`].
#[derive(Debug)]
pub struct SqliteStore;

impl SqliteStore {
    /// Opens (creating when missing) the database at `url`.
    pub async fn open(url: &str) -> Result<SqliteStore, StoreError> {
        Err(StoreError::UnsupportedUrl(url.to_owned()))
    }
}
