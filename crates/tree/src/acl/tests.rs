use proptest::prelude::*;

use super::*;

const SPEC_EXAMPLE: &str =
    "Add=www.sonera.fi-8765&Delete=www.sonera.fi-8765&Replace=www.sonera.fi-8765+321_ibm.com&Get=*";

fn acl(s: &str) -> Acl {
    s.parse().unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

fn syntax(s: &str) -> Result<Acl, (usize, AclSyntax)> {
    s.parse::<Acl>().map_err(|e| match e {
        AclError::Syntax { offset, kind } => (offset, kind),
        other => panic!("{other:?}"),
    })
}

#[test]
fn tnd_acl_spec_example_parses_and_prints_identically() {
    let a = acl(SPEC_EXAMPLE);
    assert_eq!(a.to_string(), SPEC_EXAMPLE);
    let named = |s: &str| ServerId::Named(s.into());
    assert_eq!(
        a.ids(AclCommand::Replace),
        [named("www.sonera.fi-8765"), named("321_ibm.com")]
    );
    assert_eq!(a.ids(AclCommand::Get), [ServerId::Any]);
    assert_eq!(a.ids(AclCommand::Exec), []);
}

#[test]
fn tnd_acl_spec_example_permits() {
    let a = acl(SPEC_EXAMPLE);
    let sonera = "www.sonera.fi-8765";
    for cmd in [
        AclCommand::Add,
        AclCommand::Delete,
        AclCommand::Replace,
        AclCommand::Get,
    ] {
        assert!(a.permits(cmd, sonera), "{cmd}");
    }
    assert!(!a.permits(AclCommand::Exec, sonera));
    assert!(a.permits(AclCommand::Replace, "321_ibm.com"));
    assert!(!a.permits(AclCommand::Add, "321_ibm.com"));
    assert!(a.permits(AclCommand::Get, "anybody"));
    assert!(!a.permits(AclCommand::Delete, "anybody"));
    // Server ids compare exactly.
    assert!(!a.permits(AclCommand::Add, "WWW.SONERA.FI-8765"));
}

#[test]
fn tnd_acl_empty_string_is_empty_acl() {
    let a = acl("");
    assert!(a.is_empty());
    assert_eq!(a, Acl::default());
    assert_eq!(a.to_string(), "");
    assert!(!a.permits(AclCommand::Get, "a"));
}

#[test]
fn tnd_acl_star_overrides_named_ids() {
    let a = acl("Get=a+*");
    assert!(a.permits(AclCommand::Get, "a"));
    assert!(a.permits(AclCommand::Get, "b"));
    assert_eq!(a.to_string(), "Get=a+*");
}

#[test]
fn tnd_acl_command_without_ids_rejected() {
    assert_eq!(syntax("Get="), Err((4, AclSyntax::NoServerIds)));
    assert_eq!(syntax("Add=*&Get="), Err((10, AclSyntax::NoServerIds)));
}

#[test]
fn tnd_acl_unknown_command_rejected() {
    assert_eq!(syntax("Copy=*"), Err((0, AclSyntax::UnknownCommand)));
    assert_eq!(syntax("Add=*&get=*"), Err((6, AclSyntax::UnknownCommand)));
}

#[test]
fn tnd_acl_entry_without_equals_rejected() {
    assert_eq!(syntax("Get"), Err((0, AclSyntax::MissingEquals)));
    assert_eq!(syntax("Add=*&*"), Err((6, AclSyntax::MissingEquals)));
}

#[test]
fn tnd_acl_empty_entry_rejected() {
    assert_eq!(syntax("&Get=*"), Err((0, AclSyntax::EmptyEntry)));
    assert_eq!(syntax("Get=*&"), Err((6, AclSyntax::EmptyEntry)));
    assert_eq!(syntax("Get=*&&Add=*"), Err((6, AclSyntax::EmptyEntry)));
}

#[test]
fn tnd_acl_empty_server_id_rejected() {
    assert_eq!(syntax("Get=+a"), Err((4, AclSyntax::EmptyServerId)));
    assert_eq!(syntax("Get=a+"), Err((6, AclSyntax::EmptyServerId)));
    assert_eq!(syntax("Get=a++b"), Err((6, AclSyntax::EmptyServerId)));
}

#[test]
fn tnd_acl_whitespace_rejected() {
    assert_eq!(syntax("Get=a b"), Err((5, AclSyntax::InvalidChar(' '))));
    assert_eq!(syntax("Get=a\n"), Err((5, AclSyntax::InvalidChar('\n'))));
    assert_eq!(syntax("Get =*"), Err((0, AclSyntax::UnknownCommand)));
    assert_eq!(syntax(" Get=*"), Err((0, AclSyntax::UnknownCommand)));
}

#[test]
fn tnd_acl_reserved_chars_in_server_id_rejected() {
    assert_eq!(syntax("Get=a=b"), Err((5, AclSyntax::InvalidChar('='))));
    assert_eq!(syntax("Get=a*"), Err((5, AclSyntax::InvalidChar('*'))));
    assert_eq!(syntax("Get=**"), Err((4, AclSyntax::InvalidChar('*'))));
    assert_eq!(
        syntax("Get=x+é\u{7}"),
        Err((8, AclSyntax::InvalidChar('\u{7}')))
    );
}

#[test]
fn tnd_acl_syntax_error_is_400() {
    assert_eq!("Get=".parse::<Acl>().map_err(|e| e.status()), Err(400));
    assert_eq!("a b".parse::<ServerId>().map_err(|e| e.status()), Err(400));
}

#[test]
fn tnd_acl_non_ascii_server_ids_allowed() {
    assert!(acl("Get=sérveur.例").permits(AclCommand::Get, "sérveur.例"));
}

#[test]
fn tnd_acl_duplicate_command_merged() {
    let a = acl("Get=a&Add=*&Get=b+a");
    assert_eq!(a.to_string(), "Get=a+b&Add=*");
    assert!(a.permits(AclCommand::Get, "b"));
}

#[test]
fn tnd_acl_duplicate_ids_dropped() {
    assert_eq!(acl("Get=a+a+*+*").to_string(), "Get=a+*");
}

#[test]
fn tnd_acl_order_of_first_appearance_kept() {
    assert_eq!(acl("Replace=b&Add=a").to_string(), "Replace=b&Add=a");
    // Equality is structural: same rights, different order, different values.
    assert_ne!(acl("Get=*&Add=*"), acl("Add=*&Get=*"));
}

#[test]
fn tnd_acl_grant() {
    let mut a = Acl::default();
    assert_eq!(
        a.grant(AclCommand::Get, ServerId::Named("a".into())),
        Ok(())
    );
    assert_eq!(a.grant(AclCommand::Replace, ServerId::Any), Ok(()));
    assert_eq!(
        a.grant(AclCommand::Get, ServerId::Named("a".into())),
        Ok(())
    );
    assert_eq!(a.to_string(), "Get=a&Replace=*");
}

#[test]
fn tnd_acl_grant_refuses_unwritable_server_id() {
    let mut a = Acl::default();
    for bad in ["", "*", "a+b", "a&b", "a=b", "a b"] {
        let e = a.grant(AclCommand::Get, ServerId::Named(bad.into()));
        assert_eq!(e, Err(AclError::InvalidServerId(bad.into())), "{bad:?}");
    }
    assert!(a.is_empty());
}

#[test]
fn tnd_acl_revoke_drops_commands_left_empty() {
    let mut a = acl("Add=a&Get=a+b&Replace=*&Delete=b");
    a.revoke_server("a");
    assert_eq!(a.to_string(), "Get=b&Replace=*&Delete=b");
    a.revoke_server("b");
    assert_eq!(a.to_string(), "Replace=*");
    a.revoke_server("*");
    assert_eq!(a.to_string(), "Replace=*");
}

#[test]
fn tnd_acl_command_names() {
    for c in AclCommand::ALL {
        assert_eq!(AclCommand::from_name(c.as_str()), Some(c));
    }
    assert_eq!(AclCommand::from_name("add"), None);
}

fn server_id() -> impl Strategy<Value = ServerId> {
    prop_oneof![
        1 => Just(ServerId::Any),
        4 => "[A-Za-z0-9._:/-]{1,12}".prop_map(|s| ServerId::Named(s.into())),
        1 => "[^=&*+\\s\\p{Cc}]{1,6}".prop_map(|s| ServerId::Named(s.into())),
    ]
}

fn arb_acl() -> impl Strategy<Value = Acl> {
    let entry = (
        prop::sample::select(AclCommand::ALL.to_vec()),
        prop::collection::vec(server_id(), 1..4),
    );
    prop::collection::vec(entry, 0..7).prop_map(|entries| {
        let mut a = Acl::default();
        for (cmd, ids) in entries {
            for id in ids {
                let _ = a.grant(cmd, id);
            }
        }
        a
    })
}

proptest! {
    #[test]
    fn tnd_acl_print_parse_round_trip(a in arb_acl()) {
        prop_assert_eq!(a.to_string().parse::<Acl>(), Ok(a));
    }

    #[test]
    fn tnd_acl_parse_never_panics(s in "\\PC*") {
        let _ = s.parse::<Acl>();
    }

    #[test]
    fn tnd_acl_parse_print_stable(s in "(Add|Get|Exec|Replace|Delete|Copy|[=&+* ab])*") {
        if let Ok(a) = s.parse::<Acl>() {
            prop_assert_eq!(a.to_string().parse::<Acl>(), Ok(a));
        }
    }
}
