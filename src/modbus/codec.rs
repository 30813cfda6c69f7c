//! Pure value ↔ register codec: data type, word order, byte swap, scale and offset.
//!
//! Owns the arithmetic between an engineering value (`f64`, what the operator types) and the
//! 16-bit registers a Modbus device holds. It does no I/O and knows nothing about devices,
//! connections or tags.
//!
//! - engineering = raw × scale + offset; encoding inverts this, rounds to the nearest integer
//!   for integer types and **refuses** raw values that do not fit the type (never clamps).
//! - Registers are built from the big-endian bytes of the raw value, most significant word
//!   first ([`WordOrder::Big`]); [`WordOrder::Little`] reverses the words and `byte_swap`
//!   swaps the two bytes inside every word.
//! - Bool is stored as 0/1 and ignores scale and offset.
//! - Engineering limits are a separate check ([`check_limits`]) so callers decide when to run it.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The type a value has on the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataType {
    Bool,
    U16,
    I16,
    U32,
    I32,
    F32,
    F64,
}

impl DataType {
    /// Every data type, for tests and pickers.
    pub const ALL: [DataType; 7] = [
        DataType::Bool,
        DataType::U16,
        DataType::I16,
        DataType::U32,
        DataType::I32,
        DataType::F32,
        DataType::F64,
    ];

    /// How many 16-bit registers the type occupies.
    pub fn register_count(self) -> u16 {
        match self {
            DataType::Bool | DataType::U16 | DataType::I16 => 1,
            DataType::U32 | DataType::I32 | DataType::F32 => 2,
            DataType::F64 => 4,
        }
    }

    /// Inclusive raw range of an integer type, `None` for floats.
    fn integer_range(self) -> Option<(f64, f64)> {
        match self {
            DataType::Bool => Some((0.0, 1.0)),
            DataType::U16 => Some((0.0, f64::from(u16::MAX))),
            DataType::I16 => Some((f64::from(i16::MIN), f64::from(i16::MAX))),
            DataType::U32 => Some((0.0, f64::from(u32::MAX))),
            DataType::I32 => Some((f64::from(i32::MIN), f64::from(i32::MAX))),
            DataType::F32 | DataType::F64 => None,
        }
    }
}

impl std::fmt::Display for DataType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            DataType::Bool => "bool",
            DataType::U16 => "u16",
            DataType::I16 => "i16",
            DataType::U32 => "u32",
            DataType::I32 => "i32",
            DataType::F32 => "f32",
            DataType::F64 => "f64",
        };
        f.write_str(name)
    }
}

/// Order of the 16-bit words of a multi-register value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WordOrder {
    /// Most significant word first (Modbus convention, "ABCD").
    #[default]
    Big,
    /// Least significant word first ("CDAB").
    Little,
}

/// Why a value could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum CodecError {
    #[error("value {0} is not a finite number")]
    NotFinite(f64),
    #[error("scale {0} must be finite and non-zero")]
    BadScale(f64),
    #[error("offset {0} must be finite")]
    BadOffset(f64),
    #[error("{value} needs raw {raw}, which does not fit {data_type}")]
    DoesNotFit {
        value: f64,
        raw: f64,
        data_type: DataType,
    },
    #[error("a bool value must be 0 or 1, got {0}")]
    NotBool(f64),
    #[error("{data_type} needs {expected} registers, got {got}")]
    WrongLength {
        data_type: DataType,
        expected: u16,
        got: usize,
    },
    #[error("decoded value is not finite")]
    DecodedNotFinite,
}

/// A value outside the engineering limits.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum LimitError {
    #[error("value {0} is not a finite number")]
    NotFinite(f64),
    #[error("{value} is below the minimum {min}")]
    BelowMin { value: f64, min: f64 },
    #[error("{value} is above the maximum {max}")]
    AboveMax { value: f64, max: f64 },
}

/// Checks an engineering value against optional inclusive limits. NaN and infinities fail.
pub fn check_limits(value: f64, min: Option<f64>, max: Option<f64>) -> Result<(), LimitError> {
    if !value.is_finite() {
        return Err(LimitError::NotFinite(value));
    }
    if let Some(min) = min
        && value < min
    {
        return Err(LimitError::BelowMin { value, min });
    }
    if let Some(max) = max
        && value > max
    {
        return Err(LimitError::AboveMax { value, max });
    }
    Ok(())
}

/// How one value is laid out in registers and scaled to engineering units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Encoding {
    pub data_type: DataType,
    #[serde(default)]
    pub word_order: WordOrder,
    #[serde(default)]
    pub byte_swap: bool,
    #[serde(default = "one")]
    pub scale: f64,
    #[serde(default)]
    pub offset: f64,
}

fn one() -> f64 {
    1.0
}

impl Encoding {
    /// An unscaled encoding, big word order, no byte swap.
    pub fn plain(data_type: DataType) -> Self {
        Encoding {
            data_type,
            word_order: WordOrder::Big,
            byte_swap: false,
            scale: 1.0,
            offset: 0.0,
        }
    }

    /// Checks scale and offset.
    pub fn validate(&self) -> Result<(), CodecError> {
        if !self.scale.is_finite() || self.scale == 0.0 {
            return Err(CodecError::BadScale(self.scale));
        }
        if !self.offset.is_finite() {
            return Err(CodecError::BadOffset(self.offset));
        }
        Ok(())
    }

    /// Engineering value → registers. Refuses values that do not fit the type after scaling.
    pub fn encode(&self, value: f64) -> Result<Vec<u16>, CodecError> {
        self.validate()?;
        if !value.is_finite() {
            return Err(CodecError::NotFinite(value));
        }
        let bytes: Vec<u8> = match self.data_type {
            DataType::Bool => {
                if value == 0.0 {
                    vec![0, 0]
                } else if value == 1.0 {
                    vec![0, 1]
                } else {
                    return Err(CodecError::NotBool(value));
                }
            }
            DataType::F32 => {
                let raw = self.raw_from_engineering(value);
                let raw32 = raw as f32;
                if !raw32.is_finite() {
                    return Err(self.does_not_fit(value, raw));
                }
                raw32.to_be_bytes().to_vec()
            }
            DataType::F64 => {
                let raw = self.raw_from_engineering(value);
                if !raw.is_finite() {
                    return Err(self.does_not_fit(value, raw));
                }
                raw.to_be_bytes().to_vec()
            }
            integer => {
                let raw = self.raw_from_engineering(value).round();
                let (lo, hi) = integer.integer_range().unwrap_or((0.0, 0.0));
                if !(lo..=hi).contains(&raw) {
                    return Err(self.does_not_fit(value, raw));
                }
                // In range and integral: the `as` casts below are exact.
                match integer {
                    DataType::U16 => (raw as u16).to_be_bytes().to_vec(),
                    DataType::I16 => (raw as i16).to_be_bytes().to_vec(),
                    DataType::U32 => (raw as u32).to_be_bytes().to_vec(),
                    _ => (raw as i32).to_be_bytes().to_vec(),
                }
            }
        };
        Ok(self.registers_from_bytes(&bytes))
    }

    /// Registers → engineering value.
    pub fn decode(&self, registers: &[u16]) -> Result<f64, CodecError> {
        self.validate()?;
        let expected = self.data_type.register_count();
        if registers.len() != usize::from(expected) {
            return Err(CodecError::WrongLength {
                data_type: self.data_type,
                expected,
                got: registers.len(),
            });
        }
        let bytes = self.bytes_from_registers(registers);
        let raw = match self.data_type {
            DataType::Bool => {
                return Ok(if bytes.iter().any(|b| *b != 0) {
                    1.0
                } else {
                    0.0
                });
            }
            DataType::U16 => f64::from(u16::from_be_bytes([bytes[0], bytes[1]])),
            DataType::I16 => f64::from(i16::from_be_bytes([bytes[0], bytes[1]])),
            DataType::U32 => f64::from(u32::from_be_bytes(first_n(&bytes))),
            DataType::I32 => f64::from(i32::from_be_bytes(first_n(&bytes))),
            DataType::F32 => f64::from(f32::from_be_bytes(first_n(&bytes))),
            DataType::F64 => f64::from_be_bytes(first_n(&bytes)),
        };
        let value = raw * self.scale + self.offset;
        if value.is_finite() {
            Ok(value)
        } else {
            Err(CodecError::DecodedNotFinite)
        }
    }

    /// Largest difference between a requested value and its read-back that still counts as
    /// equal: half a raw step after scaling (integers), half an f32 ulp (f32), a few f64 ulps.
    pub fn tolerance(&self, value: f64) -> f64 {
        let arithmetic = (value.abs() + self.offset.abs()) * 8.0 * f64::EPSILON;
        match self.data_type {
            DataType::Bool => 0.5,
            DataType::U16 | DataType::I16 | DataType::U32 | DataType::I32 => {
                self.scale.abs() * 0.5 + arithmetic
            }
            DataType::F32 => {
                let raw = (self.raw_from_engineering(value) as f32).abs();
                let step = f64::from(raw.next_up() - raw);
                (step * 0.5 * self.scale.abs()).max(f64::from(f32::MIN_POSITIVE)) + arithmetic
            }
            DataType::F64 => arithmetic.max(f64::MIN_POSITIVE),
        }
    }

    fn raw_from_engineering(&self, value: f64) -> f64 {
        (value - self.offset) / self.scale
    }

    fn does_not_fit(&self, value: f64, raw: f64) -> CodecError {
        CodecError::DoesNotFit {
            value,
            raw,
            data_type: self.data_type,
        }
    }

    fn registers_from_bytes(&self, bytes: &[u8]) -> Vec<u16> {
        let mut words: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|pair| {
                let word = u16::from_be_bytes([pair[0], pair[1]]);
                if self.byte_swap {
                    word.swap_bytes()
                } else {
                    word
                }
            })
            .collect();
        if self.word_order == WordOrder::Little {
            words.reverse();
        }
        words
    }

    fn bytes_from_registers(&self, registers: &[u16]) -> Vec<u8> {
        let mut words = registers.to_vec();
        if self.word_order == WordOrder::Little {
            words.reverse();
        }
        words
            .into_iter()
            .flat_map(|word| {
                let word = if self.byte_swap {
                    word.swap_bytes()
                } else {
                    word
                };
                word.to_be_bytes()
            })
            .collect()
    }
}

/// Copies the first `N` bytes; the caller has checked the length.
fn first_n<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    for (dst, src) in out.iter_mut().zip(bytes) {
        *dst = *src;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};

    const ORDERS: [WordOrder; 2] = [WordOrder::Big, WordOrder::Little];
    const SCALINGS: [(f64, f64); 5] = [
        (1.0, 0.0),
        (0.1, 0.0),
        (0.01, -40.0),
        (10.0, 5.0),
        (-0.5, 100.0),
    ];

    fn enc(
        data_type: DataType,
        word_order: WordOrder,
        byte_swap: bool,
        scale: f64,
        offset: f64,
    ) -> Encoding {
        Encoding {
            data_type,
            word_order,
            byte_swap,
            scale,
            offset,
        }
    }

    fn random_raw(rng: &mut SmallRng, data_type: DataType) -> f64 {
        match data_type {
            DataType::Bool => f64::from(u8::from(rng.random::<bool>())),
            DataType::U16 => f64::from(rng.random::<u16>()),
            DataType::I16 => f64::from(rng.random::<i16>()),
            DataType::U32 => f64::from(rng.random::<u32>()),
            DataType::I32 => f64::from(rng.random::<i32>()),
            DataType::F32 => f64::from(rng.random_range(-1.0e6f32..1.0e6)),
            DataType::F64 => rng.random_range(-1.0e12..1.0e12),
        }
    }

    #[test]
    fn every_type_order_and_swap_round_trips_with_scaling() {
        let mut rng = SmallRng::seed_from_u64(0x5eed_0005);
        for data_type in DataType::ALL {
            for word_order in ORDERS {
                for byte_swap in [false, true] {
                    for (scale, offset) in SCALINGS {
                        let (scale, offset) = if data_type == DataType::Bool {
                            (1.0, 0.0)
                        } else {
                            (scale, offset)
                        };
                        let e = enc(data_type, word_order, byte_swap, scale, offset);
                        for _ in 0..500 {
                            let value = random_raw(&mut rng, data_type) * scale + offset;
                            let regs = e
                                .encode(value)
                                .unwrap_or_else(|err| panic!("{e:?} refused {value}: {err}"));
                            assert_eq!(regs.len(), usize::from(data_type.register_count()));
                            let back = e.decode(&regs).unwrap();
                            assert!(
                                (back - value).abs() <= e.tolerance(value),
                                "{e:?}: {value} -> {regs:04X?} -> {back}"
                            );
                            // Encoding the decoded value gives the same registers.
                            assert_eq!(e.encode(back).unwrap(), regs, "{e:?}: {value}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn random_registers_decode_and_reencode_unchanged() {
        let mut rng = SmallRng::seed_from_u64(42);
        for data_type in DataType::ALL.into_iter().filter(|t| *t != DataType::Bool) {
            for word_order in ORDERS {
                for byte_swap in [false, true] {
                    let e = enc(data_type, word_order, byte_swap, 1.0, 0.0);
                    for _ in 0..2000 {
                        let regs: Vec<u16> = (0..data_type.register_count())
                            .map(|_| rng.random())
                            .collect();
                        let Ok(value) = e.decode(&regs) else {
                            continue; // NaN / infinity patterns
                        };
                        if value == 0.0 && value.is_sign_negative() {
                            continue; // the sign of zero is not worth a register pattern
                        }
                        assert_eq!(e.encode(value).unwrap(), regs, "{e:?} {regs:04X?}");
                    }
                }
            }
        }
    }

    #[test]
    fn known_vectors() {
        let f32_one = Encoding::plain(DataType::F32);
        assert_eq!(f32_one.encode(1.0).unwrap(), [0x3F80, 0x0000]);
        let little = Encoding {
            word_order: WordOrder::Little,
            ..f32_one
        };
        assert_eq!(little.encode(1.0).unwrap(), [0x0000, 0x3F80]);
        let swapped = Encoding {
            byte_swap: true,
            ..f32_one
        };
        assert_eq!(swapped.encode(1.0).unwrap(), [0x803F, 0x0000]);
        assert_eq!(
            Encoding::plain(DataType::F64).encode(1.0).unwrap(),
            [0x3FF0, 0, 0, 0]
        );
        let u32_plain = Encoding::plain(DataType::U32);
        assert_eq!(
            u32_plain.encode(f64::from(0x1234_5678u32)).unwrap(),
            [0x1234, 0x5678]
        );
        let u32_cdab = enc(DataType::U32, WordOrder::Little, false, 1.0, 0.0);
        assert_eq!(
            u32_cdab.encode(f64::from(0x1234_5678u32)).unwrap(),
            [0x5678, 0x1234]
        );
        let u32_badc = enc(DataType::U32, WordOrder::Big, true, 1.0, 0.0);
        assert_eq!(
            u32_badc.encode(f64::from(0x1234_5678u32)).unwrap(),
            [0x3412, 0x7856]
        );
        assert_eq!(
            Encoding::plain(DataType::I16).encode(-1.0).unwrap(),
            [0xFFFF]
        );
        assert_eq!(
            Encoding::plain(DataType::I32).encode(-2.0).unwrap(),
            [0xFFFF, 0xFFFE]
        );
        assert_eq!(Encoding::plain(DataType::Bool).encode(1.0).unwrap(), [1]);
        // 21.5 °C in tenths.
        let tenths = enc(DataType::I16, WordOrder::Big, false, 0.1, 0.0);
        assert_eq!(tenths.encode(21.5).unwrap(), [215]);
        assert!((tenths.decode(&[0xFF38]).unwrap() - -20.0).abs() < 1e-9);
        // Offset: 4..20 mA style, raw 0..1000 → -50..50.
        let offset = enc(DataType::U16, WordOrder::Big, false, 0.1, -50.0);
        assert_eq!(offset.encode(0.0).unwrap(), [500]);
        assert!((offset.decode(&[1000]).unwrap() - 50.0).abs() < 1e-9);
    }

    #[test]
    fn integer_encoding_rounds_to_nearest() {
        let tenths = enc(DataType::U16, WordOrder::Big, false, 0.1, 0.0);
        assert_eq!(tenths.encode(21.54).unwrap(), [215]);
        assert_eq!(tenths.encode(21.56).unwrap(), [216]);
        assert_eq!(tenths.encode(6553.54).unwrap(), [65535]);
    }

    #[test]
    fn values_that_do_not_fit_are_refused_not_clamped() {
        let refused = |e: Encoding, v: f64| {
            assert!(
                matches!(e.encode(v), Err(CodecError::DoesNotFit { .. })),
                "{e:?} accepted {v}: {:?}",
                e.encode(v)
            );
        };
        refused(Encoding::plain(DataType::U16), 65536.0);
        refused(Encoding::plain(DataType::U16), -1.0);
        refused(Encoding::plain(DataType::I16), -32769.0);
        refused(Encoding::plain(DataType::I16), 32768.0);
        refused(Encoding::plain(DataType::U32), 4_294_967_296.0);
        refused(Encoding::plain(DataType::I32), 2_147_483_648.0);
        refused(Encoding::plain(DataType::F32), 1.0e39);
        refused(enc(DataType::U16, WordOrder::Big, false, 0.1, 0.0), 6553.56);
        refused(enc(DataType::I16, WordOrder::Big, false, 0.01, 0.0), 327.68);
        refused(enc(DataType::U16, WordOrder::Big, false, 1.0, 100.0), 99.0);
        refused(
            enc(DataType::F64, WordOrder::Big, false, 1.0e-300, 0.0),
            1.0e300,
        );
        assert!(matches!(
            Encoding::plain(DataType::U16).encode(f64::NAN),
            Err(CodecError::NotFinite(_))
        ));
        assert!(matches!(
            Encoding::plain(DataType::Bool).encode(0.5),
            Err(CodecError::NotBool(_))
        ));
        let zero_scale = enc(DataType::U16, WordOrder::Big, false, 0.0, 0.0);
        assert!(matches!(
            zero_scale.encode(1.0),
            Err(CodecError::BadScale(_))
        ));
    }

    #[test]
    fn decode_checks_length() {
        assert!(matches!(
            Encoding::plain(DataType::F32).decode(&[1]),
            Err(CodecError::WrongLength {
                expected: 2,
                got: 1,
                ..
            })
        ));
    }

    #[test]
    fn limits_are_inclusive_and_reject_nan() {
        assert!(check_limits(10.0, Some(10.0), Some(20.0)).is_ok());
        assert!(check_limits(20.0, Some(10.0), Some(20.0)).is_ok());
        assert!(check_limits(15.0, None, None).is_ok());
        assert!(matches!(
            check_limits(9.99, Some(10.0), Some(20.0)),
            Err(LimitError::BelowMin { .. })
        ));
        assert!(check_limits(20.01, Some(10.0), None).is_ok());
        assert!(matches!(
            check_limits(20.01, None, Some(20.0)),
            Err(LimitError::AboveMax { .. })
        ));
        assert!(matches!(
            check_limits(f64::NAN, None, None),
            Err(LimitError::NotFinite(_))
        ));
    }
}
