use clap::Parser;
use std::process::ExitCode;

mod cli;

fn main() -> ExitCode {
    fixed_mmap_threshold();
    cli::run(cli::Cli::parse())
}

/// glibc serves a block of 128 KiB or more with its own mapping, given back
/// on free, but raises that threshold to the size of any such block freed
/// (and the heap's trim threshold to twice it). Logging in frees argon2's
/// 19.5 MiB block, after which a 10,000-event timeline's buffers of a few
/// MB landed in the heaps and stayed resident (46 MB against 41 MB with the
/// threshold held). Setting it explicitly turns the raising off.
fn fixed_mmap_threshold() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a malloc parameter; nothing is allocated yet
    // on another thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}
