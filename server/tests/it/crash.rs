//! Crash test (SIGKILL during a push): in progress.
