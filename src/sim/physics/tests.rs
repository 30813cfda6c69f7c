//! Dynamics sanity of the demo plant: upset, setpoint tracking over a day, trips, plausibility.

use super::*;

const SIX_AM_S: f64 = 6.0 * 3_600.0;

fn finite(p: &Plant) -> bool {
    let h = &p.hp1;
    let a = &p.ahu1;
    let d = &p.dh1;
    [
        h.speed_pct,
        h.supply_c,
        h.return_c,
        h.source_in_c,
        h.source_out_c,
        h.heat_kw,
        h.power_kw,
        h.cop,
        d.primary_return_c,
        d.secondary_supply_c,
        d.secondary_return_c,
        d.valve_pct,
        a.supply_c,
        a.return_c,
        a.mixed_c,
        a.duct_static_pa,
        a.filter_dp_pa,
        p.tk1.temps_c[0],
        p.tk1.temps_c[1],
        p.tk1.temps_c[2],
        p.tk1.level_pct(),
    ]
    .iter()
    .all(|v| v.is_finite())
}

#[test]
fn upset_drives_supply_air_above_30_within_two_minutes() {
    // Coldest night and warmest afternoon (the valve starts from different positions).
    for time_of_day_s in [3.0 * 3_600.0, SIX_AM_S, 15.0 * 3_600.0] {
        upset_from(time_of_day_s);
    }
}

fn upset_from(time_of_day_s: f64) {
    let mut p = Plant::new(1, time_of_day_s);
    assert!(
        (p.ahu1.supply_c - SUPPLY_AIR_SP_C).abs() < 2.0,
        "{}",
        p.ahu1.supply_c
    );
    p.apply(Command::Upset { duration_s: 300.0 });
    let mut t = 0.0;
    while p.ahu1.supply_c <= 30.0 && t < 120.0 {
        p.step(0.1);
        t += 0.1;
    }
    assert!(
        p.ahu1.supply_c > 30.0,
        "supply air {} °C after {t} s",
        p.ahu1.supply_c
    );
    assert!(t > 20.0, "too abrupt: above 30 °C after {t} s");
    assert!((p.ahu1.heating_valve_pct - 100.0).abs() < 1e-9);
    // It settles around 35 °C, not somewhere absurd.
    p.step(180.0);
    assert!(
        (32.0..39.0).contains(&p.ahu1.supply_c),
        "{}",
        p.ahu1.supply_c
    );
    // And comes back once the valve is free again.
    p.apply(Command::Normal);
    p.step(900.0);
    assert!(
        (p.ahu1.supply_c - SUPPLY_AIR_SP_C).abs() < 1.0,
        "{}",
        p.ahu1.supply_c
    );
}

#[test]
fn supply_air_holds_setpoint_over_a_day() {
    let mut p = Plant::new(7, 0.0);
    for second in 0..86_400 {
        p.step(1.0);
        let dev = p.ahu1.supply_c - p.ahu1.supply_sp_c;
        assert!(dev.abs() < 2.0, "deviation {dev} at {second} s");
        assert!(finite(&p));
    }
    let [top, mid, bot] = p.tk1.temps_c;
    assert!((40.0..55.0).contains(&top), "tank top {top}");
    assert!(
        top >= mid - 0.5 && mid >= bot - 0.5,
        "stratification {top} {mid} {bot}"
    );
    assert!(
        (2.5..5.5).contains(&p.hp1.cop) || !p.hp1.running,
        "COP {}",
        p.hp1.cop
    );
    assert!(
        (60.0..85.0).contains(&p.tk1.level_pct()),
        "level {}",
        p.tk1.level_pct()
    );
}

#[test]
fn steady_state_is_plausible() {
    let p = Plant::new(3, SIX_AM_S);
    let (h, d, a) = (&p.hp1, &p.dh1, &p.ahu1);
    assert!(h.running && !h.fault);
    assert!(
        h.supply_c > h.return_c && h.return_c > 35.0,
        "{} {}",
        h.supply_c,
        h.return_c
    );
    assert!(h.source_in_c > h.source_out_c && h.source_out_c > 0.0);
    assert!((20.0..90.0).contains(&h.heat_kw), "HP heat {}", h.heat_kw);
    assert!((h.heat_kw / h.power_kw - h.cop).abs() < 1e-6);
    assert!(d.primary_supply_c > d.primary_return_c);
    assert!(d.secondary_supply_c > d.secondary_return_c);
    assert!((d.secondary_supply_c - d.secondary_sp_c).abs() < 1.5);
    assert!(
        (a.duct_static_pa - DUCT_STATIC_SP_PA).abs() < 10.0,
        "{}",
        a.duct_static_pa
    );
    assert!(a.supply_fan.running && a.exhaust_fan.running);
    assert!(
        (5.0..80.0).contains(&a.heating_valve_pct),
        "{}",
        a.heating_valve_pct
    );
    assert!(a.return_c > a.mixed_c && a.mixed_c > a.outdoor_c);
}

#[test]
fn trips_stop_equipment_and_reset_recovers() {
    let mut p = Plant::new(5, SIX_AM_S);
    p.apply(Command::Trip(Equipment::Hp1));
    p.step(120.0);
    assert!(!p.hp1.running && p.hp1.fault && p.hp1.heat_kw < 1.0);
    assert_eq!(p.hp1.mode(p.p1.fault), "fault");
    p.apply(Command::Trip(Equipment::SupplyFan));
    p.step(60.0);
    assert!(!p.ahu1.supply_fan.running && !p.ahu1.exhaust_fan.running);
    assert!(p.ahu1.airflow_m3h < 1.0 && p.ahu1.heating_valve_pct < 1.0);
    p.apply(Command::Reset);
    p.step(1_800.0);
    assert!(p.hp1.running && p.ahu1.supply_fan.running && finite(&p));
    assert!(
        (p.ahu1.supply_c - p.ahu1.supply_sp_c).abs() < 2.0,
        "{}",
        p.ahu1.supply_c
    );
}

#[test]
fn pump_trip_starves_the_heat_pump() {
    let mut p = Plant::new(9, SIX_AM_S);
    p.apply(Command::Trip(Equipment::P1));
    p.step(60.0);
    assert!(!p.hp1.running && !p.p1.running);
    assert_eq!(p.hp1.mode(p.p1.fault), "no flow");
    p.step(3_600.0);
    assert!(finite(&p));
}

#[test]
fn setpoint_is_followed_and_clamped() {
    let mut p = Plant::new(11, SIX_AM_S);
    p.apply(Command::SupplySetpoint(21.0));
    p.step(900.0);
    assert!((p.ahu1.supply_c - 21.0).abs() < 0.5, "{}", p.ahu1.supply_c);
    p.apply(Command::SupplySetpoint(f64::NAN));
    assert!((p.ahu1.supply_sp_c - 21.0).abs() < f64::EPSILON);
    p.apply(Command::SupplySetpoint(99.0));
    assert!((p.ahu1.supply_sp_c - SUPPLY_SETPOINT_RANGE_C.1).abs() < f64::EPSILON);
}

#[test]
fn step_splits_and_ignores_bad_dt() {
    let mut a = Plant::new(2, SIX_AM_S);
    let mut b = a.clone();
    a.step(1.0);
    for _ in 0..10 {
        b.step(0.1);
    }
    assert!((a.ahu1.supply_c - b.ahu1.supply_c).abs() < 1e-9);
    let t = a.t_s;
    a.step(f64::NAN);
    a.step(-1.0);
    assert!((a.t_s - t).abs() < f64::EPSILON);
}
