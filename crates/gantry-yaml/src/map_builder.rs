//! A mapping under construction, with a hash index so that big mappings stay linear to build.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use crate::node::keys_equal;
use crate::{Mapping, Node, Value};

/// Below this many entries a linear search is cheaper than hashing.
const INDEX_FROM: usize = 16;

/// Builds a [`Mapping`] with Ruby Hash semantics (see [`Mapping::insert`]).
#[derive(Debug, Default)]
pub(crate) struct MapBuilder {
    mapping: Mapping,
    /// Key hash to the position of the first entry with that hash.
    index: Option<HashMap<u64, usize>>,
}

impl MapBuilder {
    pub(crate) fn insert(&mut self, key: Node, value: Node) {
        let entries = &mut self.mapping.entries;
        if entries.len() < INDEX_FROM && self.index.is_none() {
            self.mapping.insert(key, value);
            return;
        }
        let index = self.index.get_or_insert_with(|| {
            let mut index = HashMap::with_capacity(entries.len() * 2);
            for (position, (k, _)) in entries.iter().enumerate() {
                index.entry(key_hash(&k.value)).or_insert(position);
            }
            index
        });
        let hash = key_hash(&key.value);
        match index.get(&hash) {
            None => {
                index.insert(hash, entries.len());
                entries.push((key, value));
            }
            Some(&position) if keys_equal(&entries[position].0.value, &key.value) => {
                entries[position].1 = value;
            }
            // Hash collision (or keys that never compare equal): fall back to a scan.
            Some(_) => self.mapping.insert(key, value),
        }
    }

    /// A copy of the entries so far.
    pub(crate) fn snapshot(&self) -> Mapping {
        self.mapping.clone()
    }

    pub(crate) fn into_mapping(self) -> Mapping {
        self.mapping
    }
}

/// A hash consistent with [`keys_equal`]: equal keys hash the same.
fn key_hash(value: &Value) -> u64 {
    let mut h = DefaultHasher::new();
    match value {
        Value::Str(s) | Value::Symbol(s) => {
            0_u8.hash(&mut h);
            s.hash(&mut h);
        }
        Value::Null => 1_u8.hash(&mut h),
        Value::Bool(b) => {
            2_u8.hash(&mut h);
            b.hash(&mut h);
        }
        Value::Int(i) => {
            3_u8.hash(&mut h);
            i.hash(&mut h);
        }
        Value::Float(f) => {
            4_u8.hash(&mut h);
            let bits = if *f == 0.0 {
                0
            } else if f.is_nan() {
                f64::NAN.to_bits()
            } else {
                f.to_bits()
            };
            bits.hash(&mut h);
        }
        Value::Seq(_) | Value::Map(_) | Value::Reference(_) => 5_u8.hash(&mut h),
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Span;

    fn n(v: Value) -> Node {
        Node::new(v, Span::synthetic("t"))
    }

    #[test]
    fn large_mappings_keep_ruby_hash_semantics() {
        let mut b = MapBuilder::default();
        for i in 0..100 {
            b.insert(n(Value::Str(format!("k{i}"))), n(Value::Int(i)));
        }
        b.insert(n(Value::Str("k3".into())), n(Value::Int(-3)));
        b.insert(n(Value::Int(3)), n(Value::Int(33)));
        b.insert(n(Value::Float(0.0)), n(Value::Int(1)));
        b.insert(n(Value::Float(-0.0)), n(Value::Int(2)));
        b.insert(n(Value::Symbol("k4".into())), n(Value::Int(-4)));
        let m = b.into_mapping();
        assert_eq!(m.len(), 102);
        assert!(matches!(m.entries[3].1.value, Value::Int(-3)));
        assert!(matches!(m.entries[4].1.value, Value::Int(-4)));
        assert!(matches!(m.entries[100].0.value, Value::Int(3)));
        assert!(matches!(m.entries[101].1.value, Value::Int(2)));
    }
}
