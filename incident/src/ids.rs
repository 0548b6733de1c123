//! Fresh ids for incidents and entries, from randomness the caller supplies.

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A 26-character lowercase id (Crockford base32 of 128 random bits). Safe in a URL path,
/// a map key and a file name.
pub fn new_id(random: [u8; 16]) -> String {
    let mut value = u128::from_be_bytes(random);
    let mut out = [0u8; 26];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(value & 31) as usize];
        value >>= 5;
    }
    out.iter().map(|&b| b as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_26_url_safe_characters_and_differ_with_the_input() {
        let a = new_id([0; 16]);
        let b = new_id([0xff; 16]);
        assert_eq!(a.len(), 26);
        assert_eq!(b.len(), 26);
        assert_ne!(a, b);
        assert!(b
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
    }
}
