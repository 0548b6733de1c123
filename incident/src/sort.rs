//! Stable sorting through one compiled copy of the standard sort.
//!
//! The standard library's stable sort is compiled anew for every element type and every
//! comparison closure, some 4 KB of wasm each; the app sorted through about forty of them.
//! These helpers sort a list of positions with a comparison passed by reference (one copy
//! in the whole app) and then move the items into that order: the same result as
//! `slice::sort_by` (stable, equal items keep their order) for a few bytes per call site.

use std::cmp::Ordering;

/// Like `items.sort_by(compare)`: stable.
pub fn sort_by<T>(items: &mut [T], mut compare: impl FnMut(&T, &T) -> Ordering) {
    if items.len() < 2 {
        return;
    }
    let mut order: Vec<usize> = (0..items.len()).collect();
    sort_positions(&mut order, &mut |a, b| compare(&items[a], &items[b]));
    permute(items, &order);
}

/// Like `items.sort_by_key(key)`: stable.
pub fn sort_by_key<T, K: Ord>(items: &mut [T], mut key: impl FnMut(&T) -> K) {
    sort_by(items, |a, b| key(a).cmp(&key(b)));
}

/// Like `items.sort_by_cached_key(key)`: each key computed once, stable.
pub fn sort_by_cached_key<T, K: Ord>(items: &mut [T], key: impl FnMut(&T) -> K) {
    if items.len() < 2 {
        return;
    }
    let keys: Vec<K> = items.iter().map(key).collect();
    let mut order: Vec<usize> = (0..items.len()).collect();
    sort_positions(&mut order, &mut |a, b| keys[a].cmp(&keys[b]));
    permute(items, &order);
}

/// Like `items.sort()`: stable.
pub fn sort<T: Ord>(items: &mut [T]) {
    sort_by(items, T::cmp);
}

/// The one instance of the standard stable sort.
#[inline(never)]
fn sort_positions(order: &mut [usize], compare: &mut dyn FnMut(usize, usize) -> Ordering) {
    order.sort_by(|&a, &b| compare(a, b));
}

/// Puts `items` in `order` (`order[i]`: the position now of the item that goes to `i`).
fn permute<T>(items: &mut [T], order: &[usize]) {
    // `at[k]`: where the item first at `k` is now; `held[p]`: which first item is at `p`.
    let mut at: Vec<usize> = (0..items.len()).collect();
    let mut held: Vec<usize> = (0..items.len()).collect();
    for (i, &wanted) in order.iter().enumerate() {
        let from = at[wanted];
        if from != i {
            items.swap(i, from);
            let displaced = held[i];
            held[from] = displaced;
            at[displaced] = from;
            held[i] = wanted;
            at[wanted] = i;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_order_as_the_standard_stable_sort() {
        let mut seed = 7_u32;
        for len in [0, 1, 2, 3, 10, 100, 1000] {
            let items: Vec<(u8, u32)> = (0..len)
                .map(|i| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    ((seed >> 16) as u8 % 7, i)
                })
                .collect();
            let mut expected = items.clone();
            expected.sort_by_key(|&(k, _)| k);
            let mut got = items.clone();
            sort_by_key(&mut got, |&(k, _)| k);
            assert_eq!(got, expected, "len {len}");
            let mut got = items.clone();
            sort_by_cached_key(&mut got, |&(k, _)| k);
            assert_eq!(got, expected, "len {len}");
            let mut got = items.clone();
            sort_by(&mut got, |a, b| b.0.cmp(&a.0));
            expected.sort_by_key(|&(k, _)| std::cmp::Reverse(k));
            assert_eq!(got, expected, "len {len}");
            let mut got = items.clone();
            sort(&mut got);
            expected.sort();
            assert_eq!(got, expected, "len {len}");
        }
    }
}
