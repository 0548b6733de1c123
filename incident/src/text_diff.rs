//! Turning "the textarea now says X" into the smallest splice of the shared text.

/// One splice: at `index` (UTF-16 code units), delete `delete` units and insert `insert`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Splice {
    pub index: u32,
    pub delete: u32,
    pub insert: String,
}

/// The single splice that turns `old` into `new`: the common prefix and suffix are kept, so
/// a keystroke becomes a one-character insert and concurrent edits elsewhere are untouched.
/// Indices count UTF-16 code units, as browsers and Yjs do; splits never fall inside a
/// character. Returns `None` when the two are equal.
pub fn splice_between(old: &str, new: &str) -> Option<Splice> {
    if old == new {
        return None;
    }
    let prefix_bytes = old
        .char_indices()
        .zip(new.chars())
        .find(|((_, a), b)| a != b)
        .map(|((i, _), _)| i)
        .unwrap_or_else(|| old.len().min(new.len()));
    let (old_rest, new_rest) = (&old[prefix_bytes..], &new[prefix_bytes..]);
    let suffix_bytes: usize = old_rest
        .chars()
        .rev()
        .zip(new_rest.chars().rev())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a.len_utf8())
        .sum();
    let deleted = &old_rest[..old_rest.len() - suffix_bytes];
    let inserted = &new_rest[..new_rest.len() - suffix_bytes];
    Some(Splice {
        index: utf16_len(&old[..prefix_bytes]),
        delete: utf16_len(deleted),
        insert: inserted.to_string(),
    })
}

/// Length of `s` in UTF-16 code units.
pub fn utf16_len(s: &str) -> u32 {
    s.encode_utf16().count() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(old: &str, s: &Splice) -> String {
        let units: Vec<u16> = old.encode_utf16().collect();
        let (i, d) = (s.index as usize, s.delete as usize);
        let mut out: Vec<u16> = units[..i].to_vec();
        out.extend(s.insert.encode_utf16());
        out.extend(&units[i + d..]);
        String::from_utf16(&out).unwrap()
    }

    #[test]
    fn a_keystroke_is_a_one_character_insert() {
        let s = splice_between("hello world", "hello, world").unwrap();
        assert_eq!(
            s,
            Splice {
                index: 5,
                delete: 0,
                insert: ",".into()
            }
        );
    }

    #[test]
    fn a_backspace_is_a_one_character_delete() {
        let s = splice_between("abc", "ac").unwrap();
        assert_eq!((s.index, s.delete, s.insert.as_str()), (1, 1, ""));
    }

    #[test]
    fn repeated_letters_still_give_a_correct_splice() {
        for (old, new) in [
            ("aaa", "aaaa"),
            ("abab", "ab"),
            ("", "x"),
            ("x", ""),
            ("aXa", "aa"),
        ] {
            let s = splice_between(old, new).unwrap();
            assert_eq!(apply(old, &s), new, "{old:?} -> {new:?}");
        }
    }

    #[test]
    fn indices_count_utf16_and_never_split_a_character() {
        // "🔥" is two UTF-16 units; "é" is one.
        let s = splice_between("🔥é", "🔥xé").unwrap();
        assert_eq!((s.index, s.delete), (2, 0));
        let s = splice_between("a🔥b", "a🔒b").unwrap();
        assert_eq!((s.index, s.delete, s.insert.as_str()), (1, 2, "🔒"));
        assert_eq!(apply("a🔥b", &s), "a🔒b");
    }

    #[test]
    fn equal_text_needs_no_splice() {
        assert_eq!(splice_between("same", "same"), None);
    }
}
