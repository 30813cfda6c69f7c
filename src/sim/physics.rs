//! The demo plant's physics: a deterministic energy plant with first-order dynamics and simple
//! but real control loops. No I/O and no clock: time comes in as `step(dt_s)`, so it is tested
//! without MQTT. Payload formatting lives in `payload`.
//!
//! Process: heat pump HP1 (pump P1) charges buffer tank TK1; pump P2 draws from the tank top
//! through district-heating exchanger DH1 (top-up to a weather-compensated setpoint) to the
//! loads — the building's radiator circuit and the AHU1 heating coil — and back to the tank
//! bottom. Loops: HP1 speed on tank-top temperature, DH1 valve on secondary supply, AHU1 heating
//! valve on supply air, supply fan on duct static pressure.

use rand::SeedableRng;
use rand::rngs::SmallRng;

use super::command::{Command, Equipment, SUPPLY_SETPOINT_RANGE_C};
pub use super::equipment::{AirHandler, Exchanger, HeatPump, Motor, Tank};
use super::equipment::{HP_START_S, Pi, lag, ramp};

/// Longest internal integration step; `step` splits longer steps.
pub const MAX_SUBSTEP_S: f64 = 0.1;
/// Simulated time `Plant::new` runs before handing the plant out, so it starts near steady state.
const SETTLE_S: f64 = 900.0;

const WATER_CP: f64 = 4.19; // kJ/(kg·K)
const WATER_KG_S_PER_M3H: f64 = 1000.0 / 3600.0;
const AIR_KW_PER_M3H_K: f64 = 1.2 * 1.005 / 3600.0;
const BRINE_KW_PER_K: f64 = 13.3; // 12 m³/h of 30 % glycol
const TANK_NODE_KG: f64 = 2_000.0 / 3.0; // 2 m³ in three layers
const ROOM_C: f64 = 20.0;

const TANK_TOP_SP_C: f64 = 48.0;
const DUCT_STATIC_SP_PA: f64 = 250.0;
const SUPPLY_AIR_SP_C: f64 = 19.0;
const HP_MIN_SPEED_PCT: f64 = 30.0;
const HP_NOMINAL_KW: f64 = 95.0;
const HP_MIN_OFF_S: f64 = 120.0;
const P1_OVERRUN_S: f64 = 60.0;

/// The whole plant.
#[derive(Clone, Debug)]
pub struct Plant {
    pub(super) rng: SmallRng,
    /// Simulated seconds since the plant was created (settling included).
    pub t_s: f64,
    /// Time of day at `t_s = 0`, seconds after midnight.
    day_offset_s: f64,
    upset_left_s: f64,
    pub hp1: HeatPump,
    pub p1: Motor,
    pub p2: Motor,
    pub tk1: Tank,
    pub dh1: Exchanger,
    pub ahu1: AirHandler,
    /// Radiator circuit load, kW.
    pub building_kw: f64,
}

impl Plant {
    /// A plant near steady state whose clock shows `time_of_day_s` (seconds after local
    /// midnight; it drives the outdoor temperature). Same seed, same plant, same noise.
    pub fn new(seed: u64, time_of_day_s: f64) -> Self {
        let mut plant = Self {
            rng: SmallRng::seed_from_u64(seed),
            t_s: 0.0,
            day_offset_s: time_of_day_s - SETTLE_S,
            upset_left_s: 0.0,
            hp1: HeatPump {
                running: true,
                fault: false,
                speed_pct: 45.0,
                supply_c: 48.0,
                return_c: 43.0,
                source_in_c: 7.8,
                source_out_c: 4.8,
                heat_kw: 40.0,
                power_kw: 11.0,
                cop: 3.6,
                run_s: 3_600.0,
                off_s: 0.0,
                overrun_s: 0.0,
                pi: Pi::new(6.0, 400.0, (HP_MIN_SPEED_PCT, 100.0), 45.0),
            },
            p1: Motor::new(80.0),
            p2: Motor::new(66.0),
            tk1: Tank {
                temps_c: [48.0, 47.0, 43.0],
                base_level_pct: 74.0,
                makeup_open: false,
            },
            dh1: Exchanger {
                primary_supply_c: 85.0,
                primary_return_c: 55.0,
                secondary_supply_c: 53.5,
                secondary_return_c: 40.0,
                secondary_sp_c: 53.5,
                valve_pct: 25.0,
                primary_flow_m3h: 0.75,
                heat_kw: 25.0,
                pi: Pi::new(2.0, 30.0, (0.0, 100.0), 25.0),
            },
            ahu1: AirHandler {
                outdoor_c: 3.0,
                mixed_c: 14.5,
                supply_c: SUPPLY_AIR_SP_C,
                supply_sp_c: SUPPLY_AIR_SP_C,
                return_c: 21.5,
                supply_fan: Motor::new(69.0),
                exhaust_fan: Motor::new(62.0),
                heating_valve_pct: 30.0,
                damper_pct: 40.0,
                filter_dp_pa: 130.0,
                filter_load_pa: 130.0,
                duct_static_pa: DUCT_STATIC_SP_PA,
                airflow_m3h: 8_300.0,
                coil_kw: 15.0,
                heat_pi: Pi::new(4.0, 80.0, (0.0, 100.0), 30.0),
                fan_pi: Pi::new(0.05, 5.0, (20.0, 100.0), 69.0),
            },
            building_kw: 45.0,
        };
        plant.step(SETTLE_S);
        plant
    }

    /// Whether the heating-valve upset is active.
    pub fn upset_active(&self) -> bool {
        self.upset_left_s > 0.0
    }

    /// Seconds of upset left (0 when none).
    pub fn upset_left_s(&self) -> f64 {
        self.upset_left_s
    }

    /// Fire the upset: for `duration_s` the AHU heating valve is stuck fully open.
    pub fn start_upset(&mut self, duration_s: f64) {
        if duration_s.is_finite() {
            self.upset_left_s = duration_s.max(0.0);
        }
    }

    pub fn apply(&mut self, command: Command) {
        match command {
            Command::Upset { duration_s } => self.start_upset(duration_s),
            Command::Normal => self.upset_left_s = 0.0,
            Command::Trip(e) => *self.fault_mut(e) = true,
            Command::Reset => {
                for e in Equipment::ALL {
                    *self.fault_mut(e) = false;
                }
            }
            Command::SupplySetpoint(c) => {
                let (lo, hi) = SUPPLY_SETPOINT_RANGE_C;
                if c.is_finite() {
                    self.ahu1.supply_sp_c = c.clamp(lo, hi);
                }
            }
        }
    }

    fn fault_mut(&mut self, e: Equipment) -> &mut bool {
        match e {
            Equipment::Hp1 => &mut self.hp1.fault,
            Equipment::P1 => &mut self.p1.fault,
            Equipment::P2 => &mut self.p2.fault,
            Equipment::SupplyFan => &mut self.ahu1.supply_fan.fault,
            Equipment::ExhaustFan => &mut self.ahu1.exhaust_fan.fault,
        }
    }

    /// Advance the plant by `dt_s` simulated seconds (split into steps of at most
    /// `MAX_SUBSTEP_S`). Non-finite or negative `dt_s` does nothing.
    pub fn step(&mut self, dt_s: f64) {
        if !(dt_s.is_finite() && dt_s > 0.0) {
            return;
        }
        let n = (dt_s / MAX_SUBSTEP_S).ceil().max(1.0);
        let dt = dt_s / n;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // n ≥ 1, finite
        let count = n as u64;
        for _ in 0..count {
            self.substep(dt);
        }
    }

    /// Seconds after local midnight, now.
    pub fn time_of_day_s(&self) -> f64 {
        (self.day_offset_s + self.t_s).rem_euclid(86_400.0)
    }

    fn substep(&mut self, dt: f64) {
        self.t_s += dt;
        self.upset_left_s = (self.upset_left_s - dt).max(0.0);
        let tau = std::f64::consts::TAU;
        let tod_s = self.time_of_day_s();
        // Boundary conditions: a winter day (coldest at 03:00, warmest at 15:00) and a district
        // network whose supply temperature wanders slowly.
        self.ahu1.outdoor_c = 3.0 + 5.0 * (tau * (tod_s - 9.0 * 3_600.0) / 86_400.0).sin();
        self.dh1.primary_supply_c = 85.0 + 2.0 * (tau * self.t_s / 2_700.0).sin();
        let occupancy = (tau * (tod_s - 8.0 * 3_600.0) / 86_400.0).sin().max(0.0);

        self.step_ahu(dt, occupancy);
        self.step_pumps(dt);
        self.step_heat_pump(dt);
        self.step_exchanger(dt);
        self.step_tank(dt);
    }

    fn step_ahu(&mut self, dt: f64, occupancy: f64) {
        let upset = self.upset_active();
        let water_c = self.dh1.secondary_supply_c;
        let a = &mut self.ahu1;

        // Supply fan on duct static pressure; the exhaust fan follows at 90 %.
        let sf_demand = if a.supply_fan.fault {
            a.fan_pi.track(a.supply_fan.speed_pct);
            None
        } else {
            Some(a.fan_pi.update(DUCT_STATIC_SP_PA - a.duct_static_pa, dt))
        };
        a.supply_fan.drive(sf_demand, 5.0, dt);
        let ef_demand = a.supply_fan.running.then_some(0.9 * a.supply_fan.speed_pct);
        a.exhaust_fan.drive(ef_demand, 5.0, dt);
        let s = a.supply_fan.speed_pct / 100.0;
        lag(&mut a.duct_static_pa, 520.0 * s * s, 1.5, dt);
        a.airflow_m3h = 12_000.0 * s;
        // Dust loads the filter (~43 Pa a day); maintenance replaces it at 280 Pa.
        a.filter_load_pa += 0.0005 * dt;
        if a.filter_load_pa > 280.0 {
            a.filter_load_pa = 110.0;
        }
        let flow_ratio = a.airflow_m3h / 8_300.0;
        lag(
            &mut a.filter_dp_pa,
            a.filter_load_pa * flow_ratio * flow_ratio,
            2.0,
            dt,
        );

        // Outdoor-air damper: minimum fresh air, more when it is mild outside; shut when stopped.
        let damper_target = if a.supply_fan.running {
            (40.0 + (a.outdoor_c - 8.0) * 5.0).clamp(40.0, 100.0)
        } else {
            0.0
        };
        a.damper_pct = ramp(a.damper_pct, damper_target, 2.0 * dt);
        let oa = a.damper_pct / 100.0;
        lag(
            &mut a.mixed_c,
            oa * a.outdoor_c + (1.0 - oa) * a.return_c,
            5.0,
            dt,
        );

        // Heating valve on supply air (stuck open during the upset).
        let valve_target = if upset {
            a.heat_pi.track(100.0);
            100.0
        } else if a.supply_fan.running {
            a.heat_pi.update(a.supply_sp_c - a.supply_c, dt)
        } else {
            a.heat_pi.track(0.0);
            0.0
        };
        a.heating_valve_pct = ramp(a.heating_valve_pct, valve_target, 4.0 * dt);
        let coil_rise = 0.55 * a.heating_valve_pct / 100.0 * (water_c - a.mixed_c).max(0.0);
        lag(&mut a.supply_c, a.mixed_c + coil_rise, 40.0, dt);
        a.coil_kw = AIR_KW_PER_M3H_K * a.airflow_m3h * (a.supply_c - a.mixed_c).max(0.0);

        // The served rooms: return air follows supply air and occupancy gains, slowly.
        let room_target = 21.0 + 0.25 * (a.supply_c - 19.0) + 0.8 * occupancy;
        lag(&mut a.return_c, room_target, 600.0, dt);
    }

    fn step_pumps(&mut self, dt: f64) {
        let p1_demand = (self.hp1.running || self.hp1.overrun_s > 0.0).then_some(80.0);
        self.p1.drive(p1_demand, 10.0, dt);
        let p2_demand = Some(55.0 + 0.35 * self.ahu1.heating_valve_pct);
        self.p2.drive(p2_demand, 2.0, dt);
    }

    /// P1 flow (through HP1), m³/h.
    pub fn p1_flow_m3h(&self) -> f64 {
        8.0 * self.p1.speed_pct / 100.0
    }

    /// P2 flow (secondary loop), m³/h.
    pub fn p2_flow_m3h(&self) -> f64 {
        6.0 * self.p2.speed_pct / 100.0
    }

    fn step_heat_pump(&mut self, dt: f64) {
        let top_c = self.tk1.temps_c[0];
        let bottom_c = self.tk1.temps_c[2];
        let c_flow = self.p1_flow_m3h() * WATER_KG_S_PER_M3H * WATER_CP;
        let p1_fault = self.p1.fault;
        let hp = &mut self.hp1;

        hp.overrun_s = (hp.overrun_s - dt).max(0.0);
        let stop = |hp: &mut HeatPump| {
            hp.running = false;
            hp.off_s = 0.0;
            hp.overrun_s = P1_OVERRUN_S;
        };
        if hp.running {
            hp.run_s += dt;
            let satisfied = hp.speed_pct <= HP_MIN_SPEED_PCT + 0.5 && top_c > TANK_TOP_SP_C + 2.0;
            if hp.fault || p1_fault || satisfied {
                stop(hp);
            }
        } else {
            hp.off_s += dt;
            if !hp.fault && !p1_fault && hp.off_s >= HP_MIN_OFF_S && top_c < TANK_TOP_SP_C - 2.0 {
                hp.running = true;
                hp.run_s = 0.0;
                hp.pi.track(HP_MIN_SPEED_PCT);
            }
        }

        if hp.running {
            let demand = if hp.run_s < HP_START_S {
                HP_MIN_SPEED_PCT
            } else {
                hp.pi.update(TANK_TOP_SP_C - top_c, dt)
            };
            hp.speed_pct = ramp(hp.speed_pct, demand, 2.0 * dt);
        } else {
            hp.speed_pct = ramp(hp.speed_pct, 0.0, 10.0 * dt);
        }

        let heat_target = if hp.running && c_flow > 0.5 {
            HP_NOMINAL_KW * hp.speed_pct / 100.0 * (1.0 + 0.015 * (hp.source_in_c - 8.0))
        } else {
            0.0
        };
        lag(&mut hp.heat_kw, heat_target, 20.0, dt);
        if hp.heat_kw > 1.0 {
            // Carnot with 2 K approach on each side, 52 % efficiency, best near 60 % speed.
            let tc = hp.supply_c + 2.0 + 273.15;
            let te = hp.source_out_c - 2.0 + 273.15;
            let part = 1.0 - 0.12 * ((hp.speed_pct - 60.0) / 40.0).powi(2);
            hp.cop = (0.52 * part * tc / (tc - te).max(10.0)).clamp(1.5, 7.0);
            hp.power_kw = hp.heat_kw / hp.cop;
        } else {
            hp.cop = 0.0;
            hp.power_kw = 0.0;
        }
        let evap_kw = hp.heat_kw - hp.power_kw;

        if c_flow > 0.2 {
            lag(&mut hp.supply_c, bottom_c + hp.heat_kw / c_flow, 30.0, dt);
            lag(&mut hp.return_c, bottom_c, 10.0, dt);
        } else {
            lag(&mut hp.supply_c, ROOM_C, 900.0, dt);
            lag(&mut hp.return_c, ROOM_C, 900.0, dt);
        }
        // The ground field cools slowly under load.
        lag(&mut hp.source_in_c, 9.0 - 0.03 * evap_kw, 900.0, dt);
        let source_in_c = hp.source_in_c;
        lag(
            &mut hp.source_out_c,
            source_in_c - evap_kw / BRINE_KW_PER_K,
            30.0,
            dt,
        );
    }

    fn step_exchanger(&mut self, dt: f64) {
        let c_sec = self.p2_flow_m3h() * WATER_KG_S_PER_M3H * WATER_CP;
        let inlet_c = self.tk1.temps_c[0];
        let outdoor_c = self.ahu1.outdoor_c;
        let p2_running = self.p2.running;
        let d = &mut self.dh1;

        // Weather-compensated secondary supply setpoint.
        d.secondary_sp_c = (50.0 + 0.5 * (10.0 - outdoor_c)).clamp(48.0, 60.0);
        let valve_target = if p2_running {
            d.pi.update(d.secondary_sp_c - d.secondary_supply_c, dt)
        } else {
            d.pi.track(0.0);
            0.0
        };
        d.valve_pct = ramp(d.valve_pct, valve_target, 2.0 * dt);
        d.primary_flow_m3h = 3.0 * d.valve_pct / 100.0;
        let c_pri = d.primary_flow_m3h * WATER_KG_S_PER_M3H * WATER_CP;
        let q_kw = 0.8 * c_pri.min(c_sec) * (d.primary_supply_c - inlet_c).max(0.0);
        lag(&mut d.heat_kw, q_kw, 10.0, dt);
        if c_pri > 0.05 {
            lag(
                &mut d.primary_return_c,
                d.primary_supply_c - q_kw / c_pri,
                15.0,
                dt,
            );
        } else {
            lag(&mut d.primary_return_c, 40.0, 300.0, dt);
        }
        if c_sec > 0.1 {
            lag(&mut d.secondary_supply_c, inlet_c + q_kw / c_sec, 15.0, dt);
        } else {
            lag(&mut d.secondary_supply_c, ROOM_C, 600.0, dt);
        }

        // Loads on the secondary loop: radiators (weather-dependent, limited by the water
        // temperature they get) and the AHU coil.
        let supply_c = d.secondary_supply_c;
        let available = ((supply_c - ROOM_C) / 35.0).clamp(0.0, 1.2);
        self.building_kw = if c_sec > 0.1 {
            (10.0 + 2.2 * (ROOM_C - outdoor_c).max(0.0)) * available
        } else {
            0.0
        };
        let load_kw = self.building_kw + self.ahu1.coil_kw;
        if c_sec > 0.1 {
            let return_c = (supply_c - load_kw / c_sec).max(ROOM_C);
            lag(&mut self.dh1.secondary_return_c, return_c, 30.0, dt);
        } else {
            lag(&mut self.dh1.secondary_return_c, ROOM_C, 600.0, dt);
        }
    }

    fn step_tank(&mut self, dt: f64) {
        // Mass flows (kg/s): HP1 loop in at the top, out at the bottom; secondary loop out at
        // the top, back at the bottom. The difference moves through the layers (upwind).
        let a = self.p1_flow_m3h() * WATER_KG_S_PER_M3H;
        let b = self.p2_flow_m3h() * WATER_KG_S_PER_M3H;
        let down = a - b;
        let [top, mid, bot] = self.tk1.temps_c;
        let mix = 0.02; // conduction and plume mixing between layers, kg/s equivalent
        let loss = 0.004; // jacket loss to the plant room, kg/s equivalent

        let mut d_top = a * (self.hp1.supply_c - top) + mix * (mid - top);
        let mut d_mid = mix * (top - mid) + mix * (bot - mid);
        let mut d_bot = b * (self.dh1.secondary_return_c - bot) + mix * (mid - bot);
        if down > 0.0 {
            d_mid += down * (top - mid);
            d_bot += down * (mid - bot);
        } else {
            d_top += -down * (mid - top);
            d_mid += -down * (bot - mid);
        }
        let t = &mut self.tk1.temps_c;
        for (temp, d) in t.iter_mut().zip([d_top, d_mid, d_bot]) {
            *temp += (d + loss * (ROOM_C - *temp)) * dt / TANK_NODE_KG;
        }

        // Slow water loss (vent, seals) topped up by the make-up valve with hysteresis.
        let tank = &mut self.tk1;
        tank.base_level_pct -= 0.004 * dt;
        if tank.base_level_pct < 65.0 {
            tank.makeup_open = true;
        } else if tank.base_level_pct > 80.0 {
            tank.makeup_open = false;
        }
        if tank.makeup_open {
            tank.base_level_pct += 0.15 * dt;
        }
    }
}

#[cfg(test)]
mod tests;
