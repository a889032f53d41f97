//! Video appointments (VC-1, VC-2, VC-11, VC-14): the closed sets of values an appointment and
//! its invitations take. Stored and sent over the API as the snake_case codes.

use serde::{Deserialize, Serialize};

macro_rules! coded_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable code used in the database and the API.
            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            pub fn parse(code: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.code() == code)
            }
        }
    };
}

coded_enum! {
    /// Booked ahead, or a room started at once ("start video now").
    AppointmentKind {
        Scheduled => "scheduled",
        Adhoc => "adhoc",
    }
}

coded_enum! {
    /// What the room is for; decides its participant limit and what the call page offers.
    CallPolicy {
        /// A consultation with a patient.
        Consultation => "consultation",
        /// A meeting between staff (or with relatives) without a patient consultation.
        Administrative => "administrative",
    }
}

coded_enum! {
    /// The part an invitee takes in the call (VC-15: an interpreter is shown as such).
    InviteeRole {
        Patient => "patient",
        Relative => "relative",
        Interpreter => "interpreter",
        External => "external",
        Staff => "staff",
    }
}

coded_enum! {
    /// What happened (VC-11, VC-14).
    Outcome {
        Held => "held",
        NoShow => "no_show",
        FallbackPhone => "fallback_phone",
        FallbackPhysical => "fallback_physical",
        Cancelled => "cancelled",
    }
}

/// The longest appointment that can be booked, in minutes.
pub const MAX_DURATION_MINUTES: u32 = 8 * 60;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.code()), Some(*o));
        }
        for r in InviteeRole::ALL {
            assert_eq!(InviteeRole::parse(r.code()), Some(*r));
        }
        assert_eq!(CallPolicy::parse("nope"), None);
    }
}
