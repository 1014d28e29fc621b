//! Open contacts in a slab addressed by slot, with one index from contact id to its
//! slots: an event hashes its contact id once, and timers name a slot (checked by uid)
//! so firing or dropping one hashes nothing. Events that carry no queue (JSON hold/end)
//! find the contact's answered queue in the same index entry.

use super::contacts::{ContactRt, Phase};
use crate::model::Name;
use rustc_hash::FxHashMap;

/// The `(queue, slot)`s of one contact id: almost always one.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
enum Entries {
    One(u32, u32),
    Many(Vec<(u32, u32)>),
}

impl Entries {
    /// The first `(queue, slot)` accepted by `pred`.
    fn find(&self, mut pred: impl FnMut(u32, u32) -> bool) -> Option<(u32, u32)> {
        match self {
            Entries::One(q, s) => pred(*q, *s).then_some((*q, *s)),
            Entries::Many(v) => v.iter().copied().find(|&(q, s)| pred(q, s)),
        }
    }

    /// The slot of the contact open in queue `q`.
    fn slot_in(&self, q: u32) -> Option<u32> {
        self.find(|k, _| k == q).map(|(_, s)| s)
    }
}

/// One open contact: its id, its queue and its state.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Open {
    pub(crate) id: Name,
    pub(crate) queue: u32,
    pub(crate) c: ContactRt,
}

/// Open contacts keyed by (queue, contact id), stored by slot.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct ContactTable {
    index: FxHashMap<Name, Entries>,
    slab: Vec<Option<Open>>,
    free: Vec<u32>,
    len: usize,
}

impl ContactTable {
    /// Open contacts (one per queue entry).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The slot of the contact `id` open in `q`.
    pub(crate) fn find(&self, q: u32, id: &Name) -> Option<u32> {
        self.index.get(id)?.slot_in(q)
    }

    /// The contact in `slot`, if one is open there.
    pub(crate) fn slot(&self, slot: u32) -> Option<&Open> {
        self.slab.get(slot as usize)?.as_ref()
    }

    /// The contact in `slot`, mutably, if one is open there.
    pub(crate) fn slot_mut(&mut self, slot: u32) -> Option<&mut Open> {
        self.slab.get_mut(slot as usize)?.as_mut()
    }

    /// The contact in `slot` if it is still the phase `uid` names (timers).
    pub(crate) fn live(&self, slot: u32, uid: u64) -> Option<&Open> {
        self.slot(slot).filter(|o| o.c.uid == uid)
    }

    /// Inserts; returns the slot, or `None` (changing nothing) when the contact is
    /// already open there.
    pub(crate) fn insert(&mut self, q: u32, id: Name, c: ContactRt) -> Option<u32> {
        use std::collections::hash_map::Entry;
        let slot = match self.free.last() {
            Some(&s) => s,
            None => self.slab.len() as u32,
        };
        match self.index.entry(id) {
            Entry::Vacant(v) => {
                let id = v.key().clone();
                v.insert(Entries::One(q, slot));
                self.put(slot, Open { id, queue: q, c });
            }
            Entry::Occupied(mut o) => {
                if o.get().slot_in(q).is_some() {
                    return None;
                }
                let id = o.key().clone();
                let e = o.get_mut();
                match e {
                    Entries::Many(v) => v.push((q, slot)),
                    Entries::One(k0, s0) => *e = Entries::Many(vec![(*k0, *s0), (q, slot)]),
                }
                self.put(slot, Open { id, queue: q, c });
            }
        }
        self.len += 1;
        Some(slot)
    }

    /// Stores `open` in `slot` (the free list's last, or a new one at the end).
    fn put(&mut self, slot: u32, open: Open) {
        if self.free.last() == Some(&slot) {
            self.free.pop();
        }
        match self.slab.get_mut(slot as usize) {
            Some(s) => *s = Some(open),
            None => self.slab.push(Some(open)),
        }
    }

    /// Removes the contact open in `q` if `keep_out` accepts it, with one hash lookup
    /// (a `Name` clone is a copy for ids of up to 24 bytes); otherwise changes nothing.
    pub(crate) fn remove_if(
        &mut self,
        q: u32,
        id: &Name,
        keep_out: impl Fn(&ContactRt) -> bool,
    ) -> Option<ContactRt> {
        self.remove_where(id, |k, _, o| k == q && o.is_some_and(|o| keep_out(&o.c)))
            .map(|o| o.c)
    }

    /// Removes the first entry of `id` whose `(queue, slot, contact)` `pred` accepts.
    fn remove_where(
        &mut self,
        id: &Name,
        mut pred: impl FnMut(u32, u32, Option<&Open>) -> bool,
    ) -> Option<Open> {
        use std::collections::hash_map::Entry;
        let Entry::Occupied(mut o) = self.index.entry(id.clone()) else {
            return None;
        };
        let slab = &self.slab;
        let (_, slot) = o
            .get()
            .find(|q, s| pred(q, s, slab.get(s as usize).and_then(Option::as_ref)))?;
        match o.get_mut() {
            Entries::One(..) => {
                o.remove();
            }
            Entries::Many(v) => {
                v.retain(|&(_, s)| s != slot);
                if v.is_empty() {
                    o.remove();
                }
            }
        }
        self.take_slot(slot)
    }

    /// Empties `slot` and returns its contact (the index entry is the caller's).
    fn take_slot(&mut self, slot: u32) -> Option<Open> {
        let open = self.slab.get_mut(slot as usize)?.take()?;
        self.free.push(slot);
        self.len -= 1;
        Some(open)
    }

    /// Removes the contact in `slot` (its index entry too).
    pub(crate) fn remove_slot(&mut self, slot: u32) -> Option<Open> {
        let id = self.slot(slot)?.id.clone();
        self.remove_where(&id, |_, s, _| s == slot)
    }

    /// The queue and slot of the contact `id` with an agent in a queue `is_queue`
    /// accepts, if any.
    pub(crate) fn answered(&self, id: &Name, is_queue: impl Fn(u32) -> bool) -> Option<(u32, u32)> {
        self.index
            .get(id)?
            .find(|q, s| is_queue(q) && self.slot(s).is_some_and(is_answered))
    }

    /// Removes the contact `id` with an agent in a queue `is_queue` accepts (one hash).
    pub(crate) fn remove_answered(
        &mut self,
        id: &Name,
        is_queue: impl Fn(u32) -> bool,
    ) -> Option<Open> {
        self.remove_where(id, |q, _, o| is_queue(q) && o.is_some_and(is_answered))
    }

    /// Every open contact's `(uid, slot)`.
    pub(crate) fn keys(&self) -> Vec<(u64, u32)> {
        (0..self.slab.len() as u32)
            .filter_map(|s| self.slot(s).map(|o| (o.c.uid, s)))
            .collect()
    }
}

fn is_answered(o: &Open) -> bool {
    matches!(o.c.phase, Phase::Answered { .. })
}
