//! Which media worker thread holds which room. Every peer of a room is on the room's worker, so
//! forwarding never crosses threads; a new room goes to the worker with the fewest peers. Pure
//! bookkeeping, kept by [`crate::Media`] under a mutex.

use std::collections::{HashMap, HashSet};

use crate::{PeerId, RoomId};

#[derive(Debug)]
struct Room {
    worker: usize,
    peers: HashSet<PeerId>,
}

/// Rooms and peers per worker.
#[derive(Debug)]
pub(crate) struct Placement {
    /// Peers per worker.
    load: Vec<usize>,
    rooms: HashMap<RoomId, Room>,
    peers: HashMap<PeerId, RoomId>,
    next_probe: usize,
}

/// Where a joining peer goes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Joined {
    /// The room's worker.
    pub worker: usize,
    /// The peer was in another room, on this worker: it must leave there.
    pub left: Option<usize>,
    /// The peer was already in this room (a fresh connection replacing the old one).
    pub again: bool,
}

impl Placement {
    /// Bookkeeping for `workers` workers (at least one).
    pub fn new(workers: usize) -> Self {
        Placement {
            load: vec![0; workers.max(1)],
            rooms: HashMap::new(),
            peers: HashMap::new(),
            next_probe: 0,
        }
    }

    /// `peer` joins `room`: the room's worker, or for a new room the least loaded one.
    pub fn join(&mut self, room: RoomId, peer: PeerId) -> Joined {
        let mut left = None;
        match self.peers.get(&peer) {
            Some(r) if *r == room => {
                let worker = self.rooms.get(&room).map_or(0, |r| r.worker);
                return Joined {
                    worker,
                    left: None,
                    again: true,
                };
            }
            Some(_) => left = self.leave(peer),
            None => {}
        }
        let worker = match self.rooms.get(&room) {
            Some(r) => r.worker,
            None => self.least_loaded(),
        };
        let entry = self.rooms.entry(room).or_insert_with(|| Room {
            worker,
            peers: HashSet::new(),
        });
        entry.peers.insert(peer);
        self.peers.insert(peer, room);
        if let Some(l) = self.load.get_mut(worker) {
            *l += 1;
        }
        Joined {
            worker,
            left,
            again: false,
        }
    }

    /// The worker that holds `peer`.
    pub fn worker_of(&self, peer: PeerId) -> Option<usize> {
        let room = self.peers.get(&peer)?;
        self.rooms.get(room).map(|r| r.worker)
    }

    /// `peer` leaves; the worker it was on.
    pub fn leave(&mut self, peer: PeerId) -> Option<usize> {
        let room_id = self.peers.remove(&peer)?;
        let room = self.rooms.get_mut(&room_id)?;
        room.peers.remove(&peer);
        let worker = room.worker;
        if room.peers.is_empty() {
            self.rooms.remove(&room_id);
        }
        if let Some(l) = self.load.get_mut(worker) {
            *l = l.saturating_sub(1);
        }
        Some(worker)
    }

    /// The room is closed with all its peers; the worker it was on.
    pub fn close_room(&mut self, room: RoomId) -> Option<usize> {
        let r = self.rooms.remove(&room)?;
        for p in &r.peers {
            self.peers.remove(p);
        }
        if let Some(l) = self.load.get_mut(r.worker) {
            *l = l.saturating_sub(r.peers.len());
        }
        Some(r.worker)
    }

    /// A worker for a self-test connection (in no room, short-lived): each in turn.
    pub fn probe(&mut self) -> usize {
        let w = self.next_probe % self.load.len();
        self.next_probe = self.next_probe.wrapping_add(1);
        w
    }

    fn least_loaded(&self) -> usize {
        self.load
            .iter()
            .enumerate()
            .min_by_key(|(i, l)| (**l, *i))
            .map_or(0, |(i, _)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn room(n: u128) -> RoomId {
        RoomId(Uuid::from_u128(0x100 + n))
    }
    fn peer(n: u128) -> PeerId {
        PeerId(Uuid::from_u128(n))
    }

    #[test]
    fn a_room_stays_on_one_worker_and_new_rooms_go_to_the_least_loaded() {
        let mut p = Placement::new(3);
        assert_eq!(p.join(room(1), peer(1)).worker, 0);
        assert_eq!(p.join(room(1), peer(2)).worker, 0);
        assert_eq!(p.join(room(2), peer(3)).worker, 1);
        assert_eq!(p.join(room(3), peer(4)).worker, 2);
        // Worker 1 and 2 have one peer each, worker 0 two: the next room goes to 1.
        assert_eq!(p.join(room(4), peer(5)).worker, 1);
        assert_eq!(p.join(room(1), peer(6)).worker, 0, "a room never splits");
        assert_eq!(p.worker_of(peer(6)), Some(0));
        assert_eq!(p.worker_of(peer(99)), None);
    }

    #[test]
    fn leaving_and_closing_free_the_worker_and_forget_the_room() {
        let mut p = Placement::new(2);
        p.join(room(1), peer(1));
        p.join(room(1), peer(2));
        p.join(room(2), peer(3));
        assert_eq!(p.leave(peer(3)), Some(1));
        assert_eq!(p.leave(peer(3)), None, "twice is harmless");
        // Room 2 is gone: it may start anywhere next time (worker 1 is empty).
        assert_eq!(p.join(room(2), peer(4)).worker, 1);
        assert_eq!(p.close_room(room(1)), Some(0));
        assert_eq!(p.worker_of(peer(1)), None);
        assert_eq!(p.close_room(room(1)), None);
        // Worker 0 is empty again: the next new room goes there.
        assert_eq!(p.join(room(5), peer(5)).worker, 0);
    }

    #[test]
    fn a_fresh_connection_in_the_same_room_stays_and_a_move_leaves_the_old_worker() {
        let mut p = Placement::new(2);
        p.join(room(1), peer(1));
        p.join(room(2), peer(2));
        let again = p.join(room(1), peer(1));
        assert_eq!(
            again,
            Joined {
                worker: 0,
                left: None,
                again: true
            }
        );
        let moved = p.join(room(2), peer(1));
        assert_eq!(
            moved,
            Joined {
                worker: 1,
                left: Some(0),
                again: false
            }
        );
        assert_eq!(p.worker_of(peer(1)), Some(1));
    }

    #[test]
    fn probes_take_turns_and_one_worker_is_always_there() {
        let mut p = Placement::new(2);
        assert_eq!((p.probe(), p.probe(), p.probe()), (0, 1, 0));
        let mut one = Placement::new(0);
        assert_eq!(one.probe(), 0);
        assert_eq!(one.join(room(1), peer(1)).worker, 0);
    }
}
