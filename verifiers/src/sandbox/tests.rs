use super::uid::UidLease;

#[test]
fn uid_leases_are_unique_and_not_reused_at_once() {
    let (base, count) = (4_000_000_000, 3);
    let a = UidLease::take(base, count).expect("a");
    let b = UidLease::take(base, count).expect("b");
    assert_ne!(a.0, b.0);
    let first = a.0;
    drop(a);
    let c = UidLease::take(base, count).expect("c");
    assert_ne!(c.0, first, "a just-released uid came straight back");
    let d = UidLease::take(base, count).expect("d");
    assert_eq!(d.0, first, "round robin wraps around to the free one");
    assert!(
        UidLease::take(base, count).is_none(),
        "all three are leased"
    );
    drop((b, c, d));
}
