//! Artifact icons: `GET /icons/{digest}` and the `icon` of artifacts and accessories.
//!
//! Harbor names a built-in icon per artifact type by a fixed digest (`src/lib/icon/const.go`) and sets it on
//! every artifact of that type (`populateIcon` in `src/controller/artifact/controller.go`), the default icon
//! on any other; clients fetch it from `/icons/{digest}` as `{"content-type", "content"}` (base64). Berth
//! keeps Harbor's digests, so clients that know them still match, and serves its own drawings
//! (`assets/icons/`, SVG). As in Harbor, the digest does not hash the content, and icons need no sign-in.

use axum::extract::Path;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use berth_api::artifacts::Icon;

use super::error::ApiError;
use super::extract::Json;
use crate::oci::Digest;

/// Harbor's icon digests.
pub const IMAGE: &str = "sha256:0048162a053eef4d4ce3fe7518615bef084403614f8bca43b40ae2e762e11e06";
pub const CHART: &str = "sha256:61cf3a178ff0f75bf08a25d96b75cf7355dc197749a9f128ed3ef34b0df05518";
pub const CNAB: &str = "sha256:089bdda265c14d8686111402c8ad629e8177a1ceb7dcd0f7f39b6480f623b3bd";
pub const WASM: &str = "sha256:badd7693bcaf115be202748241dd0ea6ee3b0524bfab9ac22d1e1c43721afec6";
pub const DEFAULT: &str = "sha256:da834479c923584f4cbcdecc0dac61f32bef1d51e8aae598cf16bd154efab49f";
pub const COSIGN: &str = "sha256:20401d5b3a0f6dbc607c8d732eb08471af4ae6b19811a4efce8c6a724aed2882";
pub const NYDUS: &str = "sha256:dfcb6617cd9c144358dc1b305b87bbe34f0b619f1e329116e6aee2e41f2e34cf";

const SVG: &str = "image/svg+xml";

/// Every built-in icon: `(digest, drawing)`.
const BUILT_IN: [(&str, &str); 7] = [
    (IMAGE, include_str!("../../../assets/icons/image.svg")),
    (CHART, include_str!("../../../assets/icons/chart.svg")),
    (CNAB, include_str!("../../../assets/icons/cnab.svg")),
    (WASM, include_str!("../../../assets/icons/wasm.svg")),
    (DEFAULT, include_str!("../../../assets/icons/default.svg")),
    (COSIGN, include_str!("../../../assets/icons/cosign.svg")),
    (NYDUS, include_str!("../../../assets/icons/nydus.svg")),
];

/// The icon of an artifact of Harbor type `kind` (`IMAGE`, `CHART`, …): its type's, or the default one.
pub fn artifact_icon(kind: &str) -> &'static str {
    match kind {
        "IMAGE" => IMAGE,
        "CHART" => CHART,
        "CNAB" => CNAB,
        "WASM" => WASM,
        _ => DEFAULT,
    }
}

/// The icon of an accessory of Harbor type `kind`: cosign's and nydus's have one, the others none (`""`,
/// Harbor's `DigestOfIconAccDefault`).
pub fn accessory_icon(kind: &str) -> &'static str {
    match kind {
        "signature.cosign" => COSIGN,
        "accelerator.nydus" => NYDUS,
        _ => "",
    }
}

/// `GET /icons/{digest}`: a built-in icon; 400 for a malformed digest, 404 for one that names no icon.
pub async fn get(Path(digest): Path<String>) -> Result<Json<Icon>, ApiError> {
    digest
        .parse::<Digest>()
        .map_err(|e| ApiError::BadRequest(format!("invalid digest {digest:?}: {e}")))?;
    let (_, drawing) = BUILT_IN
        .iter()
        .find(|(known, _)| *known == digest)
        .ok_or_else(|| ApiError::NotFound(format!("the icon {digest} not found")))?;
    Ok(Json(Icon {
        content_type: SVG.to_owned(),
        content: STANDARD.encode(drawing),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_a_served_icon() {
        for kind in ["IMAGE", "CHART", "CNAB", "WASM", "UNKNOWN", "MODEL"] {
            let digest = artifact_icon(kind);
            assert!(BUILT_IN.iter().any(|(d, _)| *d == digest), "{kind}");
        }
        for (digest, drawing) in BUILT_IN {
            assert!(digest.parse::<Digest>().is_ok(), "{digest}");
            assert!(drawing.starts_with("<svg") && drawing.len() < 4096);
        }
        assert_eq!(accessory_icon("signature.cosign"), COSIGN);
        assert_eq!(accessory_icon("subject.accessory"), "");
    }
}
