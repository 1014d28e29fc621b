//! Open contacts by contact id, then queue: one hash lookup per event, and events that
//! carry no queue (JSON hold/end) find the contact's answered queue in the same entry.

use super::contacts::{ContactRt, Phase};
use crate::model::Name;
use rustc_hash::FxHashMap;

/// The queue entries of one contact id: almost always one.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
enum Entries {
    One(u32, ContactRt),
    Many(Vec<(u32, ContactRt)>),
}

/// Open contacts keyed by (queue, contact id).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct ContactTable {
    map: FxHashMap<Name, Entries>,
    len: usize,
}

impl ContactTable {
    /// Open contacts (one per queue entry).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn get(&self, q: u32, id: &Name) -> Option<&ContactRt> {
        match self.map.get(id)? {
            Entries::One(k, c) => (*k == q).then_some(c),
            Entries::Many(v) => v.iter().find(|(k, _)| *k == q).map(|(_, c)| c),
        }
    }

    pub(crate) fn get_mut(&mut self, q: u32, id: &Name) -> Option<&mut ContactRt> {
        match self.map.get_mut(id)? {
            Entries::One(k, c) => (*k == q).then_some(c),
            Entries::Many(v) => v.iter_mut().find(|(k, _)| *k == q).map(|(_, c)| c),
        }
    }

    /// Inserts; returns false (and changes nothing) when the contact is already open there.
    pub(crate) fn insert(&mut self, q: u32, id: Name, c: ContactRt) -> bool {
        use std::collections::hash_map::Entry;
        match self.map.entry(id) {
            Entry::Vacant(v) => {
                v.insert(Entries::One(q, c));
            }
            Entry::Occupied(mut o) => {
                let e = o.get_mut();
                match e {
                    Entries::One(k, _) if *k == q => return false,
                    Entries::Many(v) if v.iter().any(|(k, _)| *k == q) => return false,
                    Entries::Many(v) => v.push((q, c)),
                    Entries::One(..) => {
                        let prev = std::mem::replace(e, Entries::Many(Vec::with_capacity(2)));
                        if let (Entries::One(k0, c0), Entries::Many(v)) = (prev, e) {
                            v.push((k0, c0));
                            v.push((q, c));
                        }
                    }
                }
            }
        }
        self.len += 1;
        true
    }

    pub(crate) fn remove(&mut self, q: u32, id: &Name) -> Option<ContactRt> {
        self.remove_if(q, id, |_| true)
    }

    /// Removes the contact open in `q` if `keep_out` accepts it, with one hash lookup
    /// (a `Name` clone is a copy for ids of up to 24 bytes); otherwise changes nothing.
    pub(crate) fn remove_if(
        &mut self,
        q: u32,
        id: &Name,
        keep_out: impl Fn(&ContactRt) -> bool,
    ) -> Option<ContactRt> {
        use std::collections::hash_map::Entry;
        let Entry::Occupied(mut o) = self.map.entry(id.clone()) else {
            return None;
        };
        let out = match o.get_mut() {
            Entries::One(k, c) if *k == q && keep_out(c) => match o.remove() {
                Entries::One(_, c) => Some(c),
                Entries::Many(_) => None,
            },
            Entries::One(..) => None,
            Entries::Many(v) => {
                let i = v.iter().position(|(k, _)| *k == q)?;
                if !v.get(i).is_some_and(|(_, c)| keep_out(c)) {
                    return None;
                }
                let (_, c) = v.swap_remove(i);
                if v.is_empty() {
                    o.remove();
                }
                Some(c)
            }
        };
        if out.is_some() {
            self.len -= 1;
        }
        out
    }

    /// The queue in which this contact id is with an agent, if any.
    pub(crate) fn answered_queue(&self, id: &Name) -> Option<u32> {
        let answered = |c: &ContactRt| matches!(c.phase, Phase::Answered { .. });
        match self.map.get(id)? {
            Entries::One(k, c) => answered(c).then_some(*k),
            Entries::Many(v) => v.iter().find(|(_, c)| answered(c)).map(|(k, _)| *k),
        }
    }

    /// Every open (queue, contact id) with its uid.
    pub(crate) fn keys(&self) -> Vec<(u64, u32, Name)> {
        let mut out = Vec::with_capacity(self.len);
        for (id, e) in &self.map {
            match e {
                Entries::One(k, c) => out.push((c.uid, *k, id.clone())),
                Entries::Many(v) => out.extend(v.iter().map(|(k, c)| (c.uid, *k, id.clone()))),
            }
        }
        out
    }
}
