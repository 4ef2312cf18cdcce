use super::*;

#[test]
fn every_page_is_sorted_unique_and_in_range() {
    for v in ALL {
        for p in v.pages {
            let mut last = 0u8;
            for &(token, name) in p.tags {
                assert!(
                    (0x05..=0x3F).contains(&token),
                    "{} page {}: 0x{token:02X}",
                    v.name,
                    p.page
                );
                assert!(
                    token > last,
                    "{} page {}: 0x{token:02X} out of order",
                    v.name,
                    p.page
                );
                last = token;
                let same_name = p.tags.iter().filter(|&&(_, n)| n == name).count();
                assert_eq!(same_name, 1, "{} page {}: {name} twice", v.name, p.page);
            }
        }
        let mut numbers: Vec<u8> = v.pages.iter().map(|p| p.page).collect();
        numbers.dedup();
        assert_eq!(
            numbers.len(),
            v.pages.len(),
            "{}: page listed twice",
            v.name
        );
    }
}

#[test]
fn tag_name_and_tag_token_are_inverse() {
    for v in ALL {
        for p in v.pages {
            for &(token, name) in p.tags {
                assert_eq!(v.tag_name(p.page, token), Some(name));
                assert_eq!(p.tag_token(name), Some(token));
                assert_eq!(
                    v.page_for_namespace(p.namespace).map(|q| q.page),
                    Some(p.page)
                );
                // Names shared between pages resolve to the lowest page holding them.
                let (page, tok) = v.tag_token(name).unwrap_or((u8::MAX, 0));
                assert_eq!(v.tag_name(page, tok), Some(name), "{}: {name}", v.name);
                assert!(page <= p.page);
                if v.pages
                    .iter()
                    .filter(|q| q.tag_token(name).is_some())
                    .count()
                    == 1
                {
                    assert_eq!((page, tok), (p.page, token));
                }
            }
            assert_eq!(p.tag_name(0x04), None);
            assert_eq!(p.tag_name(0x3F), None);
        }
        assert_eq!(v.tag_token("NoSuchTag"), None);
    }
}

#[test]
fn digest_spot_checks() {
    assert_eq!(SYNCML_12.tag_token("SyncML"), Some((0, 0x2D)));
    assert_eq!(SYNCML_12.tag_token("Correlator"), Some((0, 0x3C)));
    assert_eq!(SYNCML_11.tag_token("Correlator"), None);
    assert_eq!(SYNCML_12.tag_name(0, 0x30), None);
    assert_eq!(SYNCML_12.tag_name(1, 0x07), Some("Format"));
    assert_eq!(SYNCML_12.tag_name(1, 0x16), Some("FieldLevel"));
    assert_eq!(SYNCML_11.tag_name(1, 0x16), None);
    assert_eq!(SYNCML_12.tag_name(2, 0x20), Some("MgmtTree"));
    assert_eq!(SYNCML_12.tag_name(2, 0x25), Some("node"));
    assert_eq!(SYNCML_12.tag_name(2, 0x24), Some("Node"));
    assert_eq!(SYNCML_12.tag_token("Add"), Some((0, 0x05)));
    assert_eq!(
        SYNCML_12
            .page_for_namespace("syncml:dmddf1.2")
            .and_then(|p| p.tag_token("Add")),
        Some(0x07)
    );
    assert_eq!(DMDDF_12.tag_token("MgmtTree"), Some((2, 0x20)));
    assert_eq!(METINF_12.tag_token("MetInf"), Some((1, 0x0E)));
    assert_eq!(DEVINF_11.tag_name(0, 0x1C), Some("Size"));
    assert_eq!(DEVINF_12.tag_name(0, 0x1C), Some("MaxSize"));
    assert_eq!(DEVINF_12.tag_name(0, 0x34), Some("SupportHierarchicalSync"));
    assert_eq!(
        SYNCML_12.page(1).map(|p| p.namespace),
        Some("syncml:metinf")
    );
    assert_eq!(
        SYNCML_11.page(0).map(|p| p.namespace),
        Some("SYNCML:SYNCML1.1")
    );
}

#[test]
fn lookups_by_public_id_and_fpi() {
    for v in ALL {
        if let Some(id) = v.public_id {
            assert!(by_public_id(id).is_some_and(|found| std::ptr::eq(found, v)));
        }
        assert!(by_fpi(v.fpi).is_some_and(|found| std::ptr::eq(found, v)));
    }
    assert!(by_public_id(0x0FD1).is_some_and(|v| std::ptr::eq(v, &SYNCML_11)));
    assert!(by_public_id(0x0FD2).is_some_and(|v| std::ptr::eq(v, &DEVINF_11)));
    assert!(by_public_id(0x1234).is_none());
    assert!(by_fpi("-//SYNCML//DTD SYNCML 1.2//EN").is_some_and(|v| std::ptr::eq(v, &SYNCML_12)));
    assert!(by_fpi("-//oma//dtd-dm-ddf 1.2//en").is_some_and(|v| std::ptr::eq(v, &DMDDF_12)));
    assert!(by_fpi("-//SYNCML//DTD SyncML 1.0//EN").is_some_and(|v| std::ptr::eq(v, &SYNCML_11)));
    assert!(by_fpi("-//W3C//DTD HTML 4.01//EN").is_none());
}
