//! The `/v2/<name>/…` path parser (`registry/mod.rs::parse_route`), which reads a path from its end.

use berth::oci::{Digest, RepositoryName};
use berth::registry::{Route, parse_route};
use proptest::prelude::*;

use super::{budget, config, input, measure};

const PATHS: &[&str] = &[
    "library/app/manifests/latest",
    "team/backend/api/manifests/sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "p/blobs/blobs/sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "p/r/blobs/uploads/",
    "p/r/blobs/uploads",
    "p/r/blobs/uploads/0b1c9a5e-3f0e-4a43-9d7b-2f0a4f6c1d2e",
    "p/manifests/tags/list",
    "p/r/referrers/sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "p/r/whatever",
];

/// The path a route is served at: its display form.
fn path(route: &Route) -> String {
    match route {
        Route::Manifest(name, reference) => format!("{name}/manifests/{reference}"),
        Route::Blob(name, digest) => format!("{name}/blobs/{digest}"),
        Route::UploadStart(name) => format!("{name}/blobs/uploads/"),
        Route::Upload(name, id) => format!("{name}/blobs/uploads/{id}"),
        Route::Tags(name) => format!("{name}/tags/list"),
        Route::Referrers(name, digest) => format!("{name}/referrers/{digest}"),
    }
}

/// Names whose components include the words the parser looks for.
fn name() -> impl Strategy<Value = RepositoryName> {
    let component = prop_oneof![
        3 => "[a-z0-9]{1,6}",
        1 => proptest::sample::select(&["blobs", "uploads", "manifests", "tags", "list", "referrers"][..])
            .prop_map(str::to_owned),
    ];
    proptest::collection::vec(component, 2..6)
        .prop_filter_map("valid name", |c| c.join("/").parse().ok())
}

fn digest() -> impl Strategy<Value = Digest> {
    "sha256:[0-9a-f]{64}".prop_filter_map("digest", |d| d.parse().ok())
}

fn route() -> impl Strategy<Value = Route> {
    // A reference or upload id is one path segment; an empty upload id is the upload start.
    let segment = "[a-zA-Z0-9._:-]{0,20}";
    prop_oneof![
        (name(), segment).prop_map(|(n, r)| Route::Manifest(n, r)),
        (name(), digest()).prop_map(|(n, d)| Route::Blob(n, d)),
        name().prop_map(Route::UploadStart),
        (name(), "[a-z0-9-]{1,36}").prop_map(|(n, id)| Route::Upload(n, id)),
        name().prop_map(Route::Tags),
        (name(), digest()).prop_map(|(n, d)| Route::Referrers(n, d)),
    ]
}

proptest! {
    #![proptest_config(config(4000))]

    #[test]
    fn paths(s in input(PATHS)) {
        let (parsed, peak) = measure(|| parse_route(&s));
        prop_assert!(peak <= budget(s.len(), 8), "{peak} bytes for {} input bytes", s.len());
        if let Ok(route) = parsed {
            prop_assert_eq!(parse_route(&path(&route)).ok(), Some(route));
        }
    }

    #[test]
    fn routes_round_trip(route in route()) {
        prop_assert_eq!(parse_route(&path(&route)).ok(), Some(route));
    }
}
