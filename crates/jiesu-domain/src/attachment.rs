//! Photos that come with an action (答复 with photos of the fix, a grid inspector's report and
//! 核查): which images are accepted (recognised by their bytes, never by the declared type or
//! the file name), how large, how many, and on which actions.

use crate::workflow::Action;

/// Largest accepted photo, in bytes (10 MiB).
pub const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;
/// Most photos one action carries.
pub const MAX_PHOTOS: usize = 4;

/// An accepted image type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// JPEG.
    Jpeg,
    /// PNG.
    Png,
    /// WebP.
    Webp,
}

impl ImageKind {
    /// Every accepted type.
    pub const ALL: [ImageKind; 3] = [ImageKind::Jpeg, ImageKind::Png, ImageKind::Webp];

    /// The type of `bytes`, from its first bytes (magic numbers).
    pub fn sniff(bytes: &[u8]) -> Option<ImageKind> {
        match bytes {
            [0xFF, 0xD8, 0xFF, ..] => Some(ImageKind::Jpeg),
            [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some(ImageKind::Png),
            [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some(ImageKind::Webp),
            _ => None,
        }
    }

    /// The MIME type.
    pub fn content_type(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Png => "image/png",
            ImageKind::Webp => "image/webp",
        }
    }

    /// The file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "jpg",
            ImageKind::Png => "png",
            ImageKind::Webp => "webp",
        }
    }

    /// The type whose MIME type is `content_type` (as stored).
    pub fn from_content_type(content_type: &str) -> Option<ImageKind> {
        ImageKind::ALL.into_iter().find(|k| k.content_type() == content_type)
    }
}

/// A checked photo: an accepted image type, not empty, within the size limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    kind: ImageKind,
    bytes: Vec<u8>,
}

impl Photo {
    /// Checks `bytes` as a photo; the error says why not (in words for the person who sent it).
    pub fn new(bytes: Vec<u8>) -> Result<Photo, String> {
        if bytes.is_empty() {
            return Err("the file is empty".into());
        }
        if bytes.len() > MAX_PHOTO_BYTES {
            return Err(format!(
                "the file has {} bytes, more than the {} MiB a photo may have",
                bytes.len(),
                MAX_PHOTO_BYTES / (1024 * 1024)
            ));
        }
        let kind = ImageKind::sniff(&bytes).ok_or("only JPEG, PNG or WebP images are accepted")?;
        Ok(Photo { kind, bytes })
    }

    /// Its type.
    pub fn kind(&self) -> ImageKind {
        self.kind
    }

    /// Its bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// True when `action` may carry photos: 受理 (a grid inspector's or a citizen's report), 办理,
/// 答复 and 核查.
pub fn allowed_on(action: &Action) -> bool {
    matches!(action, Action::Receive { .. } | Action::Handle { .. } | Action::Reply | Action::Verify { .. })
}

/// Checks how many photos one action carries.
pub fn check_count(n: usize) -> Result<(), String> {
    if n > MAX_PHOTOS { Err(format!("at most {MAX_PHOTOS} photos per action, {n} were sent")) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_recognised_by_their_bytes_only() {
        assert_eq!(ImageKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0]), Some(ImageKind::Jpeg));
        assert_eq!(ImageKind::sniff(b"\x89PNG\r\n\x1a\n...."), Some(ImageKind::Png));
        assert_eq!(ImageKind::sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(ImageKind::Webp));
        assert_eq!(ImageKind::sniff(b"GIF89a"), None, "GIF is not among the accepted types");
        assert_eq!(ImageKind::sniff(b"<html><script>"), None);
        assert_eq!(ImageKind::sniff(b"RIFF\0\0\0\0WAVE"), None);
        assert_eq!(ImageKind::sniff(&[0xFF, 0xD8]), None, "too short");
        for k in ImageKind::ALL {
            assert_eq!(ImageKind::from_content_type(k.content_type()), Some(k));
        }
        assert_eq!(ImageKind::from_content_type("text/html"), None);
    }

    #[test]
    fn photos_are_checked_for_type_and_size() {
        let jpeg = |n: usize| {
            let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0];
            b.resize(n, 0);
            b
        };
        assert_eq!(Photo::new(jpeg(100)).unwrap().kind(), ImageKind::Jpeg);
        assert!(Photo::new(jpeg(MAX_PHOTO_BYTES)).is_ok());
        assert!(Photo::new(jpeg(MAX_PHOTO_BYTES + 1)).unwrap_err().contains("10 MiB"));
        assert!(Photo::new(Vec::new()).unwrap_err().contains("empty"));
        assert!(Photo::new(b"%PDF-1.7".to_vec()).unwrap_err().contains("JPEG"));
        assert!(check_count(MAX_PHOTOS).is_ok() && check_count(MAX_PHOTOS + 1).is_err());
    }

    #[test]
    fn photos_come_with_reports_replies_and_checks_only() {
        assert!(allowed_on(&Action::Reply));
        assert!(allowed_on(&Action::Verify { passed: true }));
        assert!(!allowed_on(&Action::Accept));
        assert!(!allowed_on(&Action::Close));
    }
}
