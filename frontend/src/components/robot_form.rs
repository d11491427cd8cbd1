//! The robot-account dialog (name, expiry, permissions), shared by project and system robot accounts.
