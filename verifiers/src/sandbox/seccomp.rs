//! The seccomp layer: a tiny classic-BPF filter installed just before `execve`.
//!
//! It denies (with an errno, never by killing) what sandboxed code has no business doing:
//! `socket()` for any address family but `AF_UNIX` (so no TCP/UDP/raw/netlink sockets even when
//! no network namespace could be created), `io_uring_setup` (io_uring can open sockets without
//! going through `socket()`), and `ptrace` / `process_vm_readv` / `process_vm_writev` (no
//! tampering with other processes of the same sandbox). System calls of a foreign ABI (i386
//! `int 0x80`, x32) are denied outright, because the filter only knows the native numbers.

use nix::libc;

/// Whether a filter exists for this architecture.
pub(super) const SUPPORTED: bool = cfg!(any(target_arch = "x86_64", target_arch = "aarch64"));

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xC000_003E; // AUDIT_ARCH_X86_64
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xC000_00B7; // AUDIT_ARCH_AARCH64
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const AUDIT_ARCH: u32 = 0;

/// x32 system calls on x86_64 carry this bit in their number.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

// Offsets into `struct seccomp_data` (nr: u32, arch: u32, ip: u64, args: [u64; 6]).
const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;
const OFF_ARG0_LO: u32 = 16; // little-endian low word of args[0]

const BPF_LD_W_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
const BPF_JEQ_K: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
const BPF_JGE_K: u16 = (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16;
const BPF_RET_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;

fn stmt(code: u16, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

fn errno(e: i32) -> u32 {
    libc::SECCOMP_RET_ERRNO | (e as u32 & libc::SECCOMP_RET_DATA)
}

/// The filter program. Build it in the parent; the child only passes a pointer to the kernel.
pub(super) fn filter() -> Vec<libc::sock_filter> {
    let allow = libc::SECCOMP_RET_ALLOW;
    let denied: [u32; 4] = [
        libc::SYS_io_uring_setup as u32,
        libc::SYS_ptrace as u32,
        libc::SYS_process_vm_readv as u32,
        libc::SYS_process_vm_writev as u32,
    ];
    let mut f = vec![
        // 0: foreign architecture → EPERM for everything.
        stmt(BPF_LD_W_ABS, OFF_ARCH),
        jump(BPF_JEQ_K, AUDIT_ARCH, 1, 0),
        stmt(BPF_RET_K, errno(libc::EPERM)),
        // 3: x32 numbers → EPERM.
        stmt(BPF_LD_W_ABS, OFF_NR),
        jump(BPF_JGE_K, X32_SYSCALL_BIT, 0, 1),
        stmt(BPF_RET_K, errno(libc::EPERM)),
    ];
    for nr in denied {
        f.push(jump(BPF_JEQ_K, nr, 0, 1));
        f.push(stmt(BPF_RET_K, errno(libc::EPERM)));
    }
    // socket(domain, …): only AF_UNIX.
    f.push(jump(BPF_JEQ_K, libc::SYS_socket as u32, 0, 3));
    f.push(stmt(BPF_LD_W_ABS, OFF_ARG0_LO));
    f.push(jump(BPF_JEQ_K, libc::AF_UNIX as u32, 1, 0));
    f.push(stmt(BPF_RET_K, errno(libc::EACCES)));
    f.push(stmt(BPF_RET_K, allow));
    f
}

/// Installs `prog` on the calling thread. Async-signal-safe: one `prctl`. Requires
/// `PR_SET_NO_NEW_PRIVS` (or CAP_SYS_ADMIN). Returns the errno on failure.
///
/// # Safety
/// `prog` must point at a valid `sock_fprog` whose filter outlives the call.
pub(super) unsafe fn install(prog: *const libc::sock_fprog) -> Result<(), i32> {
    let r = libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, prog);
    if r == 0 {
        Ok(())
    } else {
        Err(*libc::__errno_location())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn jumps_stay_inside_the_program() {
        let f = super::filter();
        for (i, ins) in f.iter().enumerate() {
            let is_jump = ins.code & 0x07 == nix::libc::BPF_JMP as u16;
            if is_jump {
                assert!(i + 1 + (ins.jt as usize) < f.len());
                assert!(i + 1 + (ins.jf as usize) < f.len());
            }
        }
        let last = f.last().expect("non-empty");
        assert_eq!(last.code & 0x07, nix::libc::BPF_RET as u16);
    }
}
