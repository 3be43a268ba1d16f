//! Handle ids and ownership: who may use a handle.
//!
//! Every handle of every kind (HTTP, WebSocket, rednet, PSP, PDP) takes its id from one counter
//! that starts at 0. A handle belongs to the process that created it; its methods may be called
//! by that process or any of its descendants, and by nobody else: to everyone else the handle
//! does not exist (`No such socket`). `transfer()` re-parents a PSP/PDP handle to the caller,
//! which must itself be allowed to use it.

use std::collections::BTreeMap;

pub use crate::io::Pid;

/// A handle id as the table stores it.
pub type HandleId = u64;

/// Why a handle call was refused; `Display` is Phoenix's exact error text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HandleError {
    /// Unknown id, or a caller that is neither the owner nor its descendant.
    #[error("No such socket")]
    NoSuchSocket,
    /// The most handles a computer may hold at once ([`MAX_HANDLES`]).
    #[error("Too many open handles")]
    TooMany,
}

/// The most handles one computer holds at once. A program that opens handles in a loop without
/// closing them gets [`HandleError::TooMany`] instead of exhausting the host's memory.
pub const MAX_HANDLES: usize = 65_536;

/// The parent relation of the host's processes, as the host reports it.
///
/// The stack does not run processes; the host tells it which exist and who started whom, so that
/// the descendant rule can be checked.
#[derive(Clone, Debug, Default)]
pub struct ProcessTree {
    parent: BTreeMap<Pid, Option<Pid>>,
}

impl ProcessTree {
    /// Records that `pid` exists, started by `parent` (`None` for the init process).
    pub fn spawn(&mut self, pid: Pid, parent: Option<Pid>) {
        self.parent.insert(pid, parent);
    }

    /// Forgets `pid`; its children keep their place (they are re-parented to its parent, as a
    /// kernel re-parents orphans to an ancestor).
    pub fn exit(&mut self, pid: Pid) {
        let grandparent = self.parent.remove(&pid).flatten();
        for p in self.parent.values_mut() {
            if *p == Some(pid) {
                *p = grandparent;
            }
        }
    }

    /// Whether `pid` is known.
    pub fn exists(&self, pid: Pid) -> bool {
        self.parent.contains_key(&pid)
    }

    /// Whether `pid` is `ancestor` or one of its descendants.
    pub fn is_self_or_descendant(&self, pid: Pid, ancestor: Pid) -> bool {
        let mut cur = Some(pid);
        // The walk is bounded by the number of processes even if a host reported a cycle.
        for _ in 0..=self.parent.len() {
            match cur {
                Some(p) if p == ancestor => return true,
                Some(p) => cur = self.parent.get(&p).copied().flatten(),
                None => return false,
            }
        }
        false
    }
}

/// Handles of one computer: id allocation and ownership, holding a value `T` per handle.
#[derive(Clone, Debug)]
pub struct HandleTable<T> {
    next_id: HandleId,
    entries: BTreeMap<HandleId, (Pid, T)>,
}

impl<T> Default for HandleTable<T> {
    fn default() -> Self {
        HandleTable {
            next_id: 0,
            entries: BTreeMap::new(),
        }
    }
}

impl<T> HandleTable<T> {
    /// The id the next handle will get.
    pub fn peek_next_id(&self) -> HandleId {
        self.next_id
    }

    /// Allocates the next id for a handle owned by `owner`.
    pub fn insert(&mut self, owner: Pid, value: T) -> Result<HandleId, HandleError> {
        if self.entries.len() >= MAX_HANDLES {
            return Err(HandleError::TooMany);
        }
        let id = self.next_id;
        self.next_id += 1;
        self.entries.insert(id, (owner, value));
        Ok(id)
    }

    /// The handle, if `caller` may use it.
    pub fn get_mut(
        &mut self,
        tree: &ProcessTree,
        caller: Pid,
        id: HandleId,
    ) -> Result<&mut T, HandleError> {
        match self.entries.get_mut(&id) {
            Some((owner, v)) if tree.is_self_or_descendant(caller, *owner) => Ok(v),
            _ => Err(HandleError::NoSuchSocket),
        }
    }

    /// The handle regardless of caller (for the stack's own bookkeeping, never for a program).
    pub fn get_internal_mut(&mut self, id: HandleId) -> Option<&mut T> {
        self.entries.get_mut(&id).map(|(_, v)| v)
    }

    /// The handle regardless of caller, read-only.
    pub fn get(&self, id: HandleId) -> Option<&T> {
        self.entries.get(&id).map(|(_, v)| v)
    }

    /// Every live handle id, ascending.
    pub fn ids(&self) -> impl Iterator<Item = HandleId> + '_ {
        self.entries.keys().copied()
    }

    /// The owner of a handle.
    pub fn owner(&self, id: HandleId) -> Option<Pid> {
        self.entries.get(&id).map(|(p, _)| *p)
    }

    /// Re-parents a handle to `caller`, who must be allowed to use it.
    pub fn transfer(
        &mut self,
        tree: &ProcessTree,
        caller: Pid,
        id: HandleId,
    ) -> Result<(), HandleError> {
        match self.entries.get_mut(&id) {
            Some((owner, _)) if tree.is_self_or_descendant(caller, *owner) => {
                *owner = caller;
                Ok(())
            }
            _ => Err(HandleError::NoSuchSocket),
        }
    }

    /// Removes a handle (the stack decides when: a closed handle stays until it is drained).
    pub fn remove(&mut self, id: HandleId) -> Option<T> {
        self.entries.remove(&id).map(|(_, v)| v)
    }

    /// Ids of the handles owned by `pid` (e.g. to clean up when it exits).
    pub fn owned_by(&self, pid: Pid) -> impl Iterator<Item = HandleId> + '_ {
        self.entries
            .iter()
            .filter(move |(_, (o, _))| *o == pid)
            .map(|(id, _)| *id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tree() -> ProcessTree {
        // 1 ─┬─ 2 ── 4
        //    └─ 3
        let mut t = ProcessTree::default();
        t.spawn(1, None);
        t.spawn(2, Some(1));
        t.spawn(3, Some(1));
        t.spawn(4, Some(2));
        t
    }

    #[test]
    fn ids_are_one_counter_from_zero() {
        let mut h = HandleTable::default();
        assert_eq!(h.insert(1, "a"), Ok(0));
        assert_eq!(h.insert(2, "b"), Ok(1));
        h.remove(0);
        assert_eq!(h.insert(1, "c"), Ok(2));
    }

    #[test]
    fn owner_and_descendants_only() {
        let t = tree();
        let mut h = HandleTable::default();
        let id = h.insert(2, ()).unwrap();
        assert!(h.get_mut(&t, 2, id).is_ok());
        assert!(h.get_mut(&t, 4, id).is_ok());
        assert_eq!(h.get_mut(&t, 1, id), Err(HandleError::NoSuchSocket));
        assert_eq!(h.get_mut(&t, 3, id), Err(HandleError::NoSuchSocket));
        assert_eq!(h.get_mut(&t, 2, 99), Err(HandleError::NoSuchSocket));
        assert_eq!(HandleError::NoSuchSocket.to_string(), "No such socket");
    }

    #[test]
    fn transfer_moves_ownership_to_an_allowed_caller() {
        let t = tree();
        let mut h = HandleTable::default();
        let id = h.insert(2, ()).unwrap();
        assert_eq!(h.transfer(&t, 3, id), Err(HandleError::NoSuchSocket));
        h.transfer(&t, 4, id).unwrap();
        assert_eq!(h.owner(id), Some(4));
        // The former owner is an ancestor, not a descendant, of the new owner.
        assert_eq!(h.get_mut(&t, 2, id), Err(HandleError::NoSuchSocket));
    }

    #[test]
    fn orphans_are_reparented() {
        let mut t = tree();
        t.exit(2);
        assert!(!t.exists(2));
        assert!(t.is_self_or_descendant(4, 1));
    }

    proptest! {
        /// The descendant rule agrees with a model that walks explicit parent links.
        #[test]
        fn descendant_rule_matches_model(parents in proptest::collection::vec(0u32..8, 1..8), a in 0u32..9, b in 0u32..9) {
            // Process i+1 has parent parents[i] if that is smaller (a forest, no cycles).
            let mut t = ProcessTree::default();
            let mut model = std::collections::HashMap::new();
            t.spawn(0, None);
            for (i, &p) in parents.iter().enumerate() {
                let pid = i as u32 + 1;
                let parent = if p < pid { Some(p) } else { None };
                t.spawn(pid, parent);
                model.insert(pid, parent);
            }
            let mut cur = Some(a);
            let mut expected = false;
            while let Some(p) = cur {
                if p == b { expected = true; break; }
                cur = model.get(&p).copied().flatten();
            }
            prop_assert_eq!(t.is_self_or_descendant(a, b), expected);
        }
    }
}
