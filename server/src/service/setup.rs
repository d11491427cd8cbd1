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
    let (password, generated) = match &config.admin_password {
        Some(p) => (p.expose().to_owned(), false),
        None => {
            let p: String = rand::thread_rng()
                .sample_iter(&Alphanumeric)
                .take(20)
                .map(char::from)
                .collect();
            (p, true)
        }
    };
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
