//! The incident id as it appears in `/sync/{incident}` and as the storage key.

use std::fmt;

use crate::error::Error;

/// Longest accepted incident id, in bytes.
pub const MAX_INCIDENT_ID_LEN: usize = 64;

/// A validated incident id: 1 to 64 characters from `A-Z a-z 0-9 _ -`.
///
/// The restriction keeps ids safe to use in URLs, log lines and storage keys unescaped.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IncidentId(String);

impl IncidentId {
    /// Checks `raw` and wraps it, or says what a valid id looks like.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let valid_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
        if raw.is_empty() || raw.len() > MAX_INCIDENT_ID_LEN || !raw.chars().all(valid_char) {
            return Err(Error::InvalidIncidentId);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IncidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_alphabet() {
        for ok in ["a", "INC-2024_01", &"x".repeat(64), "0"] {
            assert_eq!(
                IncidentId::parse(ok).map(|id| id.to_string()).ok(),
                Some(ok.to_string())
            );
        }
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "",
            &"x".repeat(65),
            "a/b",
            "a b",
            "ünï",
            "a.b",
            "..",
            "a%2f",
            "<script>",
        ] {
            assert!(IncidentId::parse(bad).is_err(), "{bad:?} must be refused");
        }
    }
}
