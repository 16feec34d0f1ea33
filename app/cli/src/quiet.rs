//! The program runs natively inside the sandbox, and natively its `msg!` lines
//! go to standard output. The command's own output (tables, §8 JSON) must be
//! the only thing there, so while the sandbox runs, file descriptor 1 points at
//! /dev/null and the command writes to a saved copy of the real standard output.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd};

/// Point standard output at /dev/null; return the real standard output.
pub fn silence_program_logs() -> io::Result<File> {
    let real = io::stdout().as_fd().try_clone_to_owned()?;
    let null = File::options().write(true).open("/dev/null")?;
    point_stdout_at(&null)?;
    Ok(File::from(real))
}

/// Make descriptor 1 write where `file` writes.
fn point_stdout_at(file: &File) -> io::Result<()> {
    // SAFETY: both descriptors are open and owned for the duration of the call;
    // dup2 only replaces descriptor 1, which the process keeps for its lifetime.
    if unsafe { libc::dup2(file.as_raw_fd(), libc::STDOUT_FILENO) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Point standard output at a pipe whose lines the sandbox puts back into
/// the transactions that printed them (`upline_sdk::sandbox::program_logs`),
/// for `upline sandbox`, which serves one bank. The command's own output
/// goes to the copy [`silence_program_logs`] returned.
pub fn capture_program_logs() -> io::Result<()> {
    let mut ends = [0; 2];
    // SAFETY: `ends` has room for the two descriptors pipe(2) writes.
    if unsafe { libc::pipe(ends.as_mut_ptr()) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe(2) just opened both; each is owned by exactly one File.
    let (read, write) = unsafe {
        use std::os::fd::FromRawFd;
        (File::from_raw_fd(ends[0]), File::from_raw_fd(ends[1]))
    };
    point_stdout_at(&write)?;
    upline_sdk::sandbox::program_logs::install(read);
    Ok(())
}
