//! The one place colours and sizes are defined (ISA-101 high-performance HMI look): calm grey,
//! muted equipment, no colour for normal states, priority colours reserved for alarms.
#![allow(clippy::disallowed_methods)] // the theme is where colours are allowed to be spelt out

use egui::{Color32, FontId, Stroke};

#[derive(Clone, Debug, PartialEq)]
pub struct Theme {
    pub dark: bool,
    /// Window chrome (top bar, side panel).
    pub chrome: Color32,
    /// Process screen background.
    pub screen_bg: Color32,
    /// Background of a value box.
    pub field_bg: Color32,
    pub field_stroke: Color32,
    /// Static text (labels, captions).
    pub text: Color32,
    pub text_dim: Color32,
    /// Live values (a different hue from static text, so data is told apart from labels).
    pub value: Color32,
    /// Equipment outline and stopped/closed fill.
    pub equipment_stroke: Color32,
    pub equipment_off: Color32,
    /// Running / open / on: solid, dark — shape and fill tell state, not colour.
    pub equipment_on: Color32,
    pub equipment_on_symbol: Color32,
    /// Process liquid in tanks.
    pub liquid: Color32,
    pub bar_fill: Color32,
    pub bar_track: Color32,
    pub pipe: Color32,
    pub group_stroke: Color32,
    /// Quality overlay: hatching and badge for stale/bad values (no alarm colour).
    pub hatch: Color32,
    pub badge_bg: Color32,
    pub badge_text: Color32,
    /// Alarm priorities: critical, high, medium, low. Used for alarms and nothing else.
    pub priority: [Color32; 4],
    /// Trend pens: muted, distinguishable, none of the alarm hues.
    pub pens: [Color32; 10],
}

impl Theme {
    /// Light grey for normal control-room lighting.
    pub fn light() -> Self {
        Self {
            dark: false,
            chrome: Color32::from_rgb(0xE4, 0xE4, 0xE4),
            screen_bg: Color32::from_rgb(0xCC, 0xCC, 0xCC),
            field_bg: Color32::from_rgb(0xE2, 0xE2, 0xE2),
            field_stroke: Color32::from_rgb(0x9A, 0x9A, 0x9A),
            text: Color32::from_rgb(0x22, 0x22, 0x22),
            text_dim: Color32::from_rgb(0x55, 0x55, 0x55),
            value: Color32::from_rgb(0x10, 0x26, 0x4A),
            equipment_stroke: Color32::from_rgb(0x4A, 0x4A, 0x4A),
            equipment_off: Color32::from_rgb(0xE8, 0xE8, 0xE8),
            equipment_on: Color32::from_rgb(0x44, 0x44, 0x44),
            equipment_on_symbol: Color32::from_rgb(0xF2, 0xF2, 0xF2),
            liquid: Color32::from_rgb(0x8E, 0x9F, 0xB2),
            bar_fill: Color32::from_rgb(0x5E, 0x6A, 0x78),
            bar_track: Color32::from_rgb(0xDD, 0xDD, 0xDD),
            pipe: Color32::from_rgb(0x80, 0x80, 0x80),
            group_stroke: Color32::from_rgb(0xA6, 0xA6, 0xA6),
            hatch: Color32::from_rgb(0x70, 0x70, 0x70),
            badge_bg: Color32::from_rgb(0x30, 0x30, 0x30),
            badge_text: Color32::from_rgb(0xFF, 0xFF, 0xFF),
            priority: PRIORITY,
            pens: PENS_LIGHT,
        }
    }

    /// Dark grey for dimmed control rooms.
    pub fn dark() -> Self {
        Self {
            dark: true,
            chrome: Color32::from_rgb(0x26, 0x26, 0x26),
            screen_bg: Color32::from_rgb(0x33, 0x33, 0x33),
            field_bg: Color32::from_rgb(0x3E, 0x3E, 0x3E),
            field_stroke: Color32::from_rgb(0x5C, 0x5C, 0x5C),
            text: Color32::from_rgb(0xD8, 0xD8, 0xD8),
            text_dim: Color32::from_rgb(0xA0, 0xA0, 0xA0),
            value: Color32::from_rgb(0xC8, 0xDC, 0xF5),
            equipment_stroke: Color32::from_rgb(0xB0, 0xB0, 0xB0),
            equipment_off: Color32::from_rgb(0x3A, 0x3A, 0x3A),
            equipment_on: Color32::from_rgb(0xC8, 0xC8, 0xC8),
            equipment_on_symbol: Color32::from_rgb(0x30, 0x30, 0x30),
            liquid: Color32::from_rgb(0x5A, 0x6B, 0x80),
            bar_fill: Color32::from_rgb(0x9A, 0xA8, 0xB8),
            bar_track: Color32::from_rgb(0x44, 0x44, 0x44),
            pipe: Color32::from_rgb(0x8A, 0x8A, 0x8A),
            group_stroke: Color32::from_rgb(0x58, 0x58, 0x58),
            hatch: Color32::from_rgb(0x90, 0x90, 0x90),
            badge_bg: Color32::from_rgb(0xE8, 0xE8, 0xE8),
            badge_text: Color32::from_rgb(0x10, 0x10, 0x10),
            priority: PRIORITY,
            pens: PENS_DARK,
        }
    }

    pub fn stroke(&self, width: f32) -> Stroke {
        Stroke::new(width, self.equipment_stroke)
    }

    /// Apply to egui's own widgets (buttons, lists, scroll bars).
    pub fn apply(&self, ctx: &egui::Context) {
        let mut visuals = if self.dark {
            egui::Visuals::dark()
        } else {
            egui::Visuals::light()
        };
        visuals.panel_fill = self.chrome;
        visuals.window_fill = self.chrome;
        visuals.override_text_color = Some(self.text);
        visuals.selection.bg_fill = self.bar_fill;
        visuals.selection.stroke = Stroke::new(1.0, self.badge_text);
        ctx.set_visuals(visuals);
    }
}

/// Critical, high, medium, low.
const PRIORITY: [Color32; 4] = [
    Color32::from_rgb(0xE0, 0x1B, 0x1B),
    Color32::from_rgb(0xF0, 0x8A, 0x00),
    Color32::from_rgb(0xF2, 0xD0, 0x00),
    Color32::from_rgb(0x9A, 0x4D, 0xC8),
];

/// Light theme pens: dark tones.
const PENS_LIGHT: [Color32; 10] = [
    Color32::from_rgb(0x1F, 0x4E, 0x79), // dark blue
    Color32::from_rgb(0x1F, 0x7A, 0x75), // teal
    Color32::from_rgb(0x7A, 0x4E, 0x2A), // brown
    Color32::from_rgb(0x5E, 0x66, 0x1E), // olive
    Color32::from_rgb(0x5A, 0x6F, 0x88), // grey-blue
    Color32::from_rgb(0x2E, 0x6B, 0x34), // dark green
    Color32::from_rgb(0x3D, 0x46, 0x52), // slate
    Color32::from_rgb(0x6E, 0x5A, 0x45), // umber
    Color32::from_rgb(0x3C, 0x78, 0xA8), // steel blue
    Color32::from_rgb(0x1E, 0x4F, 0x45), // pine
];

/// Dark theme pens: tints.
const PENS_DARK: [Color32; 10] = [
    Color32::from_rgb(0x7F, 0xA8, 0xD6),
    Color32::from_rgb(0x6F, 0xC2, 0xBC),
    Color32::from_rgb(0xC4, 0x9A, 0x74),
    Color32::from_rgb(0xAE, 0xB4, 0x6A),
    Color32::from_rgb(0x9F, 0xB2, 0xC8),
    Color32::from_rgb(0x7D, 0xB8, 0x86),
    Color32::from_rgb(0xB8, 0xC0, 0xCC),
    Color32::from_rgb(0xB8, 0xA4, 0x8C),
    Color32::from_rgb(0x8E, 0xC0, 0xE8),
    Color32::from_rgb(0x6F, 0xA8, 0x98),
];

/// Sizes in design points; widgets scale them with the screen.
pub const LABEL_SIZE: f32 = 12.0;
pub const VALUE_SIZE: f32 = 18.0;
pub const CAPTION_SIZE: f32 = 14.0;

/// DejaVu Sans as the last fallback, so arrows, symbols and most scripts that engineers put in
/// labels render everywhere (egui's built-in font covers Latin only).
pub fn install_fonts(ctx: &egui::Context) {
    static DEJAVU: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
    let families = [egui::FontFamily::Proportional, egui::FontFamily::Monospace]
        .into_iter()
        .map(|family| egui::epaint::text::InsertFontFamily {
            family,
            priority: egui::epaint::text::FontPriority::Lowest,
        })
        .collect();
    ctx.add_font(egui::epaint::text::FontInsert::new(
        "DejaVuSans",
        egui::FontData::from_static(DEJAVU),
        families,
    ));
}

pub fn font(size: f32) -> FontId {
    FontId::proportional(size)
}

pub fn mono(size: f32) -> FontId {
    FontId::monospace(size)
}
