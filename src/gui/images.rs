//! Pictures for image widgets: decoded off the UI thread (a named loader thread per picture),
//! uploaded once as a texture, kept for the session.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::Mutex;

enum Slot {
    Loading,
    Decoded(egui::ColorImage),
    Ready(egui::TextureHandle),
    Failed(String),
}

/// What an image widget can show now.
pub enum Picture {
    Loading,
    Ready(egui::TextureHandle),
    Failed(String),
}

#[derive(Default, Clone)]
pub struct ImageCache {
    slots: Arc<Mutex<HashMap<PathBuf, Slot>>>,
}

impl ImageCache {
    /// The picture at `path`, loading it in the background on first sight.
    pub fn get(&self, ctx: &egui::Context, path: &std::path::Path) -> Picture {
        let mut slots = self.slots.lock();
        match slots.get(path) {
            None => {
                slots.insert(path.to_owned(), Slot::Loading);
                drop(slots);
                self.load(ctx, path.to_owned());
                Picture::Loading
            }
            Some(Slot::Loading) => Picture::Loading,
            Some(Slot::Failed(e)) => Picture::Failed(e.clone()),
            Some(Slot::Ready(t)) => Picture::Ready(t.clone()),
            Some(Slot::Decoded(_)) => {
                let Some(Slot::Decoded(img)) = slots.remove(path) else {
                    return Picture::Loading;
                };
                let tex = ctx.load_texture(
                    path.display().to_string(),
                    img,
                    egui::TextureOptions::LINEAR,
                );
                slots.insert(path.to_owned(), Slot::Ready(tex.clone()));
                Picture::Ready(tex)
            }
        }
    }

    fn load(&self, ctx: &egui::Context, path: PathBuf) {
        let slots = self.slots.clone();
        let ctx = ctx.clone();
        let job = path.clone();
        let spawned = std::thread::Builder::new()
            .name("pv-image-load".to_owned())
            .spawn(move || {
                let slot = match decode(&job) {
                    Ok(img) => Slot::Decoded(img),
                    Err(e) => Slot::Failed(e),
                };
                slots.lock().insert(job, slot);
                ctx.request_repaint();
            });
        if let Err(e) = spawned {
            self.slots
                .lock()
                .insert(path, Slot::Failed(format!("cannot start the loader: {e}")));
        }
    }
}

/// Pictures larger than this are refused (a project is untrusted input).
const MAX_IMAGE_BYTES: u64 = 32 << 20;

fn decode(path: &std::path::Path) -> Result<egui::ColorImage, String> {
    let len = std::fs::metadata(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    if len > MAX_IMAGE_BYTES {
        return Err(format!("{}: larger than 32 MiB", path.display()));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let img = image::load_from_memory(&bytes)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .to_rgba8();
    let size = [img.width() as usize, img.height() as usize];
    Ok(egui::ColorImage::from_rgba_unmultiplied(size, img.as_raw()))
}
