//! First start: the `admin` user and Harbor's default public `library` project.

use rand::Rng as _;
use rand::distributions::Alphanumeric;

use super::{ServiceError, projects, users};
use crate::config::Config;
use crate::db::Db;

/// What [`first_start`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum FirstStart {
    /// Users existed already; nothing was done.
    AlreadySetUp,
    /// The admin was created with the configured password.
    Created,
    /// The admin was created with this generated password, to be shown once.
    CreatedWithPassword(String),
}

/// Creates `admin` (password from the configuration, else generated) and the public `library` project
/// when the database has no users yet.
pub async fn first_start(db: &Db, config: &Config) -> Result<FirstStart, ServiceError> {
    if db.count_users().await? > 0 {
        return Ok(FirstStart::AlreadySetUp);
    }
    let (password, generated) = admin_password(config);
    let admin = users::UserSpec {
        username: "admin",
        password: &password,
        email: None,
        realname: "",
        sysadmin: true,
    };
    match users::create(db, &admin).await {
        Ok(_) => {}
        // Another process finished the first start at the same moment.
        Err(ServiceError::Conflict(_)) => return Ok(FirstStart::AlreadySetUp),
        Err(e) => return Err(e),
    }
    match projects::create(db, "library", "admin", true).await {
        Ok(_) | Err(ServiceError::Conflict(_)) => {}
        Err(e) => return Err(e),
    }
    Ok(if generated {
        FirstStart::CreatedWithPassword(password)
    } else {
        FirstStart::Created
    })
}

/// The first admin's password and whether it was generated: the configured one, else one that satisfies the
/// password policy (a password drawn at random without that check failed the first start about one time in 35).
fn admin_password(config: &Config) -> (String, bool) {
    match &config.admin_password {
        Some(p) => (p.expose().to_owned(), false),
        None => (generate_password(), true),
    }
}

/// A random 20-character password that satisfies the password policy.
pub fn generate_password() -> String {
    loop {
        let candidate: String = rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(20)
            .map(char::from)
            .collect();
        if users::check_password(&candidate).is_ok() {
            return candidate;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_admin_password_always_satisfies_the_policy() {
        // One random 20-character alphanumeric string in 35 has no digit: 500 draws would find one.
        for _ in 0..500 {
            let (password, generated) = admin_password(&Config::default());
            assert!(generated);
            assert_eq!(password.len(), 20);
            assert!(users::check_password(&password).is_ok(), "{password}");
        }
    }
}
