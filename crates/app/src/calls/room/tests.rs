use super::*;

const GRACE: Duration = Duration::from_secs(60);

fn room(policy: Policy, limit: u32) -> Room {
    Room::new(RoomRules {
        policy,
        limit,
        grace: GRACE,
        knocks_per_window: 3,
    })
}

fn sent_to(fx: &[Effect], conn: ConnId) -> Vec<&ServerMsg> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Send(c, m) if *c == conn => Some(m),
            _ => None,
        })
        .collect()
}

fn errors(fx: &[Effect], conn: ConnId) -> Vec<ErrorCode> {
    sent_to(fx, conn)
        .into_iter()
        .filter_map(|m| match m {
            ServerMsg::Error { code } => Some(*code),
            _ => None,
        })
        .collect()
}

fn audits(fx: &[Effect]) -> Vec<AuditAction> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Audit(a) => Some(a.action),
            _ => None,
        })
        .collect()
}

/// A host on connection 1, and a guest on `conn` who has knocked.
fn host_and_waiting_guest(r: &mut Room, now: Instant, conn: ConnId) -> (Uuid, Uuid, Uuid) {
    let (host, _) = r
        .attach_staff(1, Uuid::now_v7(), "Dr. Lege")
        .expect("host enters");
    let invitation = Uuid::now_v7();
    let (guest, _) = r
        .attach_guest(conn, invitation, CallRole::Patient, "Kari", true)
        .expect("guest opens link");
    let fx = r.handle(
        now,
        conn,
        ClientMsg::Knock {
            name: "Kari Nordmann".into(),
        },
        "",
    );
    assert!(errors(&fx, conn).is_empty(), "{fx:?}");
    (host, guest, invitation)
}

const OFFER: &str = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendrecv\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=sendrecv\r\n";

#[test]
fn a_waiting_guest_gets_no_media_and_sees_nobody() {
    let now = Instant::now();
    let mut r = room(Policy::Consultation, 12);
    let (_host, _guest, _) = host_and_waiting_guest(&mut r, now, 2);
    let fx = r.handle(now, 2, ClientMsg::Offer { sdp: OFFER.into() }, "");
    assert_eq!(errors(&fx, 2), vec![ErrorCode::NotAllowed]);
    assert!(!fx.iter().any(|e| matches!(e, Effect::MediaJoin { .. })));

    // A second guest knocks: the first one is told nothing about it.
    r.attach_guest(3, Uuid::now_v7(), CallRole::Relative, "", false)
        .expect("attach");
    let fx = r.handle(now, 3, ClientMsg::Knock { name: "Per".into() }, "");
    assert!(sent_to(&fx, 2).is_empty(), "{fx:?}");
    // The host hears the knock and sees both waiting.
    assert!(
        sent_to(&fx, 1)
            .iter()
            .any(|m| matches!(m, ServerMsg::Knock { .. }))
    );
    let waiting = sent_to(&fx, 1).into_iter().find_map(|m| match m {
        ServerMsg::Room { waiting, .. } => Some(waiting.len()),
        _ => None,
    });
    assert_eq!(waiting, Some(2));
}

#[test]
fn admit_lets_the_guest_send_media_and_is_audited() {
    let now = Instant::now();
    let mut r = room(Policy::Consultation, 12);
    let (_host, guest, _) = host_and_waiting_guest(&mut r, now, 2);
    let fx = r.handle(now, 1, ClientMsg::Admit { participant: guest }, "");
    assert!(sent_to(&fx, 2).contains(&&ServerMsg::Admitted));
    assert!(fx.contains(&Effect::CallStarted));
    assert_eq!(
        audits(&fx),
        vec![AuditAction::CallAdmitted, AuditAction::CallJoined]
    );
    let fx = r.handle(now, 2, ClientMsg::Offer { sdp: OFFER.into() }, "");
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::MediaJoin { conn: 2, .. }))
    );
}

#[test]
fn only_the_host_may_admit() {
    let now = Instant::now();
    let mut r = room(Policy::Consultation, 12);
    let (_host, guest, _) = host_and_waiting_guest(&mut r, now, 2);
    r.attach_guest(3, Uuid::now_v7(), CallRole::Relative, "", false)
        .expect("attach");
    let fx = r.handle(now, 3, ClientMsg::Admit { participant: guest }, "");
    assert_eq!(errors(&fx, 3), vec![ErrorCode::NotHost]);
    let fx = r.handle(now, 2, ClientMsg::Admit { participant: guest }, "");
    assert_eq!(errors(&fx, 2), vec![ErrorCode::NotHost]);
}

#[test]
fn a_locked_room_lets_nobody_new_in() {
    let now = Instant::now();
    let mut r = room(Policy::Consultation, 12);
    let (_host, guest, _) = host_and_waiting_guest(&mut r, now, 2);
    let fx = r.handle(now, 1, ClientMsg::Lock, "");
    assert_eq!(audits(&fx), vec![AuditAction::CallLocked]);
    // Cannot be admitted while locked…
    let fx = r.handle(now, 1, ClientMsg::Admit { participant: guest }, "");
    assert_eq!(errors(&fx, 1), vec![ErrorCode::Locked]);
    // …and a new link holder cannot knock.
    r.attach_guest(3, Uuid::now_v7(), CallRole::Relative, "", false)
        .expect("attach");
    let fx = r.handle(now, 3, ClientMsg::Knock { name: "Per".into() }, "");
    assert_eq!(errors(&fx, 3), vec![ErrorCode::Locked]);
    r.handle(now, 1, ClientMsg::Unlock, "");
    let fx = r.handle(now, 1, ClientMsg::Admit { participant: guest }, "");
    assert!(sent_to(&fx, 2).contains(&&ServerMsg::Admitted));
}

#[test]
fn the_participant_limit_holds() {
    let now = Instant::now();
    let mut r = room(Policy::Consultation, 2);
    let (_host, guest, _) = host_and_waiting_guest(&mut r, now, 2);
    r.handle(now, 1, ClientMsg::Admit { participant: guest }, "");
    r.attach_guest(3, Uuid::now_v7(), CallRole::Relative, "", false)
        .expect("attach");
    r.handle(now, 3, ClientMsg::Knock { name: "Per".into() }, "");
    let third = r.participant_of_conn(3).expect("third");
    let fx = r.handle(now, 1, ClientMsg::Admit { participant: third }, "");
    assert_eq!(errors(&fx, 1), vec![ErrorCode::Full]);
    assert_eq!(r.counts(), (1, 2));
    // A second staff host cannot squeeze in either.
    assert_eq!(
        r.attach_staff(4, Uuid::now_v7(), "Sykepleier").err(),
        Some(Refusal::Full)
    );
}

#[test]
fn a_removed_participant_cannot_come_back() {
    let now = Instant::now();
    let mut r = room(Policy::Consultation, 12);
    let (_host, guest, invitation) = host_and_waiting_guest(&mut r, now, 2);
    r.handle(now, 1, ClientMsg::Admit { participant: guest }, "");
    r.handle(now, 2, ClientMsg::Offer { sdp: OFFER.into() }, "");
    let fx = r.handle(now, 1, ClientMsg::Remove { participant: guest }, "");
    assert!(fx.contains(&Effect::SpendInvitation(invitation)));
    assert!(fx.contains(&Effect::Close(2)));
    assert!(fx.iter().any(|e| matches!(e, Effect::MediaLeave { .. })));
    assert!(audits(&fx).contains(&AuditAction::CallRemoved));
    assert_eq!(
        r.attach_guest(5, invitation, CallRole::Patient, "", true)
            .err(),
        Some(Refusal::Removed)
    );
}

#[test]
fn a_dropped_connection_comes_back_within_grace_without_knocking() {
    let now = Instant::now();
    let mut r = room(Policy::Consultation, 12);
    let (_host, guest, invitation) = host_and_waiting_guest(&mut r, now, 2);
    r.handle(now, 1, ClientMsg::Admit { participant: guest }, "");
    let fx = r.detach(now, 2);
    assert!(fx.contains(&Effect::StartGrace {
        participant: guest,
        after: GRACE
    }));
    // Back after 30 s: straight into the call.
    let later = now + Duration::from_secs(30);
    let (again, fx) = r
        .attach_guest(6, invitation, CallRole::Patient, "", true)
        .expect("back");
    assert_eq!(again, guest);
    let resumed = sent_to(&fx, 6).into_iter().any(|m| {
        matches!(m, ServerMsg::Welcome { resumed: true, you, .. } if you.presence == Presence::InCall)
    });
    assert!(resumed, "{fx:?}");
    // The old timer fires: nothing happens, the guest is back.
    assert!(r.grace_expired(later + GRACE, guest).is_empty());
    let fx = r.handle(later, 6, ClientMsg::Offer { sdp: OFFER.into() }, "");
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::MediaJoin { conn: 6, .. }))
    );
}

#[test]
fn a_dropped_connection_that_stays_away_leaves_after_grace() {
    let now = Instant::now();
    let mut r = room(Policy::Consultation, 12);
    let (_host, guest, invitation) = host_and_waiting_guest(&mut r, now, 2);
    r.handle(now, 1, ClientMsg::Admit { participant: guest }, "");
    r.detach(now, 2);
    assert!(
        r.grace_expired(now + Duration::from_secs(59), guest)
            .is_empty()
    );
    let fx = r.grace_expired(now + GRACE, guest);
    assert_eq!(audits(&fx), vec![AuditAction::CallLeft]);
    // Now they must knock again.
    let (_, fx) = r
        .attach_guest(7, invitation, CallRole::Patient, "", true)
        .expect("attach");
    let lobby = sent_to(&fx, 7)
        .into_iter()
        .any(|m| matches!(m, ServerMsg::Welcome { you, .. } if you.presence == Presence::Lobby));
    assert!(lobby);
}

#[test]
fn the_host_role_can_be_handed_over_and_passes_on_when_the_host_leaves() {
    let now = Instant::now();
    let mut r = room(Policy::Consultation, 12);
    let (host, guest, _) = host_and_waiting_guest(&mut r, now, 2);
    let (nurse, _) = r
        .attach_staff(3, Uuid::now_v7(), "Sykepleier")
        .expect("nurse");
    // A patient cannot become host.
    let fx = r.handle(now, 1, ClientMsg::MakeHost { participant: guest }, "");
    assert_eq!(errors(&fx, 1), vec![ErrorCode::NotAllowed]);
    let fx = r.handle(now, 1, ClientMsg::MakeHost { participant: nurse }, "");
    assert!(sent_to(&fx, 3).contains(&&ServerMsg::YouAreHost));
    let fx = r.handle(now, 1, ClientMsg::Lock, "");
    assert_eq!(errors(&fx, 1), vec![ErrorCode::NotHost]);
    // The nurse leaves: the doctor is host again.
    let fx = r.handle(now, 3, ClientMsg::Leave, "");
    assert!(sent_to(&fx, 1).contains(&&ServerMsg::YouAreHost));
    let _ = host;
}

#[test]
fn ending_closes_everyone_and_the_room_stays_ended() {
    let now = Instant::now();
    let mut r = room(Policy::Consultation, 12);
    let (_host, guest, invitation) = host_and_waiting_guest(&mut r, now, 2);
    r.handle(now, 1, ClientMsg::Admit { participant: guest }, "");
    let fx = r.handle(now, 1, ClientMsg::End, "");
    assert!(fx.contains(&Effect::Close(1)) && fx.contains(&Effect::Close(2)));
    assert!(fx.contains(&Effect::MediaCloseRoom) && fx.contains(&Effect::CallEnded));
    assert_eq!(
        r.attach_guest(9, invitation, CallRole::Patient, "", true)
            .err(),
        Some(Refusal::Ended)
    );
}

#[test]
fn an_administrative_room_is_staff_only() {
    let mut r = room(Policy::Administrative, 12);
    assert_eq!(
        r.attach_guest(2, Uuid::now_v7(), CallRole::Patient, "", false)
            .err(),
        Some(Refusal::Policy)
    );
    assert!(
        r.attach_guest(3, Uuid::now_v7(), CallRole::Staff, "", false)
            .is_ok()
    );
}

#[test]
fn a_consultation_refuses_a_second_video_track() {
    let now = Instant::now();
    let mut r = room(Policy::Consultation, 12);
    r.attach_staff(1, Uuid::now_v7(), "Dr").expect("host");
    let screen = format!("{OFFER}m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=sendonly\r\n");
    let fx = r.handle(
        now,
        1,
        ClientMsg::Offer {
            sdp: screen.clone(),
        },
        "",
    );
    assert_eq!(errors(&fx, 1), vec![ErrorCode::Policy]);
    // A receive-only second video section is fine.
    let recv = format!("{OFFER}m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=recvonly\r\n");
    let fx = r.handle(now, 1, ClientMsg::Offer { sdp: recv }, "");
    assert!(errors(&fx, 1).is_empty());

    let mut admin = room(Policy::Administrative, 12);
    admin.attach_staff(1, Uuid::now_v7(), "Dr").expect("host");
    let fx = admin.handle(now, 1, ClientMsg::Offer { sdp: screen }, "");
    assert!(errors(&fx, 1).is_empty());
}

#[test]
fn identity_is_verified_by_a_one_time_code() {
    let now = Instant::now();
    let mut r = room(Policy::Consultation, 12);
    r.attach_staff(1, Uuid::now_v7(), "Dr").expect("host");
    let invitation = Uuid::now_v7();
    r.attach_guest(2, invitation, CallRole::Patient, "Kari", true)
        .expect("guest");
    let fx = r.handle(now, 2, ClientMsg::RequestCode, "123456");
    assert!(fx.contains(&Effect::SendCode {
        invitation_id: invitation,
        code: "123456".into()
    }));
    let fx = r.handle(
        now,
        2,
        ClientMsg::VerifyCode {
            code: "654321".into(),
        },
        "",
    );
    assert_eq!(errors(&fx, 2), vec![ErrorCode::WrongCode]);
    let fx = r.handle(
        now,
        2,
        ClientMsg::VerifyCode {
            code: "123 456".into(),
        },
        "",
    );
    assert!(sent_to(&fx, 2).contains(&&ServerMsg::Verified));
    assert_eq!(audits(&fx), vec![AuditAction::CallIdentityConfirmed]);
    let fx = r.handle(
        now,
        2,
        ClientMsg::Knock {
            name: "Kari".into(),
        },
        "",
    );
    let verified = sent_to(&fx, 1)
        .into_iter()
        .any(|m| matches!(m, ServerMsg::Knock { participant } if participant.verified));
    assert!(verified);
}

#[test]
fn an_expired_or_guessed_code_does_not_verify() {
    let now = Instant::now();
    let mut r = room(Policy::Consultation, 12);
    r.attach_guest(2, Uuid::now_v7(), CallRole::Patient, "Kari", true)
        .expect("guest");
    r.handle(now, 2, ClientMsg::RequestCode, "111111");
    let late = now + CODE_VALID;
    let fx = r.handle(
        late,
        2,
        ClientMsg::VerifyCode {
            code: "111111".into(),
        },
        "",
    );
    assert_eq!(errors(&fx, 2), vec![ErrorCode::WrongCode]);
    r.handle(now, 2, ClientMsg::RequestCode, "222222");
    for _ in 0..MAX_CODE_ATTEMPTS {
        r.handle(
            now,
            2,
            ClientMsg::VerifyCode {
                code: "000000".into(),
            },
            "",
        );
    }
    let fx = r.handle(
        now,
        2,
        ClientMsg::VerifyCode {
            code: "222222".into(),
        },
        "",
    );
    assert_eq!(errors(&fx, 2), vec![ErrorCode::WrongCode]);
    // A guest without a phone on file cannot ask for a code.
    r.attach_guest(3, Uuid::now_v7(), CallRole::Relative, "", false)
        .expect("guest");
    let fx = r.handle(now, 3, ClientMsg::RequestCode, "333333");
    assert_eq!(errors(&fx, 3), vec![ErrorCode::NotAllowed]);
}

#[test]
fn knocks_are_limited_per_link() {
    let now = Instant::now();
    let mut r = room(Policy::Consultation, 12);
    r.attach_staff(1, Uuid::now_v7(), "Dr").expect("host");
    r.attach_guest(2, Uuid::now_v7(), CallRole::Patient, "Kari", false)
        .expect("guest");
    for _ in 0..3 {
        let fx = r.handle(
            now,
            2,
            ClientMsg::Knock {
                name: "Kari".into(),
            },
            "",
        );
        assert!(errors(&fx, 2).is_empty());
        let id = r.participant_of_conn(2).expect("guest");
        r.handle(
            now,
            1,
            ClientMsg::Reject {
                participant: id,
                message: "Vent litt".into(),
            },
            "",
        );
    }
    let fx = r.handle(
        now,
        2,
        ClientMsg::Knock {
            name: "Kari".into(),
        },
        "",
    );
    assert_eq!(errors(&fx, 2), vec![ErrorCode::TooMany]);
    let fx = r.handle(
        now + KNOCK_WINDOW,
        2,
        ClientMsg::Knock {
            name: "Kari".into(),
        },
        "",
    );
    assert!(errors(&fx, 2).is_empty());
}

#[test]
fn a_second_tab_with_the_same_link_takes_over() {
    let now = Instant::now();
    let mut r = room(Policy::Consultation, 12);
    let (_host, guest, invitation) = host_and_waiting_guest(&mut r, now, 2);
    let (same, fx) = r
        .attach_guest(3, invitation, CallRole::Patient, "", true)
        .expect("again");
    assert_eq!(same, guest);
    assert!(sent_to(&fx, 2).contains(&&ServerMsg::Replaced));
    assert!(fx.contains(&Effect::Close(2)));
    // The old connection closing later changes nothing.
    assert!(r.detach(now, 2).is_empty());
    assert_eq!(r.counts(), (1, 1));
}

#[test]
fn names_are_cleaned_and_bounded() {
    assert_eq!(clean_name("  Kari\u{0007} "), Some("Kari".into()));
    assert_eq!(clean_name("   "), None);
    assert_eq!(clean_name(&"a".repeat(81)), None);
    assert_eq!(count_sent_video(OFFER), 1);
}

#[test]
fn stats_are_aggregated_without_content() {
    let now = Instant::now();
    let mut r = room(Policy::Consultation, 12);
    r.attach_staff(1, Uuid::now_v7(), "Dr").expect("host");
    let s = ClientStats {
        bitrate_in: 1e6,
        bitrate_out: 1e6,
        loss: 0.5,
        jitter: 0.01,
        rtt: 0.05,
        freezes: 2,
    };
    r.handle(now, 1, ClientMsg::Stats(s), "");
    r.handle(
        now,
        1,
        ClientMsg::Stats(ClientStats {
            loss: f64::NAN,
            ..s
        }),
        "",
    );
    let q = r.quality();
    assert_eq!((q.reports, q.freezes), (2, 4));
    assert_eq!(q.loss_max, 0.5);
    assert_eq!(q.loss_sum, 0.5, "a NaN loss counts as none");
}
