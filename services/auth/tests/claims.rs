//! Claims the services refuse although the signature is good: roles of another agency, claims over
//! their limits. Every refusal is UNAUTHENTICATED and names the claim.

mod support;

use p06_auth::claims::{Audience, limits};
use p06_auth::{Agency, AuthError, DevKeys, Grant, Role};
use support::*;
use tonic::Code;

fn refusal(f: &Fixture, payload: &impl serde::Serialize) -> AuthError {
    let err = f
        .auth
        .validate(&f.ed.sign(Some("ed-1"), payload))
        .unwrap_err();
    assert_eq!(
        tonic::Status::from(err.clone()).code(),
        Code::Unauthenticated,
        "{err}"
    );
    err
}

#[test]
fn roles_are_valid_only_with_their_agency() {
    let f = Fixture::new();
    let reporting = [Agency::Police, Agency::Health, Agency::Justice];
    for agency in reporting {
        for role in [Role::TaskforceViewer, Role::TaskforceAdmin] {
            let err = refusal(&f, &claims_of(agency, &[role]));
            assert_eq!(
                err,
                AuthError::RoleNotForAgency {
                    role: role.as_str(),
                    agency: agency.as_str()
                }
            );
            assert!(tonic::Status::from(err).message().contains(role.as_str()));
        }
        // A valid role next to an invalid one does not save the token.
        refusal(
            &f,
            &claims_of(agency, &[Role::Reporter, Role::TaskforceAdmin]),
        );
        for role in [Role::Reporter, Role::Service] {
            f.auth
                .validate(&f.ed.sign(Some("ed-1"), &claims_of(agency, &[role])))
                .unwrap();
        }
    }
    for role in [Role::Reporter, Role::Service] {
        assert!(matches!(
            refusal(&f, &claims_of(Agency::Taskforce, &[role])),
            AuthError::RoleNotForAgency { .. }
        ));
    }
    f.auth
        .validate(&f.ed.sign(
            Some("ed-1"),
            &claims_of(
                Agency::Taskforce,
                &[Role::TaskforceViewer, Role::TaskforceAdmin],
            ),
        ))
        .unwrap();
}

#[test]
fn development_tokens_are_not_minted_for_a_role_of_another_agency() {
    let dir = tempfile::tempdir().unwrap();
    let dev = DevKeys::load_or_create(dir.path()).unwrap();
    let err = dev
        .mint(&Grant::new(
            Agency::Police,
            "2024",
            "64",
            Role::TaskforceAdmin,
        ))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("taskforce-admin is not valid for agency police"),
        "{err}"
    );
    assert!(
        dev.mint(&Grant::new(Agency::Taskforce, "2024", "64", Role::Reporter))
            .is_err()
    );
    dev.mint(&Grant::new(
        Agency::Taskforce,
        "2024",
        "64",
        Role::TaskforceAdmin,
    ))
    .unwrap();
}

fn bad_claim(err: AuthError) -> &'static str {
    match err {
        AuthError::BadClaim { claim, .. } => claim,
        other => panic!("not a claim refusal: {other}"),
    }
}

#[test]
fn claims_over_their_limits_are_refused_naming_the_claim() {
    let f = Fixture::new();
    let long = |n: usize| "é".repeat(n);

    // At the limit passes (characters, not bytes), one more is refused.
    let at_limit = p06_auth::Claims {
        sub: long(limits::SUB),
        ..claims()
    };
    assert_eq!(
        f.auth
            .validate(&f.ed.sign(Some("ed-1"), &at_limit))
            .unwrap()
            .subject
            .chars()
            .count(),
        200
    );
    let cases: Vec<(&str, p06_auth::Claims)> = vec![
        (
            "sub",
            p06_auth::Claims {
                sub: long(limits::SUB + 1),
                ..claims()
            },
        ),
        (
            "sub",
            p06_auth::Claims {
                sub: "officer\u{0}17".into(),
                ..claims()
            },
        ),
        (
            "sub",
            p06_auth::Claims {
                sub: "line\nbreak".into(),
                ..claims()
            },
        ),
        (
            "jti",
            p06_auth::Claims {
                jti: Some("j".repeat(limits::JTI + 1)),
                ..claims()
            },
        ),
        (
            "province",
            p06_auth::Claims {
                province: "64\u{7f}".into(),
                ..claims()
            },
        ),
        (
            "province",
            p06_auth::Claims {
                province: "6".repeat(9),
                ..claims()
            },
        ),
        (
            "edition",
            p06_auth::Claims {
                edition: "2024 ".into(),
                ..claims()
            },
        ),
        (
            "roles",
            p06_auth::Claims {
                roles: vec![Role::Reporter; limits::ROLES + 1],
                ..claims()
            },
        ),
        (
            "aud",
            p06_auth::Claims {
                aud: Audience::Many(
                    std::iter::once(AUDIENCE.to_owned())
                        .chain((0..limits::AUDIENCES).map(|i| format!("other-{i}")))
                        .collect(),
                ),
                ..claims()
            },
        ),
        (
            "aud",
            p06_auth::Claims {
                aud: Audience::Many(vec![AUDIENCE.into(), "a".repeat(limits::AUD + 1)]),
                ..claims()
            },
        ),
    ];
    for (claim, payload) in cases {
        let err = refusal(&f, &payload);
        let status = tonic::Status::from(err.clone());
        assert_eq!(bad_claim(err), claim);
        assert!(
            status.message().contains(&format!("claim {claim}")),
            "{status:?}"
        );
    }
}
