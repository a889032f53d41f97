//! The integration suite: a real server on a random port against SQLite (default) or
//! PostgreSQL (`HELSEBRO_TEST_DB=postgres`). `scripts/test.sh` runs it on both.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{PASSWORD, TestServer, between, nid};
use helsebro_domain::{ChainBreak, Role};
use jiff::SignedDuration;
use serde_json::{Value, json};

async fn register(
    s: &TestServer,
    c: &reqwest::Client,
    csrf: &str,
    name: &str,
    nine: &str,
) -> String {
    let res = c
        .post(s.url("/api/v1/patients"))
        .header("x-csrf-token", csrf)
        .json(&json!({"name": name, "birth_date": "1941-03-15", "national_id": nid(nine), "phone": "912 34 567"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn audit(s: &TestServer, query: &str) -> Vec<Value> {
    let (dpo, _) = s.login("dpo").await;
    let res = dpo
        .get(s.url(&format!("/api/v1/audit?{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let s = TestServer::start().await;
    let c = s.client();
    assert_eq!(c.get(s.url("/healthz")).send().await.unwrap().status(), 200);
    assert_eq!(
        c.get(s.url("/readyz"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ready"
    );
    c.get(s.url("/login")).send().await.unwrap();
    let metrics = c
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            "helsebro_http_requests_total{method=\"GET\",route=\"/login\",status=\"200\"} 1"
        ),
        "{metrics}"
    );
    assert!(metrics.contains("helsebro_http_request_duration_seconds_bucket"));
    assert!(metrics.contains("helsebro_db_pool_connections "));
    s.store.close().await;
    let res = c.get(s.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 503, "not ready without a database");
    assert_eq!(
        c.get(s.url("/healthz")).send().await.unwrap().status(),
        200,
        "still alive"
    );
}

#[tokio::test]
async fn login_page_speaks_three_languages() {
    let s = TestServer::start().await;
    let c = s.client();
    let mut titles = Vec::new();
    for lang in ["nb", "nn", "en"] {
        let page = c
            .get(s.url(&format!("/login?lang={lang}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains(&format!("<html lang=\"{lang}\">")), "{lang}");
        let intro = between(&page, "</h1>\n<p>", "</p>").to_owned();
        titles.push(intro);
    }
    titles.sort();
    titles.dedup();
    assert_eq!(titles.len(), 3, "three different texts: {titles:?}");
    // Accept-Language picks the language when nothing else does.
    let fresh = s.client();
    let page = fresh
        .get(s.url("/login"))
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<html lang=\"en\">"));
    // The chosen language sticks (cookie) over Accept-Language.
    let page = c
        .get(s.url("/login"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<html lang=\"en\">"), "last choice was en");
    c.get(s.url("/login?lang=nn")).send().await.unwrap();
    let page = c
        .get(s.url("/login"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<html lang=\"nn\">"));
}

#[tokio::test]
async fn security_headers_on_every_response() {
    let s = TestServer::start().await;
    let c = s.client();
    for path in [
        "/login",
        "/",
        "/no-such-page",
        "/api/v1/patients",
        "/api/openapi.json",
        "/healthz",
        "/static/helsebro.css",
    ] {
        let res = c.get(s.url(path)).send().await.unwrap();
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        assert!(
            !csp.contains("http") && !csp.contains('*'),
            "{path}: no external origin in {csp}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert!(
            h["permissions-policy"]
                .to_str()
                .unwrap()
                .contains("camera=()"),
            "{path}"
        );
        assert!(
            !h.contains_key("strict-transport-security"),
            "no HSTS over plain HTTP"
        );
    }
    let tls =
        TestServer::start_with(|c| c.public_url = "https://video.kommune.example".into()).await;
    let res = tls.client().get(tls.url("/login")).send().await.unwrap();
    assert!(
        res.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age=")
    );
    let cookie = res.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
}

#[tokio::test]
async fn totp_enrolment_and_login() {
    let s = TestServer::start().await;
    s.add_staff("lege", &[Role::Clinician]).await;
    s.add_staff("dpo", &[Role::DataProtectionOfficer]).await;
    let c = s.client();
    let res = c
        .post(s.url("/api/v1/auth/login"))
        .json(&json!({"username": "lege", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["stage"], "enrol",
        "a clinician must set up two-factor login"
    );
    let csrf = body["csrf_token"].as_str().unwrap().to_owned();
    // Not logged in yet: the API and the pages refuse.
    assert_eq!(
        c.get(s.url("/api/v1/me")).send().await.unwrap().status(),
        401
    );
    let res = c.get(s.url("/")).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/login/enrol");

    let page = c
        .get(s.url("/login/enrol"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<svg"), "QR code shown");
    let secret = between(&page, "<code id=\"totp-secret\">", "</code>").to_owned();
    let wrong = if s.code(&secret) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let res = c
        .post(s.url("/login/enrol"))
        .form(&[("csrf_token", csrf.as_str()), ("code", wrong)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "a wrong code is refused");
    let res = c
        .post(s.url("/login/enrol"))
        .form(&[("csrf_token", csrf.as_str()), ("code", &s.code(&secret))])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        c.get(s.url("/api/v1/me")).send().await.unwrap().status(),
        200
    );

    // Second login: the code step.
    let c2 = s.client();
    let body: Value = c2
        .post(s.url("/api/v1/auth/login"))
        .json(&json!({"username": "lege", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["stage"], "totp");
    let csrf2 = body["csrf_token"].as_str().unwrap().to_owned();
    let totp = |code: String| {
        c2.post(s.url("/api/v1/auth/totp"))
            .header("x-csrf-token", &csrf2)
            .json(&json!({"code": code}))
            .send()
    };
    assert_eq!(totp(wrong.to_owned()).await.unwrap().status(), 401);
    assert_eq!(
        totp(s.code(&secret)).await.unwrap().status(),
        401,
        "the enrolment code cannot be replayed"
    );
    s.next_step();
    assert_eq!(totp(s.code(&secret)).await.unwrap().status(), 204);
    assert_eq!(
        c2.get(s.url("/api/v1/me")).send().await.unwrap().status(),
        200
    );

    let entries = audit(&s, "actor=lege").await;
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"totp.enrolled") && actions.contains(&"totp.failed"),
        "{actions:?}"
    );
    assert_eq!(
        actions.iter().filter(|a| **a == "login.succeeded").count(),
        2
    );
}

#[tokio::test]
async fn repeated_bad_logins_get_429() {
    let s = TestServer::start().await;
    s.add_staff("leder", &[Role::ServiceOwner]).await;
    let c = s.client();
    let attempt = |password: &'static str| {
        c.post(s.url("/api/v1/auth/login"))
            .json(&json!({"username": "leder", "password": password}))
            .send()
    };
    for _ in 0..5 {
        assert_eq!(attempt("wrong password!").await.unwrap().status(), 401);
    }
    let res = attempt("wrong password!").await.unwrap();
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "rate_limited");
    // Even the right password is refused while limited.
    assert_eq!(attempt(PASSWORD).await.unwrap().status(), 429);
    // The page answers 429 too.
    let res = c
        .post(s.url("/login"))
        .form(&[("username", "leder"), ("password", "x")])
        .send()
        .await
        .unwrap();
    assert!(
        matches!(res.status().as_u16(), 403 | 429),
        "no pre-session token → 403, else 429"
    );
}

#[tokio::test]
async fn no_session_means_401_or_login_redirect() {
    let s = TestServer::start().await;
    let c = s.client();
    let res = c.get(s.url("/api/v1/patients")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "unauthenticated");
    for page in ["/", "/admin/staff", "/audit", "/patients/new"] {
        let res = c.get(s.url(page)).send().await.unwrap();
        assert_eq!(res.status(), 303, "{page}");
        assert_eq!(res.headers()["location"], "/login", "{page}");
    }
}

#[tokio::test]
async fn csrf_token_required_for_changes() {
    let s = TestServer::start().await;
    s.add_staff("leder", &[Role::ServiceOwner]).await;
    let (c, csrf) = s.login("leder").await;
    // API without the header.
    let res = c.post(s.url("/api/v1/auth/logout")).send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "forbidden");
    // A page form without the field, and with a wrong one.
    let res = c
        .post(s.url("/logout"))
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = c
        .post(s.url("/logout"))
        .form(&[("csrf_token", "0".repeat(64).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        c.get(s.url("/api/v1/me")).send().await.unwrap().status(),
        200,
        "still logged in"
    );
    // The login form without its pre-session token.
    let anon = s.client();
    let res = anon
        .post(s.url("/login"))
        .form(&[("username", "leder"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // With it, login works.
    let page = anon
        .get(s.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let pre = between(&page, "name=\"csrf_token\" value=\"", "\"").to_owned();
    let res = anon
        .post(s.url("/login"))
        .form(&[
            ("csrf_token", pre.as_str()),
            ("username", "leder"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/");
    // Logout with the token works.
    let res = c
        .post(s.url("/logout"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        c.get(s.url("/api/v1/me")).send().await.unwrap().status(),
        401
    );
}

#[tokio::test]
async fn care_team_access_is_enforced_and_audited() {
    let s = TestServer::start().await;
    s.add_staff("lege", &[Role::Clinician]).await;
    s.add_staff("annenlege", &[Role::Clinician]).await;
    s.add_staff("dpo", &[Role::DataProtectionOfficer]).await;
    s.add_staff("admin2", &[Role::Administrator]).await;
    let (a, a_csrf) = s.login("lege").await;
    let patient = register(&s, &a, &a_csrf, "Kari Nordmann", "150341123").await;

    for _ in 0..3 {
        let res = a
            .get(s.url(&format!("/api/v1/patients/{patient}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let rec: Value = res.json().await.unwrap();
        assert_eq!(rec["patient"]["name"], "Kari Nordmann");
        assert_eq!(rec["emergency"], false);
    }
    let page = a
        .get(s.url(&format!("/patients/{patient}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);

    let (b, b_csrf) = s.login("annenlege").await;
    let res = b
        .get(s.url(&format!("/api/v1/patients/{patient}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        b.get(s.url(&format!("/patients/{patient}")))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let res = b
        .put(s.url(&format!("/api/v1/patients/{patient}/contact")))
        .header("x-csrf-token", &b_csrf)
        .json(&json!({"phone": "", "email": "", "language": "en"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "no change outside the care team");
    // Administrators run the system but do not see health data.
    let (adm, _) = s.login("admin2").await;
    assert_eq!(
        adm.get(s.url(&format!("/api/v1/patients/{patient}")))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    // An unknown patient looks the same as someone else's.
    let unknown = uuid::Uuid::now_v7();
    assert_eq!(
        b.get(s.url(&format!("/api/v1/patients/{unknown}")))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );

    let reads = audit(&s, &format!("patient_id={patient}&action=patient.read")).await;
    let ok = reads
        .iter()
        .filter(|e| e["outcome"] == "success" && e["actor_label"] == "lege")
        .count();
    assert_eq!(ok, 4, "every read by a team member is logged: {reads:#?}");
    let denied = reads.iter().filter(|e| e["outcome"] == "denied").count();
    assert_eq!(denied, 3, "annenlege twice, admin2 once");

    // Emergency access: a reason is required, then access is granted and flagged.
    let emergency = |reason: &'static str| {
        b.post(s.url(&format!("/api/v1/patients/{patient}/emergency-access")))
            .header("x-csrf-token", &b_csrf)
            .json(&json!({"reason": reason}))
            .send()
    };
    assert_eq!(emergency("").await.unwrap().status(), 422);
    assert_eq!(
        emergency("Akutt innleggelse, fastlege utilgjengelig")
            .await
            .unwrap()
            .status(),
        204
    );
    let rec: Value = b
        .get(s.url(&format!("/api/v1/patients/{patient}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rec["emergency"], true);
    let flagged = audit(&s, &format!("patient_id={patient}&flagged=true")).await;
    assert!(
        flagged
            .iter()
            .any(|e| e["action"] == "patient.emergency_access"
                && e["detail"].as_str().unwrap().contains("Akutt"))
    );
    assert!(
        flagged
            .iter()
            .any(|e| e["action"] == "patient.read" && e["actor_label"] == "annenlege")
    );
    // The grant runs out.
    s.clock.advance(SignedDuration::from_hours(5));
    let (b2, _) = s.login("annenlege").await;
    assert_eq!(
        b2.get(s.url(&format!("/api/v1/patients/{patient}")))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );

    // Changes by the team are logged in the same transaction.
    let (a2, a2_csrf) = s.login("lege").await;
    let res = a2
        .put(s.url(&format!("/api/v1/patients/{patient}/contact")))
        .header("x-csrf-token", &a2_csrf)
        .json(&json!({"phone": "+47 98 76 54 32", "email": "kari@example.no", "language": "nn"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let updates = audit(&s, &format!("patient_id={patient}&action=patient.updated")).await;
    assert!(
        updates
            .iter()
            .any(|e| e["outcome"] == "success" && e["actor_label"] == "lege")
    );

    assert_eq!(
        s.app.verify_audit_chain().await.unwrap(),
        Ok(s.store.verify_audit_chain().await.unwrap().unwrap())
    );
}

#[tokio::test]
async fn audit_chain_detects_an_altered_row() {
    let s = TestServer::start().await;
    s.add_staff("leder", &[Role::ServiceOwner]).await;
    for _ in 0..3 {
        s.login("leder").await;
    }
    let n = s.app.verify_audit_chain().await.unwrap().expect("intact");
    assert!(n >= 4, "{n}");
    // The application cannot change the log at all: the database refuses.
    let pool = s.store.raw_pool();
    let refused = sqlx::query("UPDATE audit_log SET ip = '10.9.9.9' WHERE seq = 2")
        .execute(pool)
        .await;
    assert!(refused.is_err(), "audit_log is append-only");
    assert!(
        sqlx::query("DELETE FROM audit_log WHERE seq = 2")
            .execute(pool)
            .await
            .is_err()
    );
    // Someone with database access who removes the guard is still caught.
    common::remove_audit_guard(pool).await;
    sqlx::query("UPDATE audit_log SET ip = '10.9.9.9' WHERE seq = 2")
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(
        s.app.verify_audit_chain().await.unwrap(),
        Err(ChainBreak::Altered { seq: 2 })
    );
}

#[tokio::test]
async fn concurrent_appends_keep_one_chain() {
    let s = TestServer::start().await;
    s.add_staff("leder", &[Role::ServiceOwner]).await;
    let logins = (0..16).map(|_| {
        let c = s.client();
        let url = s.url("/api/v1/auth/login");
        async move {
            // Wrong passwords (within the rate limit per address is 20/min) and right ones.
            c.post(url)
                .json(&json!({"username": "leder", "password": PASSWORD}))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let statuses = futures::future::join_all(logins).await;
    assert!(statuses.iter().filter(|s| s.as_u16() == 200).count() >= 5);
    let n = s
        .app
        .verify_audit_chain()
        .await
        .unwrap()
        .expect("intact under concurrency");
    assert!(n >= 17, "{n}");
}

#[tokio::test]
async fn sessions_end_after_idle_timeout() {
    let s = TestServer::start().await;
    s.add_staff("leder", &[Role::ServiceOwner]).await;
    let (c, _) = s.login("leder").await;
    s.clock.advance(SignedDuration::from_mins(20));
    assert_eq!(
        c.get(s.url("/api/v1/me")).send().await.unwrap().status(),
        200,
        "activity keeps it alive"
    );
    s.clock.advance(SignedDuration::from_mins(25));
    assert_eq!(
        c.get(s.url("/api/v1/me")).send().await.unwrap().status(),
        200
    );
    s.clock.advance(SignedDuration::from_mins(31));
    assert_eq!(
        c.get(s.url("/api/v1/me")).send().await.unwrap().status(),
        401,
        "idle for 31 minutes"
    );
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_changes_nothing() {
    let s = TestServer::start().await;
    s.add_staff("lege", &[Role::Clinician]).await;
    s.add_staff("admin2", &[Role::Administrator]).await;
    let (c, csrf) = s.login("lege").await;
    let post = |body: String| {
        c.post(s.url("/api/v1/patients"))
            .header("x-csrf-token", &csrf)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let res = post("{not json".into()).await.unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "bad_request");
    assert!(!body["message"].as_str().unwrap().is_empty());
    let res = post(json!({"name": 5, "birth_date": [], "national_id": true}).to_string())
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let res = post(
        json!({"name": "", "birth_date": "15.03.41", "national_id": "12345678901", "phone": "12"})
            .to_string(),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    let fields: Vec<&str> = body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "birth_date", "national_id", "phone"]);
    let res = post("x".repeat(2 * 1024 * 1024)).await.unwrap();
    assert_eq!(res.status(), 413, "oversized body");
    let list: Vec<Value> = c
        .get(s.url("/api/v1/patients"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(list.is_empty(), "nothing was created");

    // A duplicate national identity number: 409, still one patient.
    register(&s, &c, &csrf, "Per Hansen", "021138123").await;
    let res = post(
        json!({"name": "Per Again", "birth_date": "1938-11-02", "national_id": nid("021138123")})
            .to_string(),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 409);
    let list: Vec<Value> = c
        .get(s.url("/api/v1/patients"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 1);

    // Unknown and malformed ids.
    let res = c
        .get(s.url("/api/v1/patients/not-a-uuid"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = c.get(s.url("/patients/not-a-uuid")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("<footer class=\"support\">"),
        "error pages show the support contact"
    );
    let (adm, adm_csrf) = s.login("admin2").await;
    let res = adm
        .post(s.url("/api/v1/staff"))
        .header("x-csrf-token", &adm_csrf)
        .json(
            &json!({"username": "Bad Name", "display_name": "", "password": "short", "roles": []}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let res = adm
        .post(s.url("/api/v1/staff"))
        .header("x-csrf-token", &adm_csrf)
        .json(&json!({"username": "ny", "display_name": "Ny", "password": PASSWORD, "roles": ["wizard"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422, "unknown role");
    let staff: Vec<Value> = adm
        .get(s.url("/api/v1/staff"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(staff.len(), 3, "admin, lege, admin2 and nobody else");
    let res = adm
        .get(s.url("/api/v1/audit?from=yesterday"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
}

#[tokio::test]
async fn openapi_documents_every_api_route() {
    let s = TestServer::start().await;
    let doc: Value = s
        .client()
        .get(s.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/auth/login",
        "/api/v1/auth/totp",
        "/api/v1/auth/logout",
        "/api/v1/me",
        "/api/v1/patients",
        "/api/v1/patients/{patient_id}",
        "/api/v1/patients/{patient_id}/contact",
        "/api/v1/patients/{patient_id}/care-team/{staff_id}",
        "/api/v1/patients/{patient_id}/emergency-access",
        "/api/v1/staff",
        "/api/v1/staff/{staff_id}",
        "/api/v1/units",
        "/api/v1/units/{unit_id}",
        "/api/v1/organisation",
        "/api/v1/audit",
        "/api/v1/audit/verify",
        "/api/v1/outbox",
        "/api/v1/outbox/test",
    ] {
        assert!(paths.contains_key(p), "{p} is documented");
    }
    assert!(paths.keys().any(|k| k.contains("login")));
    // And every documented route exists (no 404 from the router).
    let c = s.client();
    for p in paths.keys() {
        let url = s.url(
            &p.replace("{patient_id}", &uuid::Uuid::nil().to_string())
                .replace("{staff_id}", &uuid::Uuid::nil().to_string())
                .replace("{unit_id}", &uuid::Uuid::nil().to_string()),
        );
        let status = c.get(&url).send().await.unwrap().status().as_u16();
        assert_ne!(status, 404, "{p} is routed");
    }
}

#[tokio::test]
async fn settings_change_the_footer_at_once() {
    let s = TestServer::start().await;
    s.add_staff("admin2", &[Role::Administrator]).await;
    let (c, csrf) = s.login("admin2").await;
    let res = c
        .put(s.url("/api/v1/organisation"))
        .header("x-csrf-token", &csrf)
        .json(&json!({
            "name": "Fjordvik kommune",
            "support_phone": "22 33 44 55",
            "support_email": "hjelp@fjordvik.kommune.no",
            "support_hours": "Hverdager 08–15",
            "totp_roles": ["clinician", "administrator"]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let page = s
        .client()
        .get(s.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("tel:+4722334455")
            && page.contains("hjelp@fjordvik.kommune.no")
            && page.contains("Hverdager 08–15")
    );
    let res = c
        .put(s.url("/api/v1/organisation"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "", "support_phone": "1", "support_email": "x", "support_hours": "", "totp_roles": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let page = s
        .client()
        .get(s.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("tel:+4722334455"),
        "a refused change changes nothing"
    );
}

#[tokio::test]
async fn deactivating_staff_ends_their_sessions() {
    let s = TestServer::start().await;
    let id = s.add_staff("leder", &[Role::ServiceOwner]).await;
    s.add_staff("admin2", &[Role::Administrator]).await;
    let (leder, _) = s.login("leder").await;
    assert_eq!(
        leder
            .get(s.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let (adm, csrf) = s.login("admin2").await;
    let change = |active: bool| {
        adm.put(s.url(&format!("/api/v1/staff/{id}")))
            .header("x-csrf-token", &csrf)
            .json(&json!({"display_name": "Leif Lien", "active": active, "roles": ["service_owner", "support"]}))
            .send()
    };
    assert_eq!(change(false).await.unwrap().status(), 204);
    assert_eq!(
        leder
            .get(s.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        401,
        "session ended"
    );
    let res = s
        .client()
        .post(s.url("/api/v1/auth/login"))
        .json(&json!({"username": "leder", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "a deactivated account cannot log in");
    assert_eq!(change(true).await.unwrap().status(), 204);
    let (leder, _) = s.login("leder").await;
    let me: Value = leder
        .get(s.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["roles"], json!(["service_owner", "support"]));
    // An administrator cannot lock themselves out.
    let me: Value = adm
        .get(s.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let res = adm
        .put(s.url(&format!("/api/v1/staff/{}", me["id"].as_str().unwrap())))
        .header("x-csrf-token", &csrf)
        .json(&json!({"display_name": "Admin", "active": false, "roles": ["administrator"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    let filter = helsebro_app::types::AuditFilter {
        action: Some("staff.updated".into()),
        limit: 10,
        ..Default::default()
    };
    let updates = s.store.search_audit(&filter).await.unwrap();
    assert_eq!(
        updates.len(),
        2,
        "both changes are logged, the refused one is not"
    );
    assert!(
        updates
            .iter()
            .all(|e| e.object == format!("staff:{id}") && e.actor_label == "admin2")
    );
}

#[tokio::test]
async fn service_areas_are_managed_by_administrators_only() {
    let s = TestServer::start().await;
    s.add_staff("admin2", &[Role::Administrator]).await;
    s.add_staff("leder", &[Role::ServiceOwner]).await;
    let (adm, csrf) = s.login("admin2").await;
    let create = |name: &'static str| {
        adm.post(s.url("/api/v1/units"))
            .header("x-csrf-token", &csrf)
            .json(&json!({"name": name, "kind": "home_care"}))
            .send()
    };
    let res = create("Hjemmetjenesten nord").await.unwrap();
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        create("Hjemmetjenesten nord").await.unwrap().status(),
        409,
        "names are unique"
    );
    let res = adm
        .put(s.url(&format!("/api/v1/units/{id}")))
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "Hjemmetjenesten Nord", "kind": "nursing_home", "active": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let units: Vec<Value> = adm
        .get(s.url("/api/v1/units"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        units,
        vec![
            json!({"id": id, "name": "Hjemmetjenesten Nord", "kind": "nursing_home", "active": false})
        ]
    );
    let res = adm
        .put(s.url(&format!("/api/v1/units/{}", uuid::Uuid::nil())))
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "X", "kind": "other", "active": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let (leder, leder_csrf) = s.login("leder").await;
    let res = leder
        .post(s.url("/api/v1/units"))
        .header("x-csrf-token", &leder_csrf)
        .json(&json!({"name": "Mine", "kind": "other"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn administrators_send_a_test_message_and_see_the_outbox() {
    use helsebro_notify::providers::Provider;
    use helsebro_notify::sender::{Sender, SenderSettings};
    let s = TestServer::start().await;
    s.add_staff("admin2", &[Role::Administrator]).await;
    s.add_staff("leder", &[Role::ServiceOwner]).await;
    let (adm, csrf) = s.login("admin2").await;
    let send = |channel: &'static str, recipient: &'static str| {
        adm.post(s.url("/api/v1/outbox/test"))
            .header("x-csrf-token", &csrf)
            .json(&json!({"channel": channel, "recipient": recipient, "language": "nn"}))
            .send()
    };
    assert_eq!(send("sms", "912 34 567").await.unwrap().status(), 202);
    assert_eq!(
        send("email", "it@fjordvik.example").await.unwrap().status(),
        202
    );
    assert_eq!(
        send("sms", "12").await.unwrap().status(),
        422,
        "a phone number that cannot be one"
    );
    assert_eq!(send("email", "not-an-address").await.unwrap().status(), 422);
    assert_eq!(send("pigeon", "x").await.unwrap().status(), 422);

    let outbox: Value = adm
        .get(s.url("/api/v1/outbox"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let messages = outbox["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2, "refused requests queued nothing");
    let sms = messages.iter().find(|m| m["channel"] == "sms").unwrap();
    assert_eq!(sms["recipient"], "+4791234567");
    assert_eq!(sms["status"], "queued");
    assert!(
        sms["body"].as_str().unwrap().contains("testmelding"),
        "nynorsk text: {sms}"
    );

    // The development outbox "delivers" by keeping them.
    let sender = Sender::new(
        s.store.clone(),
        std::sync::Arc::new(s.clock.clone()),
        Provider::DevOutbox,
        Provider::DevOutbox,
        SenderSettings::default(),
    );
    assert_eq!(sender.run_once().await.unwrap(), 2);
    let page = adm
        .get(s.url("/admin/outbox"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("+4791234567") && page.contains("development outbox"),
        "the viewer shows them"
    );

    let (leder, _) = s.login("leder").await;
    assert_eq!(
        leder
            .get(s.url("/api/v1/outbox"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        leder
            .get(s.url("/admin/outbox"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let filter = helsebro_app::types::AuditFilter {
        action: Some("notify.test_sent".into()),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(s.store.search_audit(&filter).await.unwrap().len(), 2);
}

#[tokio::test]
async fn the_care_team_grows_and_shrinks_with_access() {
    let s = TestServer::start().await;
    s.add_staff("lege", &[Role::Clinician]).await;
    let other = s.add_staff("sykepleier", &[Role::FollowUpNurse]).await;
    let support = s.add_staff("support", &[Role::Support]).await;
    let (a, csrf) = s.login("lege").await;
    let patient = register(&s, &a, &csrf, "Astrid Lunde", "210650123").await;
    let (b, _) = s.login("sykepleier").await;
    let read = || b.get(s.url(&format!("/api/v1/patients/{patient}"))).send();
    assert_eq!(read().await.unwrap().status(), 403);

    let member =
        |staff: uuid::Uuid| s.url(&format!("/api/v1/patients/{patient}/care-team/{staff}"));
    let put = |staff: uuid::Uuid, role: &'static str| {
        a.put(member(staff))
            .header("x-csrf-token", &csrf)
            .json(&json!({"team_role": role}))
            .send()
    };
    assert_eq!(
        put(other, "chief").await.unwrap().status(),
        422,
        "unknown team role"
    );
    assert_eq!(
        put(support, "advising").await.unwrap().status(),
        422,
        "support staff do not treat patients"
    );
    assert_eq!(put(other, "following_up").await.unwrap().status(), 204);
    assert_eq!(read().await.unwrap().status(), 200, "on the team now");
    let rec: Value = read().await.unwrap().json().await.unwrap();
    assert_eq!(rec["care_team"].as_array().unwrap().len(), 2);

    let res = a
        .delete(member(other))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(
        read().await.unwrap().status(),
        403,
        "off the team, no access"
    );
    let res = a
        .delete(member(other))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404, "not on the team any more");
    let me: Value = a
        .get(s.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let me = uuid::Uuid::parse_str(me["id"].as_str().unwrap()).unwrap();
    let res = a
        .delete(member(me))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        409,
        "the last member cannot leave the team empty"
    );
    let filter = helsebro_app::types::AuditFilter {
        action: Some("care_team.changed".into()),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(
        s.store.search_audit(&filter).await.unwrap().len(),
        2,
        "the add and the removal"
    );
}
