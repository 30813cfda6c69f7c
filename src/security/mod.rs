//! Security: who did what. For now the audit trail of operator writes; users, roles and login
//! come next (issue 8). No egui here.

mod audit;

pub use audit::{AuditLog, AuditRecord, audit_path, operator_name, workstation_name};
