//! Things that happened, recorded after the fact: [`audit`] (the audit log).
//!
//! Rule: recording an event never fails or noticeably slows the request that caused it.

pub mod audit;
