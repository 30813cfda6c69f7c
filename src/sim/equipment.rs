//! The demo plant's equipment state (heat pump, tank, exchanger, AHU, motors) and the control
//! building blocks the physics uses: PI controller, rate limiter, first-order lag. Plain data and
//! arithmetic; the process model that ties them together is `physics`.

/// Heat pump start-up time: minimum speed, shown as `starting`.
pub(super) const HP_START_S: f64 = 30.0;

/// A motor-driven machine: pump or fan.
#[derive(Clone, Debug, PartialEq)]
pub struct Motor {
    pub running: bool,
    pub fault: bool,
    pub speed_pct: f64,
}

impl Motor {
    pub(super) fn new(speed_pct: f64) -> Self {
        Self {
            running: speed_pct > 0.0,
            fault: false,
            speed_pct,
        }
    }

    /// Run at `demand` % (ramp-limited), or stop when `None` or faulted.
    pub(super) fn drive(&mut self, demand: Option<f64>, ramp_pct_s: f64, dt: f64) {
        let target = match demand {
            Some(d) if !self.fault => d,
            _ => 0.0,
        };
        self.running = demand.is_some() && !self.fault;
        self.speed_pct = ramp(self.speed_pct, target, ramp_pct_s * dt);
    }
}

/// PI controller, error = setpoint − process value, output clamped (integral too: anti-windup).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Pi {
    kp: f64,
    ti_s: f64,
    min: f64,
    max: f64,
    integral: f64,
}

impl Pi {
    pub(super) fn new(kp: f64, ti_s: f64, (min, max): (f64, f64), initial: f64) -> Self {
        Self {
            kp,
            ti_s,
            min,
            max,
            integral: initial.clamp(min, max),
        }
    }

    pub(super) fn update(&mut self, error: f64, dt: f64) -> f64 {
        self.integral =
            (self.integral + self.kp * error * dt / self.ti_s).clamp(self.min, self.max);
        (self.kp * error + self.integral).clamp(self.min, self.max)
    }

    /// Follow an output forced from outside (bumpless return to automatic).
    pub(super) fn track(&mut self, output: f64) {
        self.integral = output.clamp(self.min, self.max);
    }
}

/// Move `from` toward `to` by at most `max_step`.
pub(super) fn ramp(from: f64, to: f64, max_step: f64) -> f64 {
    from + (to - from).clamp(-max_step, max_step)
}

/// First-order lag of `value` toward `target` with time constant `tau_s`.
pub(super) fn lag(value: &mut f64, target: f64, tau_s: f64, dt: f64) {
    *value += (target - *value) * (dt / tau_s).min(1.0);
}

/// Heat pump HP1 with its brine source.
#[derive(Clone, Debug, PartialEq)]
pub struct HeatPump {
    pub running: bool,
    pub fault: bool,
    pub speed_pct: f64,
    pub supply_c: f64,
    pub return_c: f64,
    pub source_in_c: f64,
    pub source_out_c: f64,
    pub heat_kw: f64,
    pub power_kw: f64,
    /// 0 while stopped.
    pub cop: f64,
    pub(super) run_s: f64,
    pub(super) off_s: f64,
    pub(super) overrun_s: f64,
    pub(super) pi: Pi,
}

impl HeatPump {
    /// Operating state as text, as the unit's controller shows it.
    pub fn mode(&self, p1_fault: bool) -> &'static str {
        if self.fault {
            "fault"
        } else if self.running && self.run_s < HP_START_S {
            "starting"
        } else if self.running {
            "heating"
        } else if p1_fault {
            "no flow"
        } else {
            "standby"
        }
    }
}

/// Buffer tank TK1, three stratified layers.
#[derive(Clone, Debug, PartialEq)]
pub struct Tank {
    /// Top, middle, bottom.
    pub temps_c: [f64; 3],
    /// Water level without thermal expansion, %.
    pub base_level_pct: f64,
    pub makeup_open: bool,
}

impl Tank {
    /// Level as the sensor reads it (thermal expansion included), %.
    pub fn level_pct(&self) -> f64 {
        let mean = self.temps_c.iter().sum::<f64>() / 3.0;
        self.base_level_pct + 0.15 * (mean - 45.0)
    }
}

/// District-heating exchanger DH1.
#[derive(Clone, Debug, PartialEq)]
pub struct Exchanger {
    pub primary_supply_c: f64,
    pub primary_return_c: f64,
    pub secondary_supply_c: f64,
    pub secondary_return_c: f64,
    pub secondary_sp_c: f64,
    pub valve_pct: f64,
    pub primary_flow_m3h: f64,
    pub heat_kw: f64,
    pub(super) pi: Pi,
}

/// Air handling unit AHU1.
#[derive(Clone, Debug, PartialEq)]
pub struct AirHandler {
    pub outdoor_c: f64,
    pub mixed_c: f64,
    pub supply_c: f64,
    pub supply_sp_c: f64,
    pub return_c: f64,
    pub supply_fan: Motor,
    pub exhaust_fan: Motor,
    pub heating_valve_pct: f64,
    pub damper_pct: f64,
    pub filter_dp_pa: f64,
    /// Clean-filter pressure drop at nominal air flow; grows as the filter loads.
    pub(super) filter_load_pa: f64,
    pub duct_static_pa: f64,
    pub airflow_m3h: f64,
    pub coil_kw: f64,
    pub(super) heat_pi: Pi,
    pub(super) fan_pi: Pi,
}
