//! MetInf tags, code page 1 (DIGEST §1.5; libwbxml and SyncML RTK agree). The page number is 1
//! in standalone MetInf documents too, as libwbxml has it.

/// MetInf 1.1: 0x05..=0x15.
pub(super) const METINF_11_TAGS: &[(u8, &str)] = METINF_12_TAGS.split_at(17).0;

/// MetInf 1.2: the 1.1 set plus FieldLevel 0x16.
pub(super) const METINF_12_TAGS: &[(u8, &str)] = &[
    (0x05, "Anchor"),
    (0x06, "EMI"),
    (0x07, "Format"),
    (0x08, "FreeID"),
    (0x09, "FreeMem"),
    (0x0A, "Last"),
    (0x0B, "Mark"),
    (0x0C, "MaxMsgSize"),
    (0x0D, "Mem"),
    (0x0E, "MetInf"),
    (0x0F, "Next"),
    (0x10, "NextNonce"),
    (0x11, "SharedMem"),
    (0x12, "Size"),
    (0x13, "Type"),
    (0x14, "Version"),
    (0x15, "MaxObjSize"),
    (0x16, "FieldLevel"),
];
