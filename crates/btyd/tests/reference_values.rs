//! Predictions checked against the papers' closed forms evaluated independently in mpmath
//! (30 significant digits; script in the doc of each table), at the published CDNOW parameters.
//! The inputs include a huge horizon (50,000 weeks), x = 0, T = 0 and t_x close to T.

use btyd::{BgNbd, MbgNbd, ParetoNbd};

/// (r, α, a, b, t, x, t_x, T, E[Y(t)]).
type ExtremeRow = (f64, f64, f64, f64, f64, f64, f64, f64, f64);

/// (t, x, t_x, T, E[Y(t)], P(alive), DERT, ln L).
type ParetoRow = (f64, f64, f64, f64, f64, f64, f64, f64);

fn check(name: &str, got: f64, want: f64, rel: f64) {
    assert!(
        (got - want).abs() <= rel * want.abs().max(1e-12),
        "{name}: got {got:.17}, want {want:.17}"
    );
}

/// (t, x, t_x, T, E[Y(t) | x, t_x, T], P(alive)) from FHL 2005 eq. 10 and note 021 with
/// mpmath.hyp2f1 at r = 0.243, α = 4.414, a = 0.793, b = 2.426.
const BG: [(f64, f64, f64, f64, f64, f64); 7] = [
    (
        39.0,
        2.0,
        30.43,
        38.86,
        1.2260281747671445,
        0.726_578_570_080_673,
    ),
    (39.0, 0.0, 0.0, 38.86, 0.19509805201126264, 1.0),
    (
        52.0,
        15.0,
        30.0,
        35.0,
        10.445250937949687,
        0.723_715_720_002_551_9,
    ),
    (
        1000.0,
        1.0,
        5.0,
        30.0,
        3.685_685_839_500_963,
        0.379_167_756_969_818_8,
    ),
    (39.0, 0.0, 0.0, 0.0, 1.196_723_193_320_817, 1.0),
    (
        50000.0,
        3.0,
        10.0,
        20.0,
        42.442_904_483_509_49,
        0.502_626_839_775_655_1,
    ),
    (
        0.5,
        40.0,
        12.0,
        12.5,
        1.1057396004398168,
        0.939_815_399_617_795_8,
    ),
];

/// Same for the MBG/NBD (BDF 2007) at r = 0.525, α = 6.183, a = 0.891, b = 1.614.
const MBG: [(f64, f64, f64, f64, f64, f64); 7] = [
    (
        39.0,
        2.0,
        30.43,
        38.86,
        1.2629606232673657,
        0.706_202_265_118_487_3,
    ),
    (
        39.0,
        0.0,
        0.0,
        38.86,
        0.154_012_746_675_146_7,
        0.3897350809187629,
    ),
    (
        52.0,
        15.0,
        30.0,
        35.0,
        9.777_438_614_531_873,
        0.714_259_087_678_202_7,
    ),
    (
        1000.0,
        1.0,
        5.0,
        30.0,
        3.1997534764813668,
        0.328_637_405_157_970_2,
    ),
    (
        39.0,
        0.0,
        0.0,
        0.0,
        1.1829536655971727,
        0.644_311_377_245_509,
    ),
    (
        50000.0,
        3.0,
        10.0,
        20.0,
        28.517851400844982,
        0.48711676648997254,
    ),
    (
        0.5,
        40.0,
        12.0,
        12.5,
        1.0076265480686269,
        0.939_603_609_432_207_2,
    ),
];

/// (t, x, t_x, T, E[Y(t)], P(alive), DERT(δ = 0.0026876), ln L) for the Pareto/NBD at r = 0.553,
/// α = 10.578, s = 0.606, β = 11.669: L by mpmath.quad of FH05's integral form, DERT by FHL-JMR
/// eq. 2 with mpmath.hyperu.
const PNBD: [ParetoRow; 7] = [
    (
        39.0,
        2.0,
        30.43,
        38.86,
        1.4551231932576025,
        0.8691675591530112,
        6.501_920_937_905_309,
        -9.554_283_245_150_407,
    ),
    (
        39.0,
        0.0,
        0.0,
        38.86,
        0.10708146821530886,
        0.29528660461689416,
        0.4784716809386345,
        -0.521_046_294_080_890_3,
    ),
    (
        52.0,
        15.0,
        30.0,
        35.0,
        11.535232772174886,
        0.831_779_250_134_525_4,
        39.842_713_113_921_64,
        -32.549_228_603_539_97,
    ),
    (
        1000.0,
        1.0,
        5.0,
        30.0,
        3.673_648_691_668_058,
        0.35529831053944596,
        1.8235403389868235,
        -4.775_636_411_372_457,
    ),
    (
        39.0,
        0.0,
        0.0,
        0.0,
        1.213_002_844_281_016,
        1.0,
        3.964169333062292,
        0.0,
    ),
    (
        50000.0,
        3.0,
        10.0,
        20.0,
        101.68531918945068,
        0.632_723_278_224_473_3,
        8.793_316_594_178_405,
        -10.210103752171047,
    ),
    (
        0.5,
        40.0,
        12.0,
        12.5,
        0.8555741208865645,
        0.979_859_401_136_872,
        183.0917398306158,
        -18.213_711_831_193_69,
    ),
];

#[test]
fn bgnbd_predictions_match_closed_form() {
    let m = BgNbd::new(0.243, 4.414, 0.793, 2.426).unwrap();
    for (t, x, tx, tt, e, pa) in BG {
        check(
            &format!("BG E {t} {x} {tx} {tt}"),
            m.expected_purchases(t, x, tx, tt),
            e,
            1e-10,
        );
        check(
            &format!("BG P {x} {tx} {tt}"),
            m.p_alive(x, tx, tt),
            pa,
            1e-12,
        );
    }
    check(
        "BG E[X(39)]",
        m.expected_purchases_unconditional(39.0),
        BG[4].4,
        1e-10,
    );
}

#[test]
fn mbgnbd_predictions_match_closed_form() {
    let m = MbgNbd::new(0.525, 6.183, 0.891, 1.614).unwrap();
    for (t, x, tx, tt, e, pa) in MBG {
        check(
            &format!("MBG E {t} {x} {tx} {tt}"),
            m.expected_purchases(t, x, tx, tt),
            e,
            1e-10,
        );
        check(
            &format!("MBG P {x} {tx} {tt}"),
            m.p_alive(x, tx, tt),
            pa,
            1e-12,
        );
    }
    check(
        "MBG E[X(39)]",
        m.expected_purchases_unconditional(39.0),
        MBG[4].4,
        1e-10,
    );
}

#[test]
fn pareto_nbd_predictions_match_closed_form() {
    let m = ParetoNbd::new(0.553, 10.578, 0.606, 11.669).unwrap();
    for (t, x, tx, tt, e, pa, dert, ll) in PNBD {
        let case = format!("{t} {x} {tx} {tt}");
        check(
            &format!("PNBD E {case}"),
            m.expected_purchases(t, x, tx, tt),
            e,
            1e-10,
        );
        check(&format!("PNBD P {case}"), m.p_alive(x, tx, tt), pa, 1e-10);
        check(
            &format!("PNBD DERT {case}"),
            m.dert(0.0026876, x, tx, tt),
            dert,
            1e-10,
        );
        if tt > 0.0 {
            check(
                &format!("PNBD LL {case}"),
                m.log_likelihood_one(x, tx, tt),
                ll,
                1e-11,
            );
        }
    }
    check(
        "PNBD E[X(39)]",
        m.expected_purchases_unconditional(39.0),
        PNBD[4].4,
        1e-10,
    );
}

#[test]
fn bgnbd_is_continuous_at_a_equal_one() {
    for &(t, x, tx, tt) in &[
        (39.0, 2.0, 30.43, 38.86),
        (500.0, 0.0, 0.0, 10.0),
        (1e5, 50.0, 20.0, 21.0),
    ] {
        let at = BgNbd::new(0.5, 5.0, 1.0, 2.0)
            .unwrap()
            .expected_purchases(t, x, tx, tt);
        let below = BgNbd::new(0.5, 5.0, 1.0 - 1e-7, 2.0)
            .unwrap()
            .expected_purchases(t, x, tx, tt);
        let above = BgNbd::new(0.5, 5.0, 1.0 + 1e-7, 2.0)
            .unwrap()
            .expected_purchases(t, x, tx, tt);
        assert!(at.is_finite() && at > 0.0);
        check("a=1 below", below, at, 1e-5);
        check("a=1 above", above, at, 1e-5);
        let s1 = ParetoNbd::new(0.5, 5.0, 1.0, 3.0)
            .unwrap()
            .expected_purchases(t, x, tx, tt);
        let s1b = ParetoNbd::new(0.5, 5.0, 1.0 + 1e-7, 3.0)
            .unwrap()
            .expected_purchases(t, x, tx, tt);
        check("s=1", s1b, s1, 1e-5);
    }
}

/// (r, α, a, b, t, x, t_x, T, E[Y(t) | x, t_x, T]) for extreme BG/NBD parameters and horizons,
/// FHL eq. 10 with mpmath.hyp2f1 at 40 digits. Values below 1e-300 are 0 in f64.
const BG_EXTREME: [ExtremeRow; 9] = [
    (
        0.243,
        4.414,
        150.0,
        300.0,
        1e9,
        3.0,
        10.0,
        20.0,
        0.810_415_729_702_738_5,
    ),
    (
        0.243,
        4.414,
        150.0,
        300.0,
        1e4,
        0.0,
        0.0,
        5.0,
        2.288_831_818_778_339,
    ),
    (
        0.243,
        4.414,
        150.0,
        300.0,
        1e6,
        1.0,
        0.5,
        1.0,
        1.931_029_623_646_830_4,
    ),
    (
        40.0,
        2.0,
        0.3,
        900.0,
        1e9,
        3.0,
        10.0,
        20.0,
        0.504_566_875_196_168_7,
    ),
    (
        40.0,
        2.0,
        0.3,
        900.0,
        1e4,
        0.0,
        0.0,
        5.0,
        22_409.382_551_010_57,
    ),
    (
        40.0,
        2.0,
        0.3,
        900.0,
        1e6,
        1.0,
        0.5,
        1.0,
        682_026.772_918_974_8,
    ),
    (
        0.01,
        500.0,
        30.0,
        0.05,
        1e9,
        3.0,
        10.0,
        20.0,
        0.066_919_390_455_378_83,
    ),
    (
        0.01,
        500.0,
        30.0,
        0.05,
        1e4,
        0.0,
        0.0,
        5.0,
        0.029_929_871_228_004_796,
    ),
    (
        0.01,
        500.0,
        30.0,
        0.05,
        1e6,
        1.0,
        0.5,
        1.0,
        0.001_721_573_277_749_264_6,
    ),
];

#[test]
fn bgnbd_extreme_parameters_match_closed_form() {
    for (r, alpha, a, b, t, x, tx, tt, want) in BG_EXTREME {
        let m = BgNbd::new(r, alpha, a, b).unwrap();
        let got = m.expected_purchases(t, x, tx, tt);
        check(
            &format!("BG {r} {alpha} {a} {b} E({t}|{x},{tx},{tt})"),
            got,
            want,
            1e-9,
        );
    }
    // P(alive) underflows to 0 for x = 5000 with t_x far below T: the product stays 0, not NaN.
    let m = BgNbd::new(0.243, 4.414, 150.0, 300.0).unwrap();
    assert_eq!(m.expected_purchases(39.0, 5000.0, 10.0, 52.0), 0.0);
}
