//! The signalling protocol: JSON messages over one WebSocket per participant.
//!
//! Every message is an object with a `type` field. docs/signalling.md describes the flow;
//! the server enforces every rule (admission, lock, limit, roles, policy), so a client that
//! sends something it may not gets an `error` message and nothing changes.

pub use helsebro_domain::appointment::InviteeRole as CallRole;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// From a browser to the server.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMsg {
    /// Guest: ask for a one-time code by SMS to the number on file.
    RequestCode,
    /// Guest: the code from the SMS.
    VerifyCode {
        code: String,
    },
    /// Guest: knock on the door with the name the host will see.
    Knock {
        name: String,
    },
    /// Leave the waiting room or the call.
    Leave,
    /// The browser's one offer per peer connection (only once admitted).
    Offer {
        sdp: String,
    },
    /// The browser's answer to a server offer.
    Answer {
        sdp: String,
    },
    /// What the participant sends right now, shown to the others.
    MediaState {
        audio: bool,
        video: bool,
    },
    /// Host: let a waiting guest in, confirming the identity shown.
    Admit {
        participant: Uuid,
    },
    /// Host: turn a waiting guest away with a message.
    Reject {
        participant: Uuid,
        #[serde(default)]
        message: String,
    },
    Lock,
    Unlock,
    /// Host: stop forwarding a participant's sound.
    Mute {
        participant: Uuid,
    },
    /// A participant turns their own sound back on (after a host mute too).
    Unmute,
    /// Host: take a participant out of the call; their link stops working.
    Remove {
        participant: Uuid,
    },
    /// Host: hand the host role to another staff member in the call.
    MakeHost {
        participant: Uuid,
    },
    /// Host: end the call for everyone.
    End,
    /// Connection statistics, every few seconds (kept only as per-call aggregates).
    Stats(ClientStats),
    /// After the call: 1–5 for sound and picture.
    Rating {
        sound: u8,
        picture: u8,
    },
}

/// WebRTC statistics a browser reports about its own connection.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ClientStats {
    /// Received bits per second, all tracks.
    pub bitrate_in: f64,
    /// Sent bits per second, all tracks.
    pub bitrate_out: f64,
    /// Fraction of received packets lost, 0–1.
    pub loss: f64,
    /// Audio jitter in seconds.
    pub jitter: f64,
    /// Round-trip time in seconds.
    pub rtt: f64,
    /// Video freezes since the last report.
    pub freezes: u32,
}

/// A participant's state, as the browsers see it.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// Opened the link, has not knocked.
    Lobby,
    /// Knocked, waiting for the host.
    Waiting,
    /// In the call.
    InCall,
    /// In the call, but the connection dropped; may come back within the grace period.
    Away,
}

/// One participant, as another participant sees them.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ParticipantView {
    pub id: Uuid,
    pub name: String,
    pub role: CallRole,
    pub presence: Presence,
    pub host: bool,
    /// Proved identity with a one-time code.
    pub verified: bool,
    pub audio: bool,
    pub video: bool,
    pub muted_by_host: bool,
}

/// The policy in force, shown in the call.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct PolicyView {
    /// `consultation` or `administrative`.
    pub name: &'static str,
    pub chat: bool,
    pub files: bool,
    pub screen_sharing: bool,
    pub waiting_room: bool,
    pub recording: bool,
    pub limit: u32,
}

/// Why a request was refused; the browser shows a translated text for each code.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The room is locked; nobody new gets in.
    Locked,
    /// The room is full.
    Full,
    /// Only the host may do that.
    NotHost,
    /// Not allowed in the current state (e.g. an offer before admission).
    NotAllowed,
    /// Not allowed by the room's policy.
    Policy,
    /// Too many attempts; try again later.
    TooMany,
    /// The one-time code was wrong or expired.
    WrongCode,
    /// The message was not understood.
    BadMessage,
    /// No such participant.
    UnknownParticipant,
    /// The media server could not set up the connection.
    Media,
}

/// From the server to a browser.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// First message on every connection.
    Welcome {
        you: ParticipantView,
        policy: PolicyView,
        /// Whether a one-time code can be sent (a phone number is on file).
        can_verify: bool,
        /// Whether this connection takes over a participant already in the call (reconnect).
        resumed: bool,
    },
    /// The participant's own state changed.
    You {
        you: ParticipantView,
    },
    /// Everyone in the call (and, for the host, who is waiting). Only sent to participants in
    /// the call: a guest in the waiting room learns nothing about the room.
    Room {
        locked: bool,
        participants: Vec<ParticipantView>,
        waiting: Vec<ParticipantView>,
    },
    /// To hosts: someone knocked (play a sound).
    Knock {
        participant: ParticipantView,
    },
    /// To the guest: you are let in; create the peer connection and send an offer.
    Admitted,
    /// To the guest: the host turned you away.
    Rejected {
        message: String,
    },
    /// A one-time code was sent.
    CodeSent,
    /// The identity was confirmed by code.
    Verified,
    /// The media server's answer to the browser's offer.
    Answer {
        sdp: String,
    },
    /// A new offer from the media server (new or removed tracks).
    Offer {
        sdp: String,
    },
    /// The host muted you; unmute yourself when you are ready.
    MutedByHost,
    /// You were removed from the call; the link no longer works.
    Removed,
    /// The host ended the call.
    Ended,
    /// You are the host now.
    YouAreHost,
    /// This connection was taken over by a newer one with the same link.
    Replaced,
    Error {
        code: ErrorCode,
    },
}
