//! Authentication through the session engine (DM Protocol 1.3 §9, DIGEST.md §3): the §9.4
//! examples replayed, scheme and nonce handling, HMAC, and the client checking the server's
//! credentials against SRVCRED.
//!
//! Appendix B of DM Protocol 1.3 has no client SCR of its own for authentication (it is part of
//! the session setup phase, DM-PRO-C-001-M, and of package #1, DM-PRO-Session-C-002-M); the
//! tests are named after those and the §9 clause they prove.

mod common;
mod scenario;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use common::*;
use omadm_client::session::{Event, Outcome, Step};
use omadm_client::SessionError;
use omadm_security::cred::{self, AuthScheme};
use omadm_security::hmac_header::{verify_mac, HmacHeader, MacAlgorithm};
use omadm_security::nonce::Nonce;
use omadm_syncml::{Command, Cred, Encoding, Message, Meta};
use omadm_tree::{Caller, Tree};
use scenario::*;

const CLCRED: &str = "./DMAcc/Srv/AppAuth/1";
const SRVCRED: &str = "./DMAcc/Srv/AppAuth/2";

/// The SyncHdr of a client message without its Meta (MaxMsgSize/MaxObjSize, which the §9.4
/// examples leave out of package #1: they show no Meta at all).
fn hdr_without_meta(m: &Message) -> omadm_syncml::SyncHdr {
    let mut h = m.hdr.clone();
    h.meta = None;
    h
}

/// A device whose CLCRED has a name and a secret but no AAuthType (StdObj DMAcc: AAuthType is
/// ZeroOrOne): the client has no scheme to pre-configure credentials with, so, as in §9.4.1, it
/// starts without `Cred` and learns the scheme from the server's challenge. `nonce` is the
/// stored AAuthData.
fn device_without_scheme(nonce: &[u8]) -> Tree {
    let mut t = device(Some("BASIC"), None);
    t.delete(Caller::Device, &format!("{CLCRED}/AAuthType"))
        .unwrap();
    t.replace(
        Caller::Device,
        &format!("{CLCRED}/AAuthData"),
        None,
        None,
        nonce,
    )
    .unwrap();
    t
}

fn stored(dev: &Dev, cred: &str) -> Vec<u8> {
    dev.value(&format!("{cred}/AAuthData")).unwrap()
}

fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// The nonces the client issues in its challenges: `client-nonce-1`, `client-nonce-2`...
fn fixed_nonces(dev: &mut Dev) {
    let mut i = 0;
    dev.session.set_nonce_source(Box::new(move || {
        i += 1;
        Nonce::from_bytes(issued(i))
    }));
}

fn issued(i: usize) -> Vec<u8> {
    format!("client-nonce-{i}").into_bytes()
}

/// The commands of package #1 (Alert 1201 and the DevInfo Replace), as first sent.
fn pkg1_commands(m: &Message) -> Vec<Command> {
    assert_eq!(alerts(m), [1201]);
    assert!(matches!(&m.body.commands[1], Command::Replace(_)));
    assert!(m.body.final_);
    m.body.commands.clone()
}

/// §9.4.1, exactly: package #1 without credentials, the server's 407 with a basic Chal (the
/// spec's own message), package #1 again as MsgID 2 with the basic `Cred` of Bruce2/OhBehave
/// (the spec's SyncHdr), then the spec's 212, after which no Cred is sent and the session goes
/// on.
#[test]
fn dm_pro_c_001_9_4_1_basic_challenge_resends_package_1() {
    let mut dev = Dev::new(device_without_scheme(b""), config());
    let pkg1 = dev.start();
    let golden = Message::decode(&spec_example("dmpro_9.4.1_pkg1_client_init_nocred.xml")).unwrap();
    assert_eq!(hdr_without_meta(&pkg1), golden.hdr);
    let first = pkg1_commands(&pkg1);

    let challenge = spec_example("dmpro_9.4.1_pkg2_server_challenge_basic.xml");
    assert!(matches!(
        dev.recv_bytes(&challenge, None),
        Ok(Step::Send(_))
    ));
    assert!(dev.events.contains(&Event::Challenged {
        code: 407,
        scheme: Some(AuthScheme::Basic)
    }));
    let again = dev.last();
    let golden =
        Message::decode(&spec_example("dmpro_9.4.1_pkg1_client_init_basic_cred.xml")).unwrap();
    assert_eq!(hdr_without_meta(&again), golden.hdr);
    assert_eq!(
        again.hdr.cred.as_ref().unwrap().data,
        "QnJ1Y2UyOk9oQmVoYXZl",
        "base64 of Bruce2:OhBehave"
    );
    // §9: "MUST resend the Alert and DevInfo along with the credentials".
    assert_eq!(again.body.commands, first);
    assert!(again.body.final_);

    // The spec's 212 (its SyncBody has no Final: the server's package goes on).
    let accepted = spec_example("dmpro_9.4.1_pkg2_server_auth_accepted.xml");
    assert!(matches!(dev.recv_bytes(&accepted, None), Ok(Step::Send(_))));
    assert!(dev
        .events
        .contains(&Event::ClientAuthenticated { code: 212 }));
    let m3 = dev.last();
    assert_eq!(hdr_code(&m3), Some(200));
    assert!(m3.hdr.cred.is_none(), "212: authenticated for the session");
    assert_eq!(
        alerts(&m3),
        [1222],
        "§7.2: the server's package is not complete"
    );
    assert!(!m3.body.final_);

    // The rest of package #2, then the end.
    let mut cmds = answers_to(&m3, 200);
    cmds.push(add("./Vendor/Seen", "yes"));
    let m4 = dev.answer(&server_msg(3, cmds, true));
    assert!(m4.hdr.cred.is_none());
    assert_eq!(statuses(&m4), [("Add".into(), "3".into(), 200)]);
    assert!(m4.body.final_);
    assert_eq!(
        ended(dev.recv(&server_msg(4, answers_to(&m4, 200), true))),
        Outcome::Completed
    );
    assert_eq!(dev.value("./Vendor/Seen").unwrap(), b"yes");
}

/// §9.4.2: challenged for MD5 with the nonce `Nonce`, the client answers with the spec's digest
/// `Zz6EivR3yeaaENcRN6lpAQ==` and LocName Bruce2 (the spec's SyncHdr); the spec's 212 carries
/// NextNonce `LG3iZQhhdmKNHg==`, which the DMAcc keeps for the next session. The stored nonce
/// starts as something else, so the digest can only come from the challenge.
///
/// The spec's 212 message says MsgRef 1 where the client's message was MsgID 2 (the example
/// reuses 9.4.1's numbering loosely); the engine does not tie the SyncHdr status to a MsgRef.
#[test]
fn dm_pro_c_001_9_4_2_md5_challenge_and_next_nonce() {
    let mut dev = Dev::new(device_without_scheme(b"stale"), config());
    let pkg1 = dev.start();
    assert!(pkg1.hdr.cred.is_none());
    assert!(pkg1.hdr.source.loc_name.is_none());

    let m2 = dev.answer(&server_msg(
        1,
        vec![hdr_status_chal(
            1,
            407,
            "syncml:auth-md5",
            Some(&b64(b"Nonce")),
        )],
        false,
    ));
    assert!(dev.events.contains(&Event::Challenged {
        code: 407,
        scheme: Some(AuthScheme::Md5)
    }));
    let golden =
        Message::decode(&spec_example("dmpro_9.4.2_pkg1_client_init_md5_cred.xml")).unwrap();
    assert_eq!(hdr_without_meta(&m2), golden.hdr);
    assert_eq!(
        m2.hdr.cred.as_ref().unwrap().data,
        "Zz6EivR3yeaaENcRN6lpAQ=="
    );
    assert_eq!(m2.body.commands, pkg1.body.commands);

    let accepted = spec_example("dmpro_9.4.2_pkg2_server_auth_accepted_nextnonce.xml");
    assert!(matches!(dev.recv_bytes(&accepted, None), Ok(Step::Send(_))));
    let m3 = dev.last();
    assert!(
        m3.hdr.cred.is_none(),
        "212: no more credentials this session"
    );
    assert_eq!(alerts(&m3), [1222]);

    assert_eq!(
        ended(dev.recv(&server_msg(3, answers_to(&m3, 200), true))),
        Outcome::Completed
    );
    assert_eq!(
        stored(&dev, CLCRED),
        STANDARD.decode("LG3iZQhhdmKNHg==").unwrap(),
        "the NextNonce of the 212, decoded, is the next session's nonce"
    );
}

/// §9.1 and DIGEST.md §3.3 over three sessions of an account configured for MD5: each session's
/// first `Cred` uses the nonce the previous one was given with its 212; a session whose
/// credentials are never accepted does not overwrite the stored nonce, even though it used the
/// newer one it was challenged with.
#[test]
fn dm_pro_c_001_9_1_md5_nonce_rotates_across_sessions() {
    let mut tree = device(Some("DIGEST"), None);
    let n1 = b"next-nonce-one".to_vec();
    let n2 = b"next-nonce-two".to_vec();

    // Session 1: pre-configured MD5 over the stored `Nonce` — §9.4.2's digest in MsgID 1.
    {
        let mut dev = Dev::new(tree, config());
        let pkg1 = dev.start();
        let golden =
            Message::decode(&spec_example("dmpro_9.4.2_pkg1_client_init_md5_cred.xml")).unwrap();
        let mut want = golden.hdr.clone();
        want.msg_id = "1".into();
        assert_eq!(hdr_without_meta(&pkg1), want);
        let mut cmds = vec![hdr_status_chal(1, 212, "syncml:auth-md5", Some(&b64(&n1)))];
        cmds.extend(answers_to_pkg1(1).into_iter().skip(1));
        assert_eq!(
            ended(dev.recv(&server_msg(1, cmds, true))),
            Outcome::Completed
        );
        assert_eq!(stored(&dev, CLCRED), n1);
        tree = std::mem::take(&mut dev.tree);
    }
    // Session 2: the Cred uses n1; the 212 brings n2.
    {
        let mut cfg = config();
        cfg.session_id = "2".into();
        let mut dev = Dev::new(tree, cfg);
        let pkg1 = dev.start();
        assert_eq!(
            pkg1.hdr.cred.as_ref().unwrap().data,
            cred::md5_digest(CL_NAME, CL_SECRET, &n1)
        );
        let mut m = server_msg(
            1,
            vec![hdr_status_chal(1, 212, "syncml:auth-md5", Some(&b64(&n2)))],
            true,
        );
        m.hdr.session_id = "2".into();
        assert_eq!(ended(dev.recv(&m)), Outcome::Completed);
        assert_eq!(stored(&dev, CLCRED), n2);
        tree = std::mem::take(&mut dev.tree);
    }
    // Session 3: refused with a fresh nonce, retried with it, then the server gives up: n2 stays.
    {
        let mut cfg = config();
        cfg.session_id = "3".into();
        let mut dev = Dev::new(tree, cfg);
        let pkg1 = dev.start();
        assert_eq!(
            pkg1.hdr.cred.as_ref().unwrap().data,
            cred::md5_digest(CL_NAME, CL_SECRET, &n2)
        );
        let mut m = server_msg(
            1,
            vec![hdr_status_chal(
                1,
                401,
                "syncml:auth-md5",
                Some(&b64(b"n3")),
            )],
            true,
        );
        m.hdr.session_id = "3".into();
        let m2 = dev.answer(&m);
        assert_eq!(
            m2.hdr.cred.as_ref().unwrap().data,
            cred::md5_digest(CL_NAME, CL_SECRET, b"n3")
        );
        let mut abort = server_msg(2, vec![alert(omadm_syncml::AlertCode::SESSION_ABORT)], true);
        abort.hdr.session_id = "3".into();
        assert_eq!(ended(dev.recv(&abort)), Outcome::AbortedByServer);
        assert_eq!(
            stored(&dev, CLCRED),
            n2,
            "never accepted: the stored nonce stays"
        );
    }
}

/// §9.1: before authentication the server decides the scheme. The account says BASIC; the
/// server refuses it with 401 and a Chal for MD5: package #1 goes again with an MD5 `Cred` over
/// the challenge's nonce (and LocName, §9.4.2), and the session carries on after the 212.
#[test]
fn dm_pro_c_001_9_1_challenge_switches_basic_to_md5() {
    let mut dev = Dev::new(device(Some("BASIC"), None), config());
    let pkg1 = dev.start();
    let c = pkg1.hdr.cred.as_ref().unwrap();
    assert_eq!(
        c.meta.as_ref().unwrap().type_.as_deref(),
        Some("syncml:auth-basic")
    );
    assert_eq!(c.data, cred::basic(CL_NAME, CL_SECRET));

    let m2 = dev.answer(&server_msg(
        1,
        vec![hdr_status_chal(
            1,
            401,
            "syncml:auth-md5",
            Some(&b64(b"switch")),
        )],
        true,
    ));
    let c = m2.hdr.cred.as_ref().unwrap();
    assert_eq!(
        c.meta.as_ref().unwrap().type_.as_deref(),
        Some("syncml:auth-md5")
    );
    assert_eq!(c.data, cred::md5_digest(CL_NAME, CL_SECRET, b"switch"));
    assert_eq!(m2.hdr.source.loc_name.as_deref(), Some(CL_NAME));
    assert_eq!(m2.body.commands, pkg1.body.commands);

    let mut cmds = answers_to_pkg1(2);
    cmds.push(add("./Vendor/After", "1"));
    let m3 = dev.answer(&server_msg(2, cmds, true));
    assert!(m3.hdr.cred.is_none());
    assert_eq!(statuses(&m3).last().unwrap().2, 200);
    assert_eq!(
        ended(dev.recv(&server_msg(3, answers_to(&m3, 200), true))),
        Outcome::Completed
    );
}

/// §9.1 / DIGEST.md §3.3: credentials refused again and again end the session with
/// `AuthFailed` once the retries are spent — package #1 with credentials, one retry for a stale
/// nonce and one more — never a loop, never a panic, and every message a proper package #1.
#[test]
fn dm_pro_c_001_9_1_repeated_401_is_auth_failed() {
    for scheme in ["syncml:auth-basic", "syncml:auth-md5"] {
        let mut dev = Dev::new(device(Some("BASIC"), None), config());
        let pkg1 = dev.start();
        let mut last = None;
        for round in 1..=4u32 {
            let nonce = b64(format!("nonce-{round}").as_bytes());
            let m = server_msg(
                round,
                vec![hdr_status_chal(round, 401, scheme, Some(&nonce))],
                true,
            );
            let r = dev.recv(&m);
            let stop = r.is_err();
            last = Some(r);
            if stop {
                break;
            }
        }
        assert!(
            matches!(last, Some(Err(SessionError::AuthFailed { code: 401 }))),
            "{scheme}: {last:?}"
        );
        assert_eq!(dev.sent.len(), 3, "{scheme}: package #1 and two retries");
        for out in &dev.sent {
            let m = decode(out);
            assert!(
                m.hdr.cred.is_some(),
                "{scheme}: every try carries credentials"
            );
            assert_eq!(m.body.commands, pkg1.body.commands);
        }
    }
}

/// DIGEST.md §3.5: with CLCRED HMAC the client sends no `Cred`; every message carries an
/// `x-syncml-hmac` header over its exact body with the latest nonce, LocName names the user,
/// and each 200 with a NextNonce moves the next MAC to that nonce. The last nonce is kept.
#[test]
fn dm_pro_c_001_hmac_header_follows_each_next_nonce() {
    let mut dev = Dev::new(device(Some("HMAC"), None), config());
    let pkg1 = dev.start();
    let verify = |out: &omadm_client::session::Outgoing, nonce: &[u8]| {
        let h = HmacHeader::parse(out.hmac.as_deref().expect("x-syncml-hmac")).unwrap();
        assert_eq!(h.username(), CL_NAME);
        assert_eq!(h.algorithm(), MacAlgorithm::Md5);
        verify_mac(&h, CL_SECRET, nonce, &out.body).is_ok()
    };
    assert!(pkg1.hdr.cred.is_none(), "HMAC is never in Cred");
    assert_eq!(pkg1.hdr.source.loc_name.as_deref(), Some(CL_NAME));
    assert!(verify(dev.last_out(), b"Nonce"), "the stored nonce");
    assert!(!verify(dev.last_out(), b"other"));

    let mut cmds = vec![hdr_status_chal(
        1,
        200,
        "syncml:auth-MAC",
        Some(&b64(b"mac-1")),
    )];
    cmds.extend(answers_to_pkg1(1).into_iter().skip(1));
    cmds.push(add("./Vendor/A", "a"));
    let m2 = dev.answer(&server_msg(1, cmds, true));
    assert!(m2.hdr.cred.is_none());
    assert!(verify(dev.last_out(), b"mac-1"));
    assert!(!verify(dev.last_out(), b"Nonce"));

    let mut cmds = vec![hdr_status_chal(
        2,
        200,
        "syncml:auth-MAC",
        Some(&b64(b"mac-2")),
    )];
    cmds.push(get("./Vendor/A"));
    let m3 = dev.answer(&server_msg(2, cmds, true));
    assert!(verify(dev.last_out(), b"mac-2"));
    assert_eq!(results(&m3).len(), 1);

    let end = server_msg(
        3,
        vec![hdr_status_chal(
            3,
            200,
            "syncml:auth-MAC",
            Some(&b64(b"mac-3")),
        )],
        true,
    );
    assert_eq!(ended(dev.recv(&end)), Outcome::Completed);
    assert_eq!(stored(&dev, CLCRED), b"mac-3");
}

/// §9.3 with SRVCRED DIGEST: a server message without credentials gets 407 with a Chal
/// (syncml:auth-md5, b64, a NextNonce the client made up) for its SyncHdr, and each of its
/// commands 407 without being run (§9.1: only Status after an authentication failure). The
/// server's retry with MD5 over that nonce gets 212 (and the nonce for the next session), and
/// its commands run. The nonce issued last is kept in SRVCRED's AAuthData.
#[test]
fn dm_pro_c_001_9_3_server_without_cred_is_challenged_407() {
    let mut dev = Dev::new(device(Some("BASIC"), Some("DIGEST")), config());
    fixed_nonces(&mut dev);
    dev.start();
    let before = dev.snapshot("./Vendor");

    let mut cmds = answers_to_pkg1(1);
    cmds.push(add("./Vendor/A", "a"));
    cmds.push(add("./Vendor/B", "b"));
    let m2 = dev.answer(&server_msg(1, cmds.clone(), true));
    let st = hdr_status_of(&m2).unwrap();
    assert_eq!(st.data, "407");
    let chal = &st.chal.as_ref().expect("407 carries a Chal").meta;
    assert_eq!(chal.type_.as_deref(), Some("syncml:auth-md5"));
    assert_eq!(chal.format.as_deref(), Some("b64"));
    assert_eq!(chal.next_nonce(), Some(b64(&issued(1)).as_str()));
    assert_eq!(
        statuses(&m2),
        [
            ("Add".into(), "4".into(), 407),
            ("Add".into(), "5".into(), 407)
        ]
    );
    assert!(results(&m2).is_empty());
    assert_eq!(dev.snapshot("./Vendor"), before, "nothing executed");
    assert!(dev.events.contains(&Event::ServerChallenged { code: 407 }));

    // The server tries again with the digest over the nonce it was given.
    let mut retry = server_msg(
        2,
        {
            let mut c = vec![hdr_status(2, 200)];
            c.extend(cmds.into_iter().skip(3));
            c
        },
        true,
    );
    retry.hdr.cred = Some(Box::new(server_md5_cred(&issued(1))));
    let m3 = dev.answer(&retry);
    let st = hdr_status_of(&m3).unwrap();
    assert_eq!(st.data, "212");
    let next = st.chal.as_ref().expect("a NextNonce for the next session");
    assert_eq!(next.meta.next_nonce(), Some(b64(&issued(2)).as_str()));
    assert_eq!(
        statuses(&m3),
        [
            ("Add".into(), "2".into(), 200),
            ("Add".into(), "3".into(), 200)
        ]
    );
    assert!(dev.events.contains(&Event::ServerAuthenticated {
        scheme: AuthScheme::Md5
    }));

    // Authenticated for the session: no Cred needed any more.
    assert_eq!(
        ended(dev.recv(&server_msg(3, answers_to(&m3, 200), true))),
        Outcome::Completed
    );
    assert_eq!(dev.value("./Vendor/B").unwrap(), b"b");
    assert_eq!(stored(&dev, SRVCRED), issued(2));
}

/// DIGEST.md §3.3: a wrong credential gets 401 and exactly one more challenge; a second wrong
/// one ends the session with `ServerAuthFailed`. Nothing the server sent is executed.
#[test]
fn dm_pro_c_001_9_3_wrong_server_credentials_twice_fail() {
    let mut dev = Dev::new(device(Some("BASIC"), Some("DIGEST")), config());
    fixed_nonces(&mut dev);
    dev.start();
    let before = dev.snapshot("./Vendor");

    let mut cmds = answers_to_pkg1(1);
    cmds.push(add("./Vendor/A", "a"));
    let mut m = server_msg(1, cmds, true);
    m.hdr.cred = Some(Box::new(server_md5_cred(b"a nonce never issued")));
    let m2 = dev.answer(&m);
    let st = hdr_status_of(&m2).unwrap();
    assert_eq!(st.data, "401");
    assert!(st.chal.is_some(), "§9.1: a 401 MUST carry a Chal");
    assert_eq!(statuses(&m2), [("Add".into(), "4".into(), 401)]);

    let mut m = server_msg(2, vec![hdr_status(2, 200), add("./Vendor/A", "a")], true);
    m.hdr.cred = Some(Box::new(Cred {
        meta: Some(Meta::format_type("b64", "syncml:auth-md5")),
        data: cred::md5_digest(SRV_NAME, "not the secret", &issued(1)).into(),
    }));
    assert!(matches!(
        dev.recv(&m),
        Err(SessionError::ServerAuthFailed { code: 401 })
    ));
    assert_eq!(dev.snapshot("./Vendor"), before);
}

/// §9.1: "the authentication type MUST be kept the same": an account whose SRVCRED says
/// DIGEST does not take a (correct) basic credential in its place — 401 with a Chal for MD5,
/// nothing executed (DIGEST.md §3.4: a scheme this side does not accept).
#[test]
fn dm_pro_c_001_9_3_weaker_server_scheme_is_refused() {
    let mut dev = Dev::new(device(Some("BASIC"), Some("DIGEST")), config());
    fixed_nonces(&mut dev);
    dev.start();
    let mut cmds = answers_to_pkg1(1);
    cmds.push(add("./Vendor/A", "a"));
    let mut m = server_msg(1, cmds, true);
    m.hdr.cred = Some(Box::new(server_basic_cred()));
    let m2 = dev.answer(&m);
    let st = hdr_status_of(&m2).unwrap();
    assert_eq!(st.data, "401");
    assert_eq!(
        st.chal.as_ref().unwrap().meta.type_.as_deref(),
        Some("syncml:auth-md5")
    );
    assert_eq!(statuses(&m2), [("Add".into(), "4".into(), 401)]);
    assert!(dev.value("./Vendor/A").is_none());
}

/// §9.3 with SRVCRED BASIC: the server's basic credential is accepted with 212 (no Chal: basic
/// has no nonce) and later messages need none.
#[test]
fn dm_pro_c_001_9_3_server_basic_accepted_212() {
    let mut dev = Dev::new(device(Some("BASIC"), Some("BASIC")), config());
    dev.start();
    let mut cmds = answers_to_pkg1(1);
    cmds.push(add("./Vendor/A", "a"));
    let mut m = server_msg(1, cmds, true);
    m.hdr.cred = Some(Box::new(server_basic_cred()));
    let m2 = dev.answer(&m);
    let st = hdr_status_of(&m2).unwrap();
    assert_eq!(st.data, "212");
    assert!(st.chal.is_none());
    assert_eq!(statuses(&m2), [("Add".into(), "4".into(), 200)]);

    let mut cmds = answers_to(&m2, 200);
    cmds.push(replace("./Vendor/A", "b"));
    let m3 = dev.answer(&server_msg(2, cmds, true));
    assert_eq!(hdr_code(&m3), Some(200));
    assert_eq!(statuses(&m3), [("Replace".into(), "2".into(), 200)]);
    assert_eq!(
        ended(dev.recv(&server_msg(3, answers_to(&m3, 200), true))),
        Outcome::Completed
    );
    assert_eq!(dev.value("./Vendor/A").unwrap(), b"b");
}

/// DIGEST.md §3.5 with SRVCRED HMAC: the server's `x-syncml-hmac` (Incoming.hmac) is checked
/// over the exact body with the nonce the client issued; missing → 407 with a Chal
/// (syncml:auth-MAC), right → 200 with a fresh NextNonce in every answer, wrong → 401. The last
/// nonce the server used is stored in SRVCRED.
#[test]
fn dm_pro_c_001_hmac_server_verified_each_message() {
    let mut dev = Dev::new(device(Some("BASIC"), Some("HMAC")), config());
    fixed_nonces(&mut dev);
    dev.start();
    let signed = |m: &Message, nonce: &[u8]| {
        let body = m.encode(Encoding::Xml).unwrap();
        let h = HmacHeader::sign(MacAlgorithm::Md5, SRV_NAME, SRV_SECRET, nonce, &body)
            .unwrap()
            .to_header_value();
        (body, h)
    };

    let mut cmds = answers_to_pkg1(1);
    cmds.push(add("./Vendor/A", "a"));
    let m = server_msg(1, cmds.clone(), true);
    let m2 = dev.answer(&m);
    let st = hdr_status_of(&m2).unwrap();
    assert_eq!(st.data, "407");
    let chal = &st.chal.as_ref().unwrap().meta;
    assert_eq!(chal.type_.as_deref(), Some("syncml:auth-MAC"));
    assert_eq!(chal.next_nonce(), Some(b64(&issued(1)).as_str()));
    assert_eq!(statuses(&m2), [("Add".into(), "4".into(), 407)]);

    // Signed with the nonce it was given: accepted, 200 (not 212) and a new nonce.
    let m = server_msg(2, vec![hdr_status(2, 200), add("./Vendor/A", "a")], true);
    let (body, h) = signed(&m, &issued(1));
    assert!(matches!(dev.recv_bytes(&body, Some(&h)), Ok(Step::Send(_))));
    let m3 = dev.last();
    let st = hdr_status_of(&m3).unwrap();
    assert_eq!(st.data, "200");
    assert_eq!(
        st.chal.as_ref().unwrap().meta.next_nonce(),
        Some(b64(&issued(2)).as_str())
    );
    assert_eq!(statuses(&m3), [("Add".into(), "2".into(), 200)]);
    assert!(dev.events.contains(&Event::ServerAuthenticated {
        scheme: AuthScheme::Hmac
    }));

    // The old nonce no longer verifies: 401 and a Chal, the Replace not run.
    let m = server_msg(
        3,
        vec![hdr_status(3, 200), replace("./Vendor/A", "x")],
        true,
    );
    let (body, h) = signed(&m, &issued(1));
    assert!(matches!(dev.recv_bytes(&body, Some(&h)), Ok(Step::Send(_))));
    let m4 = dev.last();
    assert_eq!(hdr_code(&m4), Some(401));
    let issued3 = b64(&issued(3));
    assert_eq!(
        hdr_status_of(&m4)
            .unwrap()
            .chal
            .as_ref()
            .unwrap()
            .meta
            .next_nonce(),
        Some(issued3.as_str())
    );
    assert_eq!(statuses(&m4), [("Replace".into(), "2".into(), 401)]);
    assert_eq!(dev.value("./Vendor/A").unwrap(), b"a");

    // Every message must carry the MAC, now over the latest nonce.
    let m = server_msg(
        4,
        vec![hdr_status(4, 200), replace("./Vendor/A", "y")],
        true,
    );
    let (body, h) = signed(&m, &issued(3));
    assert!(matches!(dev.recv_bytes(&body, Some(&h)), Ok(Step::Send(_))));
    let m5 = dev.last();
    assert_eq!(hdr_code(&m5), Some(200));
    assert_eq!(statuses(&m5), [("Replace".into(), "2".into(), 200)]);

    let m = server_msg(5, vec![hdr_status(5, 200)], true);
    let (body, h) = signed(&m, &issued(4));
    assert_eq!(ended(dev.recv_bytes(&body, Some(&h))), Outcome::Completed);
    assert_eq!(dev.value("./Vendor/A").unwrap(), b"y");
    assert_eq!(stored(&dev, SRVCRED), issued(4));
}

/// §9.1: "If a request includes security credentials and the response code to the request is
/// 200, the same credentials MUST be sent within the next request"; with a Chal, the digest is
/// made with its next nonce. Each message then carries a fresh MD5 Cred.
#[test]
fn dm_pro_c_001_9_1_status_200_asks_credentials_again_with_next_nonce() {
    let mut dev = Dev::new(device(Some("DIGEST"), None), config());
    dev.start();
    let mut cmds = vec![hdr_status_chal(
        1,
        200,
        "syncml:auth-md5",
        Some(&b64(b"n-1")),
    )];
    cmds.extend(answers_to_pkg1(1).into_iter().skip(1));
    cmds.push(add("./Vendor/A", "a"));
    let m2 = dev.answer(&server_msg(1, cmds, true));
    assert_eq!(
        m2.hdr.cred.as_ref().unwrap().data,
        cred::md5_digest(CL_NAME, CL_SECRET, b"n-1")
    );
    let mut cmds = vec![hdr_status_chal(
        2,
        200,
        "syncml:auth-md5",
        Some(&b64(b"n-2")),
    )];
    cmds.push(get("./Vendor/A"));
    let m3 = dev.answer(&server_msg(2, cmds, true));
    assert_eq!(
        m3.hdr.cred.as_ref().unwrap().data,
        cred::md5_digest(CL_NAME, CL_SECRET, b"n-2")
    );
    let end = server_msg(3, vec![hdr_status(3, 212)], true);
    assert_eq!(ended(dev.recv(&end)), Outcome::Completed);
    assert_eq!(stored(&dev, CLCRED), b"n-2");
}

/// §9.1 in the middle of a package #3 that spans messages: the server refuses one of its
/// messages (401 with a new nonce); the client sends that message's Statuses and Results
/// again with credentials over the new nonce, and the rest of its package after them — every
/// answer still arrives exactly once in the messages the server accepted.
#[test]
fn dm_pro_c_001_9_1_challenge_mid_package_resends_without_losing_answers() {
    let mut tree = device(Some("DIGEST"), None);
    for i in 0..30 {
        tree.add(
            Caller::Device,
            &format!("./Vendor/N{i:02}"),
            omadm_tree::format::NodeFormat::Chr,
            None,
            format!("value-{i:02}-{}", "x".repeat(40)).as_bytes(),
        )
        .unwrap();
    }
    let mut dev = Dev::new(tree, config());
    dev.start();
    let mut cmds = vec![hdr_status_chal(
        1,
        200,
        "syncml:auth-md5",
        Some(&b64(b"n-1")),
    )];
    cmds.extend(answers_to_pkg1(1).into_iter().skip(1));
    cmds.extend((0..30).map(|i| get(&format!("./Vendor/N{i:02}"))));
    let mut pkg2 = server_msg(1, cmds, true);
    let mut meta = Meta::default();
    meta.more_mut().max_msg_size = Some("2048".into());
    pkg2.hdr.meta = Some(meta);
    let mut m = dev.answer(&pkg2);
    assert!(!m.body.final_, "the answers need several messages");

    // The server refuses the first message of package #3.
    let refused = m.clone();
    let retry = dev.answer(&server_msg(
        2,
        vec![hdr_status_chal(
            2,
            401,
            "syncml:auth-md5",
            Some(&b64(b"n-2")),
        )],
        true,
    ));
    assert_eq!(
        retry.hdr.cred.as_ref().unwrap().data,
        cred::md5_digest(CL_NAME, CL_SECRET, b"n-2")
    );
    let strip = |m: &Message| -> Vec<Command> {
        m.body
            .commands
            .iter()
            .filter(|c| !matches!(c, Command::Status(s) if s.cmd == "SyncHdr"))
            .cloned()
            .map(|mut c| {
                if let Command::Status(s) = &mut c {
                    s.cmd_id = "".into();
                }
                if let Command::Results(r) = &mut c {
                    r.cmd_id = "".into();
                }
                c
            })
            .collect()
    };
    let resent = strip(&retry);
    assert_eq!(
        resent[..strip(&refused).len()],
        strip(&refused)[..],
        "the refused message's answers come first, unchanged"
    );

    let mut accepted = vec![retry.clone()];
    m = retry;
    let mut id = 3;
    while !m.body.final_ {
        let mut cmds = answers_to(&m, 200);
        cmds[0] = hdr_status_chal(id - 1, 200, "syncml:auth-md5", Some(&b64(b"n-3")));
        cmds.push(alert(omadm_syncml::AlertCode::NEXT_MESSAGE));
        m = dev.answer(&server_msg(id, cmds, false));
        accepted.push(m.clone());
        id += 1;
    }
    let answered: Vec<String> = accepted
        .iter()
        .flat_map(|m| m.body.commands.iter())
        .filter_map(|c| match c {
            Command::Status(s) if s.cmd == "Get" => Some(format!("S{}", s.cmd_ref)),
            Command::Results(r) => Some(format!("R{}", r.cmd_ref)),
            _ => None,
        })
        .collect();
    let want: Vec<String> = (4..34)
        .flat_map(|i| [format!("S{i}"), format!("R{i}")])
        .collect();
    assert_eq!(answered, want);
    let end = server_msg(id, answers_to(&m, 200), true);
    assert_eq!(ended(dev.recv(&end)), Outcome::Completed);
}

/// DIGEST.md §3.3: the retry budget is per challenge, not per session. A server that wants
/// credentials in every message (200) and challenges three times during a long session — each
/// time answered correctly — does not make the client give up.
#[test]
fn dm_pro_c_001_9_1_each_challenge_has_its_own_retries() {
    let mut dev = Dev::new(device(Some("DIGEST"), None), config());
    dev.start();
    let mut cmds = vec![hdr_status(1, 200)];
    cmds.extend(answers_to_pkg1(1).into_iter().skip(1));
    cmds.push(add("./Vendor/A", "0"));
    dev.answer(&server_msg(1, cmds, true));
    let mut id = 2;
    for round in 1..=3 {
        let nonce = format!("round-{round}");
        let m = dev.answer(&server_msg(
            id,
            vec![hdr_status_chal(
                id,
                401,
                "syncml:auth-md5",
                Some(&b64(nonce.as_bytes())),
            )],
            true,
        ));
        id += 1;
        assert_eq!(
            m.hdr.cred.as_ref().unwrap().data,
            cred::md5_digest(CL_NAME, CL_SECRET, nonce.as_bytes()),
            "round {round}"
        );
        let mut cmds = vec![hdr_status(id - 1, 200)];
        cmds.push(replace("./Vendor/A", &round.to_string()));
        let m = dev.answer(&server_msg(id, cmds, true));
        id += 1;
        assert_eq!(statuses(&m), [("Replace".into(), "2".into(), 200)]);
    }
    let end = server_msg(id, vec![hdr_status(id - 1, 212)], true);
    assert_eq!(ended(dev.recv(&end)), Outcome::Completed);
    assert_eq!(dev.value("./Vendor/A").unwrap(), b"3");
}

/// §9: when the server challenges the client in package #2, the client goes back to package #1
/// and "MUST NOT challenge the DM Server" there; the server's missing credentials in that
/// message do not count as a failed attempt. The server's next message, still without
/// credentials, gets the first challenge (407), not the end of the session.
#[test]
fn dm_pro_c_001_9_no_server_challenge_while_resending_package_1() {
    let mut tree = device(Some("BASIC"), Some("DIGEST"));
    tree.delete(Caller::Device, &format!("{CLCRED}/AAuthType"))
        .unwrap();
    let mut dev = Dev::new(tree, config());
    fixed_nonces(&mut dev);
    dev.start();
    let again = dev.answer(&server_msg(
        1,
        vec![hdr_status_chal(1, 407, "syncml:auth-basic", None)],
        true,
    ));
    assert!(
        !again
            .body
            .commands
            .iter()
            .any(|c| matches!(c, Command::Status(_))),
        "package #1 again, no Status and so no challenge"
    );
    assert!(again.hdr.cred.is_some());

    let mut cmds = answers_to_pkg1(2);
    cmds.push(add("./Vendor/A", "a"));
    let m3 = dev.answer(&server_msg(2, cmds, true));
    let st = hdr_status_of(&m3).unwrap();
    assert_eq!(st.data, "407");
    assert_eq!(
        st.chal.as_ref().unwrap().meta.next_nonce(),
        Some(b64(&issued(1)).as_str()),
        "the first nonce issued is the one sent"
    );
    assert_eq!(statuses(&m3), [("Add".into(), "4".into(), 407)]);

    let mut m = server_msg(3, vec![hdr_status(3, 200), add("./Vendor/A", "a")], true);
    m.hdr.cred = Some(Box::new(server_md5_cred(&issued(1))));
    let m4 = dev.answer(&m);
    assert_eq!(hdr_code(&m4), Some(212));
    assert_eq!(dev.value("./Vendor/A").unwrap(), b"a");
}

/// A server Status for the client's SyncHdr without a number (libdmclient-style breakage seen
/// the other way round): the client ends the session with an error naming what it got, and
/// never treats it as some status code (no status `0` anywhere).
#[test]
fn dm_pro_c_001_non_numeric_hdr_status_is_an_error_not_code_0() {
    let mut dev = Dev::new(device(Some("BASIC"), None), config());
    dev.start();
    let mut cmds = answers_to_pkg1(1);
    if let Command::Status(s) = &mut cmds[0] {
        s.data = "OK".into();
    }
    match dev.recv(&server_msg(1, cmds, true)) {
        Err(SessionError::MalformedStatus { data }) => assert_eq!(data, "OK"),
        other => panic!("expected MalformedStatus, got {other:?}"),
    }
}
