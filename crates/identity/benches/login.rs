//! Card login on SoftHSM2 tokens, a P-256 card and an RSA-2048 card (as NHS
//! smartcards hold): PIN entered → identity proven (certificate checks,
//! C_Login, challenge signed on the card and verified). Figures go in
//! docs/PERFORMANCE.md.

use std::hint::black_box;

use criterion::Criterion;
use demo_cards::DemoCa;
use demo_cards::{SOFTHSM_MODULE, SoftHsmTokens};
use identity::{CardReader, Trust};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

fn bench(c: &mut Criterion, tokens_folder: &std::path::Path) {
    let tokens = SoftHsmTokens::create(tokens_folder).expect("token folder");
    let ca = DemoCa::new("Benchmark CA").expect("CA");
    let now = OffsetDateTime::now_utc();
    let (from, to) = (now - Duration::days(1), now + Duration::days(30));
    let p256 = ca.issue("555000000002", "BENCH, Card", from, to).expect("card");
    tokens.add_card("BENCH-CARD", "1234", &p256.key_pem, &p256.cert_der).expect("card written");
    let rsa = ca.issue_rsa("555000000003", "BENCH, Rsa", from, to).expect("card");
    tokens.add_card("BENCH-RSA-CARD", "1234", &rsa.key_pem, &rsa.cert_der).expect("card written");
    let reader = CardReader::open(std::path::Path::new(SOFTHSM_MODULE)).expect("module");
    let trust = Trust::from_der(ca.cert_der().to_vec()).expect("trust");
    let pin = Zeroizing::new("1234".to_owned());
    for (name, card) in
        [("card_login_pin_to_identity", "BENCH-CARD"), ("rsa_card_login_pin_to_identity", "BENCH-RSA-CARD")]
    {
        c.bench_function(name, |b| {
            b.iter(|| black_box(reader.login(card, &pin, &trust, OffsetDateTime::now_utc()).expect("login")))
        });
    }
}

fn benches(folder: std::path::PathBuf) {
    let mut criterion = Criterion::default().configure_from_args().sample_size(50);
    bench(&mut criterion, &folder);
    criterion.final_summary();
}

fn main() {
    let folder = tempfile::tempdir().expect("temporary folder");
    // SAFETY: set before the PKCS#11 module or any other thread starts; SoftHSM2 reads it at C_Initialize.
    unsafe { std::env::set_var("SOFTHSM2_CONF", folder.path().join("softhsm2.conf")) };
    benches(folder.path().to_owned());
}
