//! Test support for Swiss.
