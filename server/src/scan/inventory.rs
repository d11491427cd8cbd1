//! (being built: issue 15)
