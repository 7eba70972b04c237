//! `chancery status` and `chancery verify`: how the register is, and whether what it stores
//! still matches its hashes.

use std::io::Write;

use anyhow::Result;

use super::Invocation;

pub(super) async fn show(at: &Invocation<'_>, json: bool, out: &mut impl Write) -> Result<()> {
    let status = crate::status::gather(at.store, at.now).await?;
    let text = if json { format!("{}\n", crate::status::json(&status)) } else { crate::status::table(&status) };
    write!(out, "{text}")?;
    Ok(())
}

/// Exit status 1 when something differs or is missing.
pub(super) async fn verify(at: &Invocation<'_>, out: &mut impl Write) -> Result<i32> {
    let (checked, problems) = at.store.verify().await?;
    for problem in &problems {
        writeln!(out, "{}: {}: {}", problem.number, problem.item, problem.detail)?;
    }
    if problems.is_empty() {
        writeln!(out, "verified {checked} documents: every stored message and attachment matches the register")?;
        Ok(0)
    } else {
        writeln!(out, "{} problem(s) in {checked} documents", problems.len())?;
        Ok(1)
    }
}
