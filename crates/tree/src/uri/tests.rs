use proptest::prelude::*;

use super::*;

fn unlimited(s: &str) -> Result<TreeUri, UriError> {
    parse(s, &UriLimits::UNLIMITED)
}

#[test]
fn tnd_uri_prop_query_on_path() -> Result<(), UriError> {
    let got = unlimited("./DMAcc/xyzInc?prop=ACL");
    let want = TreeUri {
        address: Address::Path(NodePath::parse("DMAcc/xyzInc", &UriLimits::UNLIMITED)?),
        query: Some(Query::Prop(Property::Acl)),
    };
    assert_eq!(got, Ok(want));
    Ok(())
}

#[test]
fn tnd_uri_query_on_root() {
    assert_eq!(
        unlimited(".?list=Struct").map(|u| u.path().map(NodePath::is_root)),
        Ok(Some(true))
    );
    assert_eq!(unlimited("./?prop=ACL"), Err(UriError::TrailingSlash));
}

#[test]
fn tnd_uri_path_errors_come_before_query_errors() {
    assert_eq!(unlimited("./A/?prop=Colour"), Err(UriError::TrailingSlash));
    assert_eq!(
        unlimited("./A?prop=Colour").map_err(|e| e.status()),
        Err(406)
    );
}

#[test]
fn tnd_uri_limits_exclude_query() {
    let l = UriLimits {
        max_tot_len: 5,
        ..UriLimits::default()
    };
    assert!(parse("./A/B?list=StructData", &l).is_ok());
    assert_eq!(parse("A/B/C", &l).map_err(|e| e.status()), Err(414));
}

#[test]
fn tnd_uri_malformed_is_400() {
    for bad in ["", "./", "A/", "A//B", "./A/../B", "/A", "./A/x%2Fy", "A?"] {
        assert_eq!(unlimited(bad).map_err(|e| e.status()), Err(400), "{bad:?}");
    }
}

#[test]
fn tnd_uri_display_round_trip_examples() {
    for s in [
        ".",
        "./A/B",
        "./DMAcc/xyzInc?prop=ACL",
        "./Vendor?list=TNDS+Value+ACL",
        "urn:oma:mo:oma-fumo:1.0/x/State",
    ] {
        assert_eq!(unlimited(s).map(|u| u.to_string()), Ok(s.to_string()));
    }
    assert_eq!(
        unlimited("A/B?list=TNDS-Format").map(|u| u.to_string()),
        Ok("./A/B?list=TNDS-Format".to_string())
    );
}

#[test]
fn tnd_uri_limits_unlimited_by_default() {
    assert_eq!(UriLimits::default(), UriLimits::UNLIMITED);
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_.:-]{1,10}",
        "[a-z%2F.]{1,6}",
        "\\PC{1,6}",
        Just("x".to_string()),
        Just("1.0".to_string()),
        Just("urn:oma:mo:oma-fumo:1.0".to_string()),
        Just("com.example".to_string()),
    ]
}

fn node_path() -> impl Strategy<Value = NodePath> {
    prop::collection::vec(segment(), 0..8).prop_map(|segs| {
        segs.iter()
            .fold(NodePath::root(), |p, s| p.join(s).unwrap_or(p))
    })
}

fn query() -> impl Strategy<Value = Option<Query>> {
    let tnds =
        prop::collection::vec(prop::sample::select(TndsProperty::ALL), 0..4).prop_map(|mut v| {
            let mut seen = Vec::new();
            v.retain(|p| {
                if seen.contains(p) {
                    false
                } else {
                    seen.push(*p);
                    true
                }
            });
            v
        });
    prop_oneof![
        Just(None),
        prop::sample::select(Property::ALL).prop_map(|p| Some(Query::Prop(p))),
        prop::sample::select(vec![
            ListQuery::Struct,
            ListQuery::StructData,
            ListQuery::MoRoot,
            ListQuery::MoRootData
        ])
        .prop_map(|l| Some(Query::List(l))),
        (any::<bool>(), tnds).prop_map(|(plus, v)| Some(Query::List(ListQuery::Tnds(
            if v.is_empty() {
                TndsSelection::All
            } else if plus {
                TndsSelection::Only(v)
            } else {
                TndsSelection::AllExcept(v)
            }
        )))),
    ]
}

proptest! {
    #[test]
    fn tnd_uri_parse_never_panics(s in "\\PC*") {
        let _ = parse(&s, &UriLimits { max_depth: 3, max_tot_len: 20, max_seg_len: 5 });
        let _ = NodePath::parse(&s, &UriLimits::UNLIMITED);
    }

    #[test]
    fn tnd_uri_parse_never_panics_on_uri_alphabet(s in "[./?=+&%2Fxa-c1:urnomTNDSprolist-]{0,40}") {
        if let Ok(u) = unlimited(&s) {
            // Whatever parses prints to something that parses back to the same value.
            prop_assert_eq!(unlimited(&u.to_string()), Ok(u));
        }
    }

    #[test]
    fn tnd_uri_path_print_parse_round_trip(p in node_path(), q in query()) {
        prop_assert_eq!(p.as_str().parse::<NodePath>(), Ok(p.clone()));
        let u = TreeUri { address: Address::Path(p), query: q };
        prop_assert_eq!(unlimited(&u.to_string()), Ok(u));
    }

    #[test]
    fn tnd_uri_navigation_consistent(p in node_path()) {
        prop_assert_eq!(p.depth(), p.segments().count());
        if let (Some(parent), Some(name)) = (p.parent(), p.name()) {
            prop_assert_eq!(parent.join(name), Ok(p.clone()));
            prop_assert!(p.starts_with(&parent));
        } else {
            prop_assert!(p.is_root());
        }
    }
}
