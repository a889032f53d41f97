//! Video rooms while they are live: who is waiting, who is in, whether the room is locked.
//!
//! This state lives only in memory (nothing said in a call is stored, PR-1); what happens
//! in a room is written to the audit log as it happens.

pub mod protocol;
pub mod room;

use std::collections::HashMap;
use std::sync::Mutex;
use uuid::Uuid;

/// What the work list shows for an appointment's room right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LiveState {
    /// Nobody has opened the room.
    Idle,
    /// Someone has knocked and is waiting to be let in.
    Waiting,
    /// At least one participant is in the call.
    InCall,
    /// The host ended the call for everyone.
    Ended,
}

/// Every live room of this process, keyed by appointment.
#[derive(Default)]
pub struct CallRegistry {
    rooms: Mutex<HashMap<Uuid, RoomSummary>>,
}

#[derive(Debug, Clone, Copy, Default)]
struct RoomSummary {
    waiting: usize,
    in_call: usize,
    ended: bool,
}

impl CallRegistry {
    pub fn live_state(&self, appointment: Uuid) -> LiveState {
        let rooms = self.rooms.lock().unwrap_or_else(|p| p.into_inner());
        match rooms.get(&appointment) {
            None => LiveState::Idle,
            Some(r) if r.ended => LiveState::Ended,
            Some(r) if r.waiting > 0 => LiveState::Waiting,
            Some(r) if r.in_call > 0 => LiveState::InCall,
            Some(_) => LiveState::Idle,
        }
    }
}
