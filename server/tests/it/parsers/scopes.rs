//! The token service's `scope` parameter (`auth/token_endpoint.rs`): `type:name:actions`.

use berth::auth::token_endpoint::ScopeRequest;
use proptest::prelude::*;

use super::{budget, config, input, measure};

const SCOPES: &[&str] = &[
    "repository:library/app:pull",
    "repository:team/backend/api:pull,push",
    "repository:library/app:*",
    "registry:catalog:*",
    "repository:localhost:5000/library/app:pull",
    "repository:p/r:delete,pull,push",
];

proptest! {
    #![proptest_config(config(4000))]

    #[test]
    fn scopes(s in input(SCOPES)) {
        let (parsed, peak) = measure(|| ScopeRequest::parse(&s));
        prop_assert!(peak <= budget(s.len(), 4));
        if let Some(scope) = parsed {
            prop_assert_eq!(scope.to_string(), s.clone());
            let shown = scope.to_string();
            prop_assert_eq!(ScopeRequest::parse(&shown), Some(scope));
        }
    }

    #[test]
    fn built_scopes_round_trip(
        kind in "[a-z]{1,10}",
        name in "[a-z0-9/._:-]{0,40}",
        actions in proptest::collection::vec("[a-z*]{0,6}", 1..4),
    ) {
        let actions = actions.join(",");
        let text = format!("{kind}:{name}:{actions}");
        let parsed = ScopeRequest::parse(&text);
        prop_assert_eq!(
            parsed,
            Some(ScopeRequest { kind: &kind, name: &name, actions: &actions })
        );
    }
}
