//! How to push to a project: the commands, with copy buttons.
