//! The audible alarm: a tone repeated every two seconds while an unacknowledged alarm is
//! annunciated and the operator has not silenced it; a new alarm sounds again. Played by the
//! platform's player (`paplay` or `aplay`) from a named thread, so the UI never waits; where no
//! player exists the horn stays quiet and the banner still flashes.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, Instant};

pub struct Horn {
    tx: Option<SyncSender<()>>,
    /// Alarm-list version when the operator silenced; a newer activation sounds again.
    silenced_at: Option<u64>,
    last: Option<Instant>,
}

impl Horn {
    pub fn new() -> Self {
        let player = ["paplay", "aplay"].into_iter().find(|p| on_path(p));
        let tx = player.and_then(|player| {
            let (tx, rx) = sync_channel(1);
            std::thread::Builder::new()
                .name("pv-horn".to_owned())
                .spawn(move || play_loop(player, &rx))
                .ok()
                .map(|_| tx)
        });
        Self {
            tx,
            silenced_at: None,
            last: None,
        }
    }

    /// Whether the platform can play the horn.
    pub fn available(&self) -> bool {
        self.tx.is_some()
    }

    pub fn silenced(&self) -> bool {
        self.silenced_at.is_some()
    }

    pub fn silence(&mut self, version: u64) {
        self.silenced_at = Some(version);
    }

    /// Call every frame with whether an unacknowledged alarm is annunciated and the version of
    /// the newest activation.
    pub fn update(&mut self, unacked: bool, newest_activation: u64) {
        if !unacked {
            self.silenced_at = None;
            return;
        }
        if self.silenced_at.is_some_and(|v| newest_activation > v) {
            self.silenced_at = None; // a new alarm: sound again
        }
        if self.silenced_at.is_some() {
            return;
        }
        if self
            .last
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(2))
        {
            self.last = Some(Instant::now());
            if let Some(tx) = &self.tx
                && let Err(TrySendError::Disconnected(())) = tx.try_send(())
            {
                self.tx = None;
            }
        }
    }
}

impl Default for Horn {
    fn default() -> Self {
        Self::new()
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

fn play_loop(player: &str, rx: &Receiver<()>) {
    let Some(wav) = write_tone() else {
        return;
    };
    while rx.recv().is_ok() {
        let status = std::process::Command::new(player)
            .arg(&wav)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        if status.is_err() {
            break;
        }
    }
}

/// A 0.4 s two-tone beep as a 16-bit mono WAV in the temp folder.
fn write_tone() -> Option<PathBuf> {
    const RATE: u32 = 16_000;
    let n = RATE * 2 / 5;
    let mut data = Vec::with_capacity(n as usize * 2);
    for i in 0..n {
        let t = f64::from(i) / f64::from(RATE);
        let f = if i < n / 2 { 880.0 } else { 660.0 };
        #[allow(clippy::cast_possible_truncation)]
        let s = ((t * f * std::f64::consts::TAU).sin() * 9000.0) as i16;
        data.extend_from_slice(&s.to_le_bytes());
    }
    let mut wav = Vec::with_capacity(44 + data.len());
    let len = u32::try_from(data.len()).ok()?;
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&RATE.to_le_bytes());
    wav.extend_from_slice(&(RATE * 2).to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&len.to_le_bytes());
    wav.extend_from_slice(&data);
    let path = std::env::temp_dir().join(format!("plantview-horn-{}.wav", std::process::id()));
    std::fs::write(&path, wav).ok()?;
    Some(path)
}
