//! `?prop=` (TND §5.3) and `?list=` (TND §5.5) queries.

use std::fmt;

use compact_str::CompactString;

use super::UriError;

macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident, $err:ident { $($(#[$vm:meta])* $v:ident = $s:literal,)* }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vm])* $v,)* }

        impl $name {
            /// Every value, in specification order.
            pub const ALL: &'static [$name] = &[$($name::$v,)*];

            /// The name as the specification spells it.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s,)* }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UriError;
            /// Exact, case-sensitive spelling; anything else answers 406.
            fn from_str(s: &str) -> Result<Self, UriError> {
                match s {
                    $($s => Ok($name::$v),)*
                    _ => Err(UriError::$err(s.into())),
                }
            }
        }
    };
}

named_enum! {
    /// A node property addressed by `?prop=` (TND §5.3). Names are case-sensitive; an unknown one
    /// answers 406.
    Property, UnsupportedProperty {
        /// `ACL` (§5.4).
        Acl = "ACL",
        /// `Format`.
        Format = "Format",
        /// `Name` (Replace renames).
        Name = "Name",
        /// `Size` (leaves only).
        Size = "Size",
        /// `Title`.
        Title = "Title",
        /// `TStamp`.
        TStamp = "TStamp",
        /// `Type`.
        Type = "Type",
        /// `VerNo`.
        VerNo = "VerNo",
        /// `CaseSense` (a DDF property; the tree decides whether it answers it).
        CaseSense = "CaseSense",
    }
}

named_enum! {
    /// A property name in a `?list=TNDS` selection (TND §5.5: the RTProperties children plus
    /// `Value`). An unknown one answers 406.
    TndsProperty, UnsupportedTndsProperty {
        /// `ACL`.
        Acl = "ACL",
        /// `Format`.
        Format = "Format",
        /// `Name`.
        Name = "Name",
        /// `Size`.
        Size = "Size",
        /// `Title`.
        Title = "Title",
        /// `TStamp`.
        TStamp = "TStamp",
        /// `Type`.
        Type = "Type",
        /// `VerNo`.
        VerNo = "VerNo",
        /// `Value`: leaf values.
        Value = "Value",
    }
}

/// Which properties a `?list=TNDS` result carries (TND §5.5).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TndsSelection {
    /// `TNDS`: all.
    All,
    /// `TNDS+Value+ACL`: only these (duplicates dropped, first order kept).
    Only(Vec<TndsProperty>),
    /// `TNDS-Format`: all but these (duplicates dropped, first order kept).
    AllExcept(Vec<TndsProperty>),
}

impl TndsSelection {
    /// Whether the result carries `p`.
    pub fn includes(&self, p: TndsProperty) -> bool {
        match self {
            TndsSelection::All => true,
            TndsSelection::Only(v) => v.contains(&p),
            TndsSelection::AllExcept(v) => !v.contains(&p),
        }
    }
}

/// A `?list=` attribute (TND §5.5; DM 1.3 Client Profile §9.1 adds MORoot and MORootData).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ListQuery {
    /// `Struct`: the structure only.
    Struct,
    /// `StructData`: the structure and leaf values.
    StructData,
    /// `TNDS…`: one serialized subtree.
    Tnds(TndsSelection),
    /// `MORoot`. PROVISIONAL (TND 1.3 §9.1 unread, DIGEST-1.3 §3.3): the MO instance roots.
    MoRoot,
    /// `MORootData`. PROVISIONAL (as `MoRoot`): the instance roots and their contents.
    MoRootData,
}

impl fmt::Display for ListQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (sign, props) = match self {
            ListQuery::Struct => return f.write_str("Struct"),
            ListQuery::StructData => return f.write_str("StructData"),
            ListQuery::MoRoot => return f.write_str("MORoot"),
            ListQuery::MoRootData => return f.write_str("MORootData"),
            ListQuery::Tnds(TndsSelection::All) => return f.write_str("TNDS"),
            ListQuery::Tnds(TndsSelection::Only(v)) => ('+', v),
            ListQuery::Tnds(TndsSelection::AllExcept(v)) => ('-', v),
        };
        f.write_str("TNDS")?;
        for p in props {
            write!(f, "{sign}{p}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for ListQuery {
    type Err = UriError;
    /// TND §5.5: exact, case-sensitive attribute names; unknown ones answer 406.
    fn from_str(s: &str) -> Result<Self, UriError> {
        match s {
            "Struct" => return Ok(ListQuery::Struct),
            "StructData" => return Ok(ListQuery::StructData),
            "MORoot" => return Ok(ListQuery::MoRoot),
            "MORootData" => return Ok(ListQuery::MoRootData),
            _ => {}
        }
        let Some(rest) = s.strip_prefix("TNDS") else {
            return Err(UriError::UnsupportedList(s.into()));
        };
        let sign = match rest.chars().next() {
            None => return Ok(ListQuery::Tnds(TndsSelection::All)),
            Some(c @ ('+' | '-')) => c,
            Some(_) => return Err(UriError::UnsupportedList(s.into())),
        };
        if rest.contains('+') && rest.contains('-') {
            return Err(UriError::MixedTndsSelection);
        }
        let mut props = Vec::new();
        for name in rest.split(sign).skip(1) {
            if name.is_empty() {
                return Err(UriError::MalformedQuery);
            }
            let p: TndsProperty = name.parse()?;
            if !props.contains(&p) {
                props.push(p);
            }
        }
        Ok(ListQuery::Tnds(if sign == '+' {
            TndsSelection::Only(props)
        } else {
            TndsSelection::AllExcept(props)
        }))
    }
}

/// The query part of a tree URI: exactly one of `?prop=NAME` (TND §5.3) or `?list=ATTR` (§5.5).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Query {
    /// `?prop=NAME`.
    Prop(Property),
    /// `?list=ATTR`.
    List(ListQuery),
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Query::Prop(p) => write!(f, "prop={p}"),
            Query::List(l) => write!(f, "list={l}"),
        }
    }
}

/// Parses the text after `?`. Not exactly one non-empty `key=value` → 400; a key other than `prop`
/// or `list`, or an unknown value → 406.
pub(super) fn parse_query(q: &str) -> Result<Query, UriError> {
    if q.contains('&') {
        return Err(UriError::MalformedQuery);
    }
    let Some((key, value)) = q.split_once('=') else {
        return Err(UriError::MalformedQuery);
    };
    if key.is_empty() || value.is_empty() {
        return Err(UriError::MalformedQuery);
    }
    match key {
        "prop" => Ok(Query::Prop(value.parse()?)),
        "list" => Ok(Query::List(value.parse()?)),
        _ => Err(UriError::UnsupportedQuery(CompactString::from(key))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tnd_prop_names_parse_and_print() {
        for &p in Property::ALL {
            assert_eq!(parse_query(&format!("prop={p}")), Ok(Query::Prop(p)));
        }
        assert_eq!(Property::ALL.len(), 9);
    }

    #[test]
    fn tnd_prop_unknown_is_406() {
        let e = parse_query("prop=Colour");
        assert_eq!(e, Err(UriError::UnsupportedProperty("Colour".into())));
        assert_eq!(e.map_err(|e| e.status()), Err(406));
        // Names are case-sensitive.
        assert_eq!(
            parse_query("prop=acl"),
            Err(UriError::UnsupportedProperty("acl".into()))
        );
    }

    #[test]
    fn tnd_list_attributes() {
        assert_eq!(
            parse_query("list=Struct"),
            Ok(Query::List(ListQuery::Struct))
        );
        assert_eq!(
            parse_query("list=StructData"),
            Ok(Query::List(ListQuery::StructData))
        );
        assert_eq!(
            parse_query("list=MORoot"),
            Ok(Query::List(ListQuery::MoRoot))
        );
        assert_eq!(
            parse_query("list=MORootData"),
            Ok(Query::List(ListQuery::MoRootData))
        );
        assert_eq!(
            parse_query("list=TNDS"),
            Ok(Query::List(ListQuery::Tnds(TndsSelection::All)))
        );
    }

    #[test]
    fn tnd_list_unknown_is_406() {
        for bad in ["struct", "Tree", "TNDSX", "STRUCT"] {
            let e = parse_query(&format!("list={bad}"));
            assert_eq!(e, Err(UriError::UnsupportedList(bad.into())));
            assert_eq!(e.map_err(|e| e.status()), Err(406));
        }
    }

    #[test]
    fn tnd_list_tnds_only_listed() {
        let q = parse_query("list=TNDS+Value+ACL");
        let sel = TndsSelection::Only(vec![TndsProperty::Value, TndsProperty::Acl]);
        assert_eq!(q, Ok(Query::List(ListQuery::Tnds(sel.clone()))));
        assert!(sel.includes(TndsProperty::Acl));
        assert!(!sel.includes(TndsProperty::Format));
    }

    #[test]
    fn tnd_list_tnds_all_except_listed() {
        let sel = TndsSelection::AllExcept(vec![TndsProperty::Format]);
        assert_eq!(
            parse_query("list=TNDS-Format"),
            Ok(Query::List(ListQuery::Tnds(sel.clone())))
        );
        assert!(!sel.includes(TndsProperty::Format));
        assert!(sel.includes(TndsProperty::Value));
    }

    #[test]
    fn tnd_list_tnds_plus_minus_mixed_is_406() {
        let e = parse_query("list=TNDS+Value-ACL");
        assert_eq!(e, Err(UriError::MixedTndsSelection));
        assert_eq!(e.map_err(|e| e.status()), Err(406));
    }

    #[test]
    fn tnd_list_tnds_unknown_property_is_406() {
        let e = parse_query("list=TNDS+Value+Colour");
        assert_eq!(e, Err(UriError::UnsupportedTndsProperty("Colour".into())));
        assert_eq!(e.map_err(|e| e.status()), Err(406));
    }

    #[test]
    fn tnd_list_tnds_duplicates_dropped() {
        let sel = TndsSelection::Only(vec![TndsProperty::Acl, TndsProperty::Value]);
        assert_eq!(
            parse_query("list=TNDS+ACL+Value+ACL"),
            Ok(Query::List(ListQuery::Tnds(sel)))
        );
    }

    #[test]
    fn tnd_list_tnds_empty_name_is_400() {
        for bad in ["list=TNDS+", "list=TNDS-", "list=TNDS+ACL++Value"] {
            assert_eq!(parse_query(bad), Err(UriError::MalformedQuery), "{bad}");
        }
    }

    #[test]
    fn tnd_query_malformed_is_400() {
        for bad in [
            "",
            "prop",
            "prop=",
            "=ACL",
            "prop=ACL&list=Struct",
            "list=Struct&",
        ] {
            let e = parse_query(bad);
            assert_eq!(e, Err(UriError::MalformedQuery), "{bad:?}");
            assert_eq!(e.map_err(|e| e.status()), Err(400));
        }
    }

    #[test]
    fn tnd_query_unknown_key_is_406() {
        let e = parse_query("size=1");
        assert_eq!(e, Err(UriError::UnsupportedQuery("size".into())));
        assert_eq!(e.map_err(|e| e.status()), Err(406));
    }

    #[test]
    fn tnd_query_print_parse_stable() {
        for s in [
            "prop=ACL",
            "prop=TStamp",
            "list=Struct",
            "list=StructData",
            "list=MORoot",
            "list=MORootData",
            "list=TNDS",
            "list=TNDS+Value+ACL",
            "list=TNDS-Format-Size",
        ] {
            assert_eq!(parse_query(s).map(|q| q.to_string()), Ok(s.to_string()));
        }
    }
}
