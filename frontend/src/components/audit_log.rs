//! An audit-log table, shared by the project's Logs tab and Administration → Audit Log.
