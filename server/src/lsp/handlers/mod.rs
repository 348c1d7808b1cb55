//! One file per LSP method. Each converts its parameters in, makes one call into the session,
//! the jobs or the engine, and converts the answer out.

pub mod code_action;
pub mod did_change;
pub mod did_change_configuration;
pub mod did_close;
pub mod did_open;
pub mod execute_command;
pub mod hover;
pub mod initialize;
pub mod initialized;
pub mod work_done_progress_cancel;
