//! The roots of the incident document: every top-level name, and whether it holds a map
//! (metadata, a structured section) or a text (a prose section). [`roots()`] is the one list
//! of the layout, made of the map roots registered in `lib.rs` and the prose sections: the
//! model creates the document from it, every map root gets a change counter from it, and the
//! tests and tools read it from `incident/tests/fixtures/roots.json`, which a test keeps
//! equal to it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use yrs::{DeepObservable, Doc, MapRef, TextRef};

use crate::{ProseSection, MAP_ROOTS};

/// What a root holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RootKind {
    /// A map: the metadata, or a structured section's entries by id.
    Map,
    /// A text: a prose section, merged character by character.
    Text,
}

impl RootKind {
    /// The name used in `roots.json`.
    pub fn key(self) -> &'static str {
        match self {
            RootKind::Map => "map",
            RootKind::Text => "text",
        }
    }
}

/// One top-level name of the document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Root {
    pub name: &'static str,
    pub kind: RootKind,
}

/// Every root of the incident document: the maps, then the prose sections in page order.
pub fn roots() -> Vec<Root> {
    let maps = MAP_ROOTS.iter().map(|&name| Root {
        name,
        kind: RootKind::Map,
    });
    let texts = ProseSection::ALL.into_iter().map(|section| Root {
        name: section.key(),
        kind: RootKind::Text,
    });
    maps.chain(texts).collect()
}

/// The document's roots, created once, each map with its change counter.
pub(crate) struct RootRefs {
    maps: Vec<(&'static str, MapRef)>,
    texts: Vec<(&'static str, TextRef)>,
    /// One counter per map, in the order of `maps`.
    versions: Arc<[AtomicU64]>,
}

impl RootRefs {
    /// Creates every root of `doc` and starts counting changes to each map.
    pub(crate) fn create(doc: &Doc) -> Self {
        let mut maps = Vec::new();
        let mut texts = Vec::new();
        for root in roots() {
            match root.kind {
                RootKind::Map => maps.push((root.name, doc.get_or_insert_map(root.name))),
                RootKind::Text => texts.push((root.name, doc.get_or_insert_text(root.name))),
            }
        }
        let versions: Arc<[AtomicU64]> = maps.iter().map(|_| AtomicU64::new(0)).collect();
        for (i, (_, map)) in maps.iter().enumerate() {
            let versions = Arc::clone(&versions);
            // Lives as long as the document: never unobserved.
            map.observe_deep("firebreak-versions", move |_, _| {
                versions[i].fetch_add(1, Ordering::Relaxed);
            });
        }
        RootRefs {
            maps,
            texts,
            versions,
        }
    }

    fn map_index(&self, name: &str) -> usize {
        self.maps
            .iter()
            .position(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("the map root {name:?} is not registered in roots.rs"))
    }

    pub(crate) fn map(&self, name: &str) -> &MapRef {
        &self.maps[self.map_index(name)].1
    }

    pub(crate) fn text(&self, name: &str) -> &TextRef {
        self.texts
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, text)| text)
            .unwrap_or_else(|| panic!("the text root {name:?} is not registered in roots.rs"))
    }

    pub(crate) fn version(&self, name: &str) -> u64 {
        self.versions[self.map_index(name)].load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_names_are_unique() {
        let mut names: Vec<_> = roots().iter().map(|r| r.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), roots().len());
    }
}
