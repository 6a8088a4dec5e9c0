//! The public-text scrubber against generated identifiers in real messages (recall 100 %) and the
//! district's place names (none masked). `cargo run --example scrub_recall -p jiesu-domain` prints
//! the same figures.

mod scrub_corpus;

use jiesu_domain::scrub::scrub;
use proptest::prelude::*;
use scrub_corpus::{KINDS, Rng, embed, identifier, messages, run};

#[test]
fn every_generated_identifier_is_masked_and_no_place_name() {
    let f = run(3_000, 0x5EED);
    assert!(f.generated() >= 5_000, "{} identifiers", f.generated());
    assert_eq!(f.masked(), f.generated(), "identifiers left readable:\n{}", f.missed.join("\n"));
    assert!(f.places >= 5_000, "{} place sentences", f.places);
    assert!(f.places_masked.is_empty(), "place names masked:\n{}", f.places_masked.join("\n"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any identifier of any kind, in any real message, at any sentence boundary, is masked.
    #[test]
    fn identifiers_in_messages_are_masked(seed in any::<u64>(), kind in 0..KINDS.len(), at in any::<usize>()) {
        let texts = messages();
        let mut rng = Rng::new(seed);
        let id = identifier(KINDS[kind], &mut rng);
        let message = &texts[at % texts.len()];
        prop_assume!(!message.contains(&id.secret_text));
        let text = embed(message, &format!("{}。", id.written), &mut rng);
        let out = scrub(&text);
        prop_assert!(id.masked_in(&out), "{}: {} → {}", id.kind, id.written, out);
    }

    /// Scrubbing is idempotent and never touches a text without digits, '@' or a name cue.
    #[test]
    fn scrubbing_twice_changes_nothing(text in "[a-z 路街号楼0-9一二三四，。@先生我叫王李]{0,40}") {
        let once = scrub(&text);
        prop_assert_eq!(scrub(&once), once.clone());
    }
}
