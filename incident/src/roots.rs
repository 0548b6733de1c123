//! The roots of the incident document: every top-level name, and whether it holds a map
//! (metadata, a structured section) or a text (a prose section). [`roots()`] is the one list
//! of the layout, made of the map roots registered in `lib.rs` and the prose sections: the
//! model creates the document from it, every map root gets a change counter from it, and the
//! tests and tools read it from `incident/tests/fixtures/roots.json`, which a test keeps
//! equal to it.

use std::cell::Cell;
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

/// A set of the document's roots (by their place in [`roots()`]): the roots a read looked
/// at ([`reading`]), or the roots changes touched ([`RootVersions::touched_since`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RootSet(u64);

impl RootSet {
    /// No root.
    pub const EMPTY: RootSet = RootSet(0);

    /// Every root.
    pub fn all() -> RootSet {
        RootSet((0..roots().len()).fold(0, |set, i| set | 1 << i))
    }

    /// The set of the one root called `name` (empty when no root is called that).
    pub fn of(name: &str) -> RootSet {
        roots()
            .iter()
            .position(|r| r.name == name)
            .map_or(RootSet::EMPTY, |i| RootSet(1 << i))
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether the root called `name` is in the set.
    pub fn contains(self, name: &str) -> bool {
        !RootSet::of(name).is_empty() && self.0 & RootSet::of(name).0 != 0
    }

    pub fn union(self, other: RootSet) -> RootSet {
        RootSet(self.0 | other.0)
    }

    /// The places in [`roots()`] of the roots in the set, in that order.
    pub fn indices(self) -> impl Iterator<Item = usize> {
        (0..64).filter(move |i| self.0 & 1 << i != 0)
    }

    /// The names of the roots in the set, in the order of [`roots()`].
    pub fn names(self) -> Vec<&'static str> {
        let all = roots();
        self.indices()
            .filter_map(|i| all.get(i).map(|r| r.name))
            .collect()
    }

    fn with(self, index: usize) -> RootSet {
        RootSet(self.0 | 1 << index)
    }
}

thread_local! {
    /// The roots looked at by the read running on this thread under [`reading`], if any.
    static READ: Cell<Option<RootSet>> = const { Cell::new(None) };
}

/// Runs `read` and says which roots of any incident it looked at: every content read goes
/// through a root's handle or change counter ([`RootRefs`]), so a view that shows the result
/// needs to read it again only when one of those roots changed. Reads nest: an inner read's
/// roots count for the outer one too.
pub fn reading<T>(read: impl FnOnce() -> T) -> (T, RootSet) {
    let outer = READ.with(|r| r.replace(Some(RootSet::EMPTY)));
    let value = read();
    let looked = READ.with(|r| r.get()).unwrap_or_default();
    READ.with(|r| r.set(outer.map(|o| o.union(looked))));
    (value, looked)
}

/// Notes that the running read (if any) looked at the root at `index` of [`roots()`].
fn looked_at(index: usize) {
    READ.with(|r| {
        if let Some(set) = r.get() {
            r.set(Some(set.with(index)));
        }
    });
}

/// Every root's change counter at one moment ([`crate::Incident::root_versions`]); comparing
/// two says which roots changed in between, whoever changed them (here, another tab, the
/// relay).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RootVersions(Vec<u64>);

impl RootVersions {
    /// Only the counters of the roots in `set` (the others read as unchanged): equal to an
    /// earlier one so restricted when no root of `set` changed in between.
    pub fn restricted_to(&self, set: RootSet) -> RootVersions {
        RootVersions(
            self.0
                .iter()
                .enumerate()
                .map(|(i, v)| if set.0 & 1 << i != 0 { *v } else { 0 })
                .collect(),
        )
    }

    /// The roots whose counter moved since `earlier` (every root when `earlier` is empty).
    pub fn touched_since(&self, earlier: &RootVersions) -> RootSet {
        self.0
            .iter()
            .enumerate()
            .filter(|(i, v)| earlier.0.get(*i) != Some(v))
            .fold(RootSet::EMPTY, |set, (i, _)| set.with(i))
    }
}

/// The document's roots, created once, each with its change counter.
pub(crate) struct RootRefs {
    maps: Vec<(&'static str, MapRef)>,
    texts: Vec<(&'static str, TextRef)>,
    /// One counter per root, in the order of [`roots()`] (the maps, then the texts).
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
        debug_assert!(maps.len() + texts.len() <= 64, "a RootSet holds 64 roots");
        let versions: Arc<[AtomicU64]> = (0..maps.len() + texts.len())
            .map(|_| AtomicU64::new(0))
            .collect();
        // Each lives as long as the document: never unobserved.
        for (i, (_, map)) in maps.iter().enumerate() {
            let versions = Arc::clone(&versions);
            map.observe_deep("firebreak-versions", move |_, _| {
                versions[i].fetch_add(1, Ordering::Relaxed);
            });
        }
        for (i, (_, text)) in texts.iter().enumerate() {
            let versions = Arc::clone(&versions);
            let i = maps.len() + i;
            text.observe_deep("firebreak-versions", move |_, _| {
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
        let i = self.map_index(name);
        looked_at(i);
        &self.maps[i].1
    }

    pub(crate) fn text(&self, name: &str) -> &TextRef {
        let i = self
            .texts
            .iter()
            .position(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("the text root {name:?} is not registered in roots.rs"));
        looked_at(self.maps.len() + i);
        &self.texts[i].1
    }

    pub(crate) fn version(&self, name: &str) -> u64 {
        let i = self.map_index(name);
        looked_at(i);
        self.versions[i].load(Ordering::Relaxed)
    }

    /// Every root's counter now.
    pub(crate) fn versions(&self) -> RootVersions {
        RootVersions(
            self.versions
                .iter()
                .map(|v| v.load(Ordering::Relaxed))
                .collect(),
        )
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
