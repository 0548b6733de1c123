//! The model's one error type.

/// What can go wrong when an incident document is read or changed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ModelError {
    /// The bytes are not a Yjs v1 update (or state vector) this document can use.
    #[error("the update could not be read: {0}")]
    BadUpdate(String),
    /// The document was written by a newer Firebreak; editing it here could lose fields.
    #[error(
        "this incident was written by a newer version of Firebreak (schema {found}; this one \
         knows up to {supported}); reload to get the new version"
    )]
    NewerSchema { found: u32, supported: u32 },
}
