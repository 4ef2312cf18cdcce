//! Code page tables (WAP-192 §5.8.2, §6.4: each document type assigns tag identities per code
//! page) for the SyncML / DM vocabularies, and the public identifiers that select them
//! (WAP-192 §5.5, §7.2). Data only; values from DIGEST §1.3-§1.7.

mod devinf;
mod dmddf;
mod metinf;
mod syncml;

/// One code page of a vocabulary: tag identities (sorted by token) and their XML names.
#[derive(Debug)]
pub struct CodePage {
    pub page: u8,
    /// XML namespace of the page's elements.
    pub namespace: &'static str,
    pub tags: &'static [(u8, &'static str)],
}

impl CodePage {
    /// Name of tag `token` on this page.
    pub fn tag_name(&self, token: u8) -> Option<&'static str> {
        self.tags
            .binary_search_by_key(&token, |&(t, _)| t)
            .ok()
            .and_then(|i| self.tags.get(i))
            .map(|&(_, name)| name)
    }

    /// Token of the tag named `name` (case-sensitive, as XML names are) on this page.
    pub fn tag_token(&self, name: &str) -> Option<u8> {
        self.tags.iter().find(|&&(_, n)| n == name).map(|&(t, _)| t)
    }
}

/// A WBXML document type: its FPI, numeric public id and code pages.
#[derive(Debug)]
pub struct Vocabulary {
    /// Human-readable name, e.g. "SyncML 1.2".
    pub name: &'static str,
    /// Root element name.
    pub root: &'static str,
    /// Formal public identifier, as libwbxml and the SyncML RTK spell it.
    pub fpi: &'static str,
    /// Numeric WBXML public id, if one was assigned (WAP-192 §7.2; OMNA).
    pub public_id: Option<u32>,
    pub pages: &'static [CodePage],
}

impl Vocabulary {
    /// The code page numbered `page`.
    pub fn page(&self, page: u8) -> Option<&'static CodePage> {
        self.pages.iter().find(|p| p.page == page)
    }

    /// The code page holding namespace `namespace` (ASCII case-insensitive: peers write both
    /// `SYNCML:SYNCML1.2` and `syncml:SYNCML1.2`).
    pub fn page_for_namespace(&self, namespace: &str) -> Option<&'static CodePage> {
        self.pages
            .iter()
            .find(|p| p.namespace.eq_ignore_ascii_case(namespace))
    }

    /// Name of tag `token` on code page `page`.
    pub fn tag_name(&self, page: u8, token: u8) -> Option<&'static str> {
        self.page(page)?.tag_name(token)
    }

    /// `(page, token)` of the tag named `name`. Some names exist on several pages (SyncML `Add`
    /// on page 0 and DDF `Add` on page 2; MetInf and DDF `Format`); the lowest page wins, so
    /// use [`Vocabulary::page_for_namespace`] + [`CodePage::tag_token`] when the namespace is
    /// known.
    pub fn tag_token(&self, name: &str) -> Option<(u8, u8)> {
        self.pages
            .iter()
            .find_map(|p| p.tag_token(name).map(|t| (p.page, t)))
    }
}

const NS_SYNCML_11: &str = "SYNCML:SYNCML1.1";
const NS_SYNCML_12: &str = "SYNCML:SYNCML1.2";
const NS_METINF: &str = "syncml:metinf";
const NS_DEVINF: &str = "syncml:devinf";
const NS_DMDDF_12: &str = "syncml:dmddf1.2";

const METINF_11_PAGE: CodePage = CodePage {
    page: 1,
    namespace: NS_METINF,
    tags: metinf::METINF_11_TAGS,
};
const METINF_12_PAGE: CodePage = CodePage {
    page: 1,
    namespace: NS_METINF,
    tags: metinf::METINF_12_TAGS,
};
const DMDDF_12_PAGE: CodePage = CodePage {
    page: 2,
    namespace: NS_DMDDF_12,
    tags: dmddf::DMDDF_12_TAGS,
};

/// SyncML 1.1 (public id 0x0FD3): page 0 SyncML, page 1 MetInf.
pub static SYNCML_11: Vocabulary = Vocabulary {
    name: "SyncML 1.1",
    root: "SyncML",
    fpi: "-//SYNCML//DTD SyncML 1.1//EN",
    public_id: Some(0x0FD3),
    pages: &[
        CodePage {
            page: 0,
            namespace: NS_SYNCML_11,
            tags: syncml::SYNCML_11_TAGS,
        },
        METINF_11_PAGE,
    ],
};

/// SyncML 1.2 (public id 0x1201; DM 1.2 and 1.3): page 0 SyncML, page 1 MetInf, page 2 DM DDF
/// (so a TNDS tree inlined in a message can be named).
pub static SYNCML_12: Vocabulary = Vocabulary {
    name: "SyncML 1.2",
    root: "SyncML",
    fpi: "-//SYNCML//DTD SyncML 1.2//EN",
    public_id: Some(0x1201),
    pages: &[
        CodePage {
            page: 0,
            namespace: NS_SYNCML_12,
            tags: syncml::SYNCML_12_TAGS,
        },
        METINF_12_PAGE,
        DMDDF_12_PAGE,
    ],
};

/// Standalone MetInf 1.2 document (public id 0x1202); its tags stay on page 1.
pub static METINF_12: Vocabulary = Vocabulary {
    name: "MetInf 1.2",
    root: "MetInf",
    fpi: "-//SYNCML//DTD MetInf 1.2//EN",
    public_id: Some(0x1202),
    pages: &[METINF_12_PAGE],
};

/// DevInf 1.1 (public id 0x0FD4).
pub static DEVINF_11: Vocabulary = Vocabulary {
    name: "DevInf 1.1",
    root: "DevInf",
    fpi: "-//SYNCML//DTD DevInf 1.1//EN",
    public_id: Some(0x0FD4),
    pages: &[CodePage {
        page: 0,
        namespace: NS_DEVINF,
        tags: devinf::DEVINF_11_TAGS,
    }],
};

/// DevInf 1.2 (public id 0x1203).
pub static DEVINF_12: Vocabulary = Vocabulary {
    name: "DevInf 1.2",
    root: "DevInf",
    fpi: "-//SYNCML//DTD DevInf 1.2//EN",
    public_id: Some(0x1203),
    pages: &[CodePage {
        page: 0,
        namespace: NS_DEVINF,
        tags: devinf::DEVINF_12_TAGS,
    }],
};

/// DM DDF / TNDS 1.2: no numeric public id (the FPI travels in the string table); page 2 only.
pub static DMDDF_12: Vocabulary = Vocabulary {
    name: "DM DDF 1.2",
    root: "MgmtTree",
    fpi: "-//OMA//DTD-DM-DDF 1.2//EN",
    public_id: None,
    pages: &[DMDDF_12_PAGE],
};

/// Every vocabulary this crate knows.
pub static ALL: [&Vocabulary; 6] = [
    &SYNCML_11, &SYNCML_12, &METINF_12, &DEVINF_11, &DEVINF_12, &DMDDF_12,
];

/// Older FPIs read with a newer vocabulary whose tables are a superset.
static FPI_ALIASES: [(&str, &Vocabulary); 3] = [
    ("-//SYNCML//DTD SyncML 1.0//EN", &SYNCML_11),
    ("-//SYNCML//DTD DevInf 1.0//EN", &DEVINF_11),
    ("-//SYNCML//DTD MetInf 1.1//EN", &METINF_12),
];

/// Vocabulary by numeric public id. SyncML 1.0 (0x0FD1) and DevInf 1.0 (0x0FD2) map to the 1.1
/// tables, which only add tags.
pub fn by_public_id(id: u32) -> Option<&'static Vocabulary> {
    match id {
        0x0FD1 | 0x0FD3 => Some(&SYNCML_11),
        0x1201 => Some(&SYNCML_12),
        0x1202 => Some(&METINF_12),
        0x0FD2 | 0x0FD4 => Some(&DEVINF_11),
        0x1203 => Some(&DEVINF_12),
        _ => None,
    }
}

/// Vocabulary by FPI text, compared ASCII case-insensitively (the 1.2 DTD itself writes
/// `SYNCML 1.2` where libwbxml and the RTK write `SyncML 1.2`).
pub fn by_fpi(fpi: &str) -> Option<&'static Vocabulary> {
    ALL.iter()
        .copied()
        .find(|v| v.fpi.eq_ignore_ascii_case(fpi))
        .or_else(|| {
            FPI_ALIASES
                .iter()
                .find(|(alias, _)| alias.eq_ignore_ascii_case(fpi))
                .map(|&(_, v)| v)
        })
}

#[cfg(test)]
mod tests;
