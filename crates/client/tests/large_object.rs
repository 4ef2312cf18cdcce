//! Large object handling (DM Protocol 1.3 §8, SCR DM-PRO-LO-C-*).

use omadm_client::large_object::{split_item, ChunkAssembler, ChunkOutcome};
use omadm_syncml::{Data, Item, Meta};

const URI: &str = "./Vendor/Blob";

fn chunk(data: &str, size: Option<u64>, more: bool) -> Item {
    let mut meta = Meta::format_type("chr", "text/plain");
    if let Some(s) = size {
        meta.more_mut().size = Some(s.to_string().into());
    }
    Item {
        meta: Some(meta),
        data: Some(Data::from(data)),
        more_data: more,
        ..Item::target(URI)
    }
}

fn assemble(asm: &mut ChunkAssembler, cmd: &str, items: &[Item]) -> Vec<ChunkOutcome> {
    items.iter().map(|i| asm.accept(cmd, i)).collect()
}

#[test]
fn dm_pro_lo_c_002_chunk_gets_213() {
    let mut asm = ChunkAssembler::new(100);
    assert_eq!(
        asm.accept("Replace", &chunk("abc", Some(9), true)),
        ChunkOutcome::Buffered
    );
    assert!(asm.is_pending());
}

#[test]
fn dm_pro_lo_c_003_three_chunk_replace_assembles_after_last() {
    let mut asm = ChunkAssembler::new(100);
    let out = assemble(
        &mut asm,
        "Replace",
        &[
            chunk("abc", Some(9), true),
            chunk("def", None, true),
            chunk("ghi", None, false),
        ],
    );
    assert_eq!(out[0], ChunkOutcome::Buffered);
    assert_eq!(out[1], ChunkOutcome::Buffered);
    match &out[2] {
        ChunkOutcome::Complete { meta, data } => {
            assert_eq!(data, b"abcdefghi");
            assert_eq!(meta.size_value(), Some(9));
            assert_eq!(meta.format.as_deref(), Some("chr"));
        }
        other => panic!("expected Complete, got {other:?}"),
    }
    assert!(!asm.is_pending());
    assert_eq!(asm.interrupted(), None);
}

#[test]
fn unchunked_item_is_not_chunked() {
    let mut asm = ChunkAssembler::new(100);
    assert_eq!(
        asm.accept("Add", &chunk("x", None, false)),
        ChunkOutcome::NotChunked
    );
}

#[test]
fn dm_pro_lo_c_010_size_mismatch_gets_424() {
    let mut asm = ChunkAssembler::new(100);
    let out = assemble(
        &mut asm,
        "Replace",
        &[chunk("abc", Some(10), true), chunk("def", None, false)],
    );
    assert_eq!(out[1], ChunkOutcome::Failed(424));
    assert!(!asm.is_pending());
}

#[test]
fn dm_pro_lo_c_010_overflow_past_size_gets_424() {
    let mut asm = ChunkAssembler::new(100);
    let out = assemble(
        &mut asm,
        "Replace",
        &[chunk("abc", Some(4), true), chunk("def", None, true)],
    );
    assert_eq!(out[1], ChunkOutcome::Failed(424));
    assert!(!asm.is_pending());
}

#[test]
fn dm_pro_lo_c_009_first_chunk_without_size_gets_411() {
    let mut asm = ChunkAssembler::new(100);
    assert_eq!(
        asm.accept("Add", &chunk("abc", None, true)),
        ChunkOutcome::Failed(411)
    );
    assert!(!asm.is_pending());
}

#[test]
fn dm_pro_lo_c_007_object_over_max_obj_size_gets_413() {
    let mut asm = ChunkAssembler::new(8);
    assert_eq!(asm.max_obj_size(), 8);
    assert_eq!(
        asm.accept("Add", &chunk("abc", Some(9), true)),
        ChunkOutcome::Failed(413)
    );
    assert!(!asm.is_pending());
}

#[test]
fn dm_pro_lo_c_005_other_command_interrupts_with_1225() {
    let mut asm = ChunkAssembler::new(100);
    asm.accept("Replace", &chunk("abc", Some(9), true));
    let delete = Item::target(URI);
    assert!(!asm.is_continuation("Delete", &delete));
    assert_eq!(asm.interrupted(), Some(1225));
    assert!(!asm.is_pending());
    // The dropped object's last chunk now stands alone: nothing completes.
    assert_eq!(
        asm.accept("Replace", &chunk("ghi", None, false)),
        ChunkOutcome::NotChunked
    );
    assert_eq!(asm.interrupted(), None);
}

#[test]
fn dm_pro_lo_c_005_package_end_interrupts_with_1225() {
    let mut asm = ChunkAssembler::new(100);
    asm.accept("Add", &chunk("abc", Some(9), true));
    assert_eq!(asm.interrupted(), Some(1225));
    assert_eq!(asm.interrupted(), None);
}

#[test]
fn dm_pro_lo_c_005_other_target_drops_object_and_owes_1225() {
    let mut asm = ChunkAssembler::new(100);
    asm.accept("Replace", &chunk("abc", Some(9), true));
    let other = Item {
        target: Item::target("./Vendor/Other").target,
        ..chunk("def", None, false)
    };
    assert!(!asm.is_continuation("Replace", &other));
    assert_eq!(asm.accept("Replace", &other), ChunkOutcome::NotChunked);
    assert_eq!(asm.interrupted(), Some(1225));
}

#[test]
fn dm_pro_lo_c_006_small_item_is_sent_unchunked() {
    let item = chunk("short", None, false);
    assert_eq!(split_item(&item, 5), vec![item]);
}

fn round_trip(item: &Item, max_chunk: usize) -> Vec<u8> {
    let chunks = split_item(item, max_chunk);
    assert!(chunks.len() > 1);
    let total = item.data.as_ref().map_or(0, Data::len) as u64;
    // DM-PRO-LO-C-009: Size only in the first chunk; DM-PRO-LO-C-004: MoreData on all but last.
    for (i, c) in chunks.iter().enumerate() {
        let size = c.meta.as_ref().and_then(Meta::size_value);
        assert_eq!(size, (i == 0).then_some(total));
        assert_eq!(c.more_data, i + 1 < chunks.len());
        assert_eq!(c.target, item.target);
        let len = c.data.as_ref().map_or(0, Data::len);
        assert!(len > 0);
    }
    let mut asm = ChunkAssembler::new(total);
    let mut last = None;
    for c in &chunks {
        last = Some(asm.accept("Replace", c));
    }
    match last {
        Some(ChunkOutcome::Complete { data, .. }) => data,
        other => panic!("expected Complete, got {other:?}"),
    }
}

#[test]
fn dm_pro_lo_c_004_text_with_multibyte_characters_round_trips() {
    let text = "Grüße, 世界! 😀 ünïcödé ".repeat(5);
    let item = Item {
        data: Some(Data::from(text.as_str())),
        ..chunk("", None, false)
    };
    for max in [1, 2, 3, 5, 7] {
        for c in split_item(&item, max) {
            assert!(c.data.as_ref().and_then(Data::as_text).is_some());
            let len = c.data.as_ref().map_or(0, Data::len);
            assert!(len <= max.max(4));
        }
        assert_eq!(round_trip(&item, max), text.as_bytes());
    }
}

#[test]
fn dm_pro_lo_c_004_binary_round_trips() {
    let bytes: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
    let item = Item {
        meta: Some(Meta::format_type("bin", "application/octet-stream")),
        data: Some(Data::Opaque(bytes.clone())),
        ..Item::target(URI)
    };
    let chunks = split_item(&item, 300);
    assert_eq!(chunks.len(), 4);
    assert!(chunks
        .iter()
        .all(|c| c.data.as_ref().map_or(0, Data::len) <= 300));
    assert_eq!(round_trip(&item, 300), bytes);
}

#[test]
fn b64_chunks_concatenate_as_text() {
    // Split inside a base64 quantum: the assembler never decodes per chunk.
    let b64 = "SGVsbG8sIGxhcmdlIG9iamVjdCE=";
    let item = Item {
        meta: Some(Meta::format_type("b64", "application/octet-stream")),
        data: Some(Data::from(b64)),
        ..Item::target(URI)
    };
    assert_eq!(round_trip(&item, 5), b64.as_bytes());
}
