//! Modbus exception codes 01–0B: the code a device answered, its name and a one-line meaning
//! for the operator. Exceptions are answers from a reachable device, never transport errors.

use tokio_modbus::ExceptionCode;

/// A device's exception answer, ready to show and to record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceException {
    pub code: u8,
    pub name: &'static str,
    pub meaning: &'static str,
}

impl DeviceException {
    /// Looks up the name and meaning of a raw exception code.
    pub fn from_code(code: u8) -> Self {
        let (name, meaning) = describe(code);
        DeviceException {
            code,
            name,
            meaning,
        }
    }
}

impl From<ExceptionCode> for DeviceException {
    fn from(code: ExceptionCode) -> Self {
        DeviceException::from_code(u8::from(code))
    }
}

impl std::fmt::Display for DeviceException {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exception {:02X} {}: {}",
            self.code, self.name, self.meaning
        )
    }
}

/// Name and one-line meaning of an exception code (Modbus Application Protocol v1.1b3, §7).
pub fn describe(code: u8) -> (&'static str, &'static str) {
    match code {
        0x01 => (
            "Illegal Function",
            "the device does not support this function code",
        ),
        0x02 => (
            "Illegal Data Address",
            "the register or coil address does not exist on the device",
        ),
        0x03 => ("Illegal Data Value", "the device refused the value written"),
        0x04 => (
            "Server Device Failure",
            "the device failed while performing the request",
        ),
        0x05 => (
            "Acknowledge",
            "the device accepted a long-running request and is still processing it",
        ),
        0x06 => (
            "Server Device Busy",
            "the device is busy with a long-running command; try again later",
        ),
        0x07 => (
            "Negative Acknowledge",
            "the device cannot perform the programming request",
        ),
        0x08 => (
            "Memory Parity Error",
            "the device detected a parity error in its memory",
        ),
        0x0A => (
            "Gateway Path Unavailable",
            "the gateway has no path to the target device (misconfigured or overloaded)",
        ),
        0x0B => (
            "Gateway Target Device Failed to Respond",
            "the gateway got no answer from the target device (absent or unit id wrong)",
        ),
        _ => (
            "Unknown Exception",
            "the device answered an exception code the Modbus standard does not define",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_codes_have_names() {
        let expected = [
            (0x01, "Illegal Function"),
            (0x02, "Illegal Data Address"),
            (0x03, "Illegal Data Value"),
            (0x04, "Server Device Failure"),
            (0x05, "Acknowledge"),
            (0x06, "Server Device Busy"),
            (0x08, "Memory Parity Error"),
            (0x0A, "Gateway Path Unavailable"),
            (0x0B, "Gateway Target Device Failed to Respond"),
        ];
        for (code, name) in expected {
            let e = DeviceException::from(ExceptionCode::new(code));
            assert_eq!((e.code, e.name), (code, name));
            assert!(!e.meaning.is_empty());
        }
        assert_eq!(DeviceException::from_code(0x09).name, "Unknown Exception");
    }
}
