//! Z3 under limits, shared by the SMT and equivalence verifiers.
//!
//! Every call runs on a Z3 context of the calling thread (Z3 objects are `!Send`; z3 0.22's
//! context is thread-local, and nothing here crosses threads except an interrupt handle). The
//! context is reused across calls on the same thread (creating one costs milliseconds) and
//! replaced after an interrupt or 1,000 calls. Each
//! solver gets a resource limit (`rlimit`, deterministic) and a `timeout`; a watchdog thread
//! interrupts the context at the wall-clock deadline plus a grace period, in case a tactic
//! ignores the timeout. An interrupted or exhausted check is `unknown`, which the verifiers
//! reject as `solver_unknown`.
//!
//! This crate links libz3 5.x (see the Makefile): Debian's libz3 4.8 deadlocks on timeouts.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use z3::ast::{Ast, Bool};
use z3::{Context, Params, SatResult, Solver};

/// Limits for one verification (all of its solver calls together).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SolverLimits {
    /// Wall-clock budget in milliseconds.
    pub timeout_ms: u64,
    /// Z3 resource limit per solver check (deterministic, unlike time).
    pub rlimit: u32,
}

impl Default for SolverLimits {
    fn default() -> Self {
        SolverLimits {
            timeout_ms: 5_000,
            rlimit: 20_000_000,
        }
    }
}

impl SolverLimits {
    /// Checks the values are usable.
    pub fn validate(&self) -> Result<(), String> {
        if self.timeout_ms == 0 || self.timeout_ms > 600_000 {
            return Err(format!(
                "timeout_ms must be in 1..=600000, not {}",
                self.timeout_ms
            ));
        }
        if self.rlimit == 0 {
            return Err("rlimit must be positive".into());
        }
        Ok(())
    }
}

/// Extra wall-clock time before the watchdog interrupts a solver that ignored its timeout.
const GRACE: Duration = Duration::from_millis(250);

/// A check's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Sat,
    Unsat,
    /// Z3 gave up; the reason (`timeout`, `canceled`, `max. resource limit exceeded`, ...).
    Unknown(String),
}

/// One verification's Z3 session: solvers made here carry the limits.
pub(crate) struct Session {
    limits: SolverLimits,
    deadline: Instant,
}

impl Session {
    /// A solver with the limits applied (its timeout is what is left of the budget).
    pub fn solver(&self) -> Solver {
        let solver = Solver::new();
        let mut params = Params::new();
        let left = self.deadline.saturating_duration_since(Instant::now());
        let ms = u32::try_from(left.as_millis()).unwrap_or(u32::MAX).max(1);
        params.set_u32("timeout", ms);
        params.set_u32("rlimit", self.limits.rlimit);
        solver.set_params(&params);
        solver
    }

    /// Checks `assertions` together.
    pub fn check(&self, assertions: &[Bool]) -> Outcome {
        if Instant::now() >= self.deadline {
            return Outcome::Unknown("timeout".into());
        }
        let solver = self.solver();
        for a in assertions {
            solver.assert(a);
        }
        match solver.check() {
            SatResult::Sat => Outcome::Sat,
            SatResult::Unsat => Outcome::Unsat,
            SatResult::Unknown => Outcome::Unknown(
                solver
                    .get_reason_unknown()
                    .unwrap_or_else(|| "unknown".into()),
            ),
        }
    }

    /// Like [`Session::check`], returning the model's value of each of `terms` when sat.
    pub fn check_with_model<T: Ast + Clone + std::fmt::Display>(
        &self,
        assertions: &[Bool],
        terms: &[T],
    ) -> (Outcome, Vec<String>) {
        if Instant::now() >= self.deadline {
            return (Outcome::Unknown("timeout".into()), Vec::new());
        }
        let solver = self.solver();
        for a in assertions {
            solver.assert(a);
        }
        match solver.check() {
            SatResult::Sat => {
                let values = solver
                    .get_model()
                    .map(|m| {
                        terms
                            .iter()
                            .map(|t| {
                                m.eval(t, true)
                                    .map_or_else(|| "?".to_owned(), |v| v.to_string())
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                (Outcome::Sat, values)
            }
            SatResult::Unsat => (Outcome::Unsat, Vec::new()),
            SatResult::Unknown => (
                Outcome::Unknown(
                    solver
                        .get_reason_unknown()
                        .unwrap_or_else(|| "unknown".into()),
                ),
                Vec::new(),
            ),
        }
    }
}

/// Calls on one context before it is replaced (bounds what a long-lived context accumulates).
const CONTEXT_USES: u32 = 1_000;

thread_local! {
    /// This thread's Z3 context and how many calls it has served. Creating a context costs
    /// milliseconds, so it is reused; it is dropped after an interrupt, as a precaution.
    static CONTEXT: RefCell<Option<(Context, u32)>> = const { RefCell::new(None) };
}

/// A new Z3 context with model generation and no error handler (errors are returned as error
/// codes; Z3's default handler would exit the process).
fn new_context() -> Option<Context> {
    // SAFETY: plain Z3 C API calls on objects created here; the config is deleted after use,
    // and the context is handed to `Context::from_raw`, which owns and eventually deletes it.
    unsafe {
        let cfg = z3_sys::Z3_mk_config()?;
        z3_sys::Z3_set_param_value(cfg, c"model".as_ptr(), c"true".as_ptr());
        let ctx = z3_sys::Z3_mk_context_rc(cfg);
        z3_sys::Z3_del_config(cfg);
        let ctx = ctx?;
        z3_sys::Z3_set_error_handler(ctx, None);
        Some(Context::from_raw(ctx))
    }
}

/// Runs `work` on this thread's Z3 context, under `limits`. `None` when Z3 cannot create a
/// context.
pub(crate) fn with_session<R: Send + Sync>(
    limits: SolverLimits,
    work: impl FnOnce(&Session) -> R + Send + Sync,
) -> Option<R> {
    let started = Instant::now();
    let budget = Duration::from_millis(limits.timeout_ms);
    let session = Session {
        limits,
        deadline: started + budget,
    };
    let (ctx, uses) = match CONTEXT.with(|c| c.borrow_mut().take()) {
        Some(cached) => cached,
        None => (new_context()?, 0),
    };
    let interrupted = AtomicBool::new(false);
    let result = z3::with_z3_context(&ctx, || {
        let ctx = Context::thread_local();
        let handle = ctx.handle();
        let (done, wait) = mpsc::channel::<()>();
        std::thread::scope(|scope| {
            let interrupted = &interrupted;
            scope.spawn(move || {
                // Interrupt at the deadline unless the work finishes (or drops `done`) first.
                if let Err(mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(budget + GRACE) {
                    interrupted.store(true, Ordering::SeqCst);
                    handle.interrupt();
                }
            });
            let result = work(&session);
            drop(done);
            result
        })
    });
    if !interrupted.load(Ordering::SeqCst) && uses + 1 < CONTEXT_USES {
        CONTEXT.with(|c| *c.borrow_mut() = Some((ctx, uses + 1)));
    }
    Some(result)
}

/// Parses SMT-LIB 2 text into its assertions, reporting parse errors (unlike
/// `Solver::from_string`, which ignores them).
pub(crate) fn parse_smtlib(source: &str) -> Result<Vec<Bool>, String> {
    let src = std::ffi::CString::new(source)
        .map_err(|_| "the constraints contain a NUL byte".to_owned())?;
    let ctx = Context::thread_local();
    let raw = ctx.get_z3_context();
    // SAFETY: `raw` is the live context of this thread (owned by `ctx` for this whole
    // function); the AST vector is reference-counted with inc_ref/dec_ref around its use, and
    // each element is wrapped with `Bool::wrap`, which takes its own reference.
    unsafe {
        let vector = z3_sys::Z3_parse_smtlib2_string(
            raw,
            src.as_ptr(),
            0,
            std::ptr::null(),
            std::ptr::null(),
            0,
            std::ptr::null(),
            std::ptr::null(),
        );
        let code = z3_sys::Z3_get_error_code(raw);
        if let Some(v) = vector {
            z3_sys::Z3_ast_vector_inc_ref(raw, v);
        }
        let result = if code != z3_sys::ErrorCode::Ok {
            let msg = z3_sys::Z3_get_error_msg(raw, code);
            let text = if msg.is_null() {
                format!("{code:?}")
            } else {
                std::ffi::CStr::from_ptr(msg)
                    .to_string_lossy()
                    .trim()
                    .to_owned()
            };
            Err(format!("SMT-LIB parse error: {text}"))
        } else if let Some(v) = vector {
            let n = z3_sys::Z3_ast_vector_size(raw, v);
            let mut out = Vec::with_capacity(n as usize);
            for i in 0..n {
                match z3_sys::Z3_ast_vector_get(raw, v, i) {
                    Some(a) => out.push(Bool::wrap(&ctx, a)),
                    None => {
                        out.clear();
                        break;
                    }
                }
            }
            if out.len() == n as usize {
                Ok(out)
            } else {
                Err("SMT-LIB parse error: missing assertion".into())
            }
        } else {
            Err("SMT-LIB parse error: no result".into())
        };
        if let Some(v) = vector {
            z3_sys::Z3_ast_vector_dec_ref(raw, v);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<R: Send + Sync>(
        limits: SolverLimits,
        work: impl FnOnce(&Session) -> R + Send + Sync,
    ) -> R {
        with_session(limits, work).unwrap_or_else(|| panic!("no Z3 context"))
    }

    #[test]
    fn parse_errors_are_reported() {
        let r = run(SolverLimits::default(), |_| {
            parse_smtlib("(declare-const x Int) (assert (= x y))").map(|v| v.len())
        });
        assert!(r.is_err(), "{r:?}");
        let r = run(SolverLimits::default(), |_| {
            parse_smtlib("(assert (= 1 1)").map(|v| v.len())
        });
        assert!(r.is_err(), "{r:?}");
        let r = run(SolverLimits::default(), |_| {
            parse_smtlib("(declare-const x Int) (assert (> x 1)) (assert (< x 3))").map(|v| v.len())
        });
        assert_eq!(r, Ok(2));
    }

    #[test]
    fn checks_and_limits() {
        let r = run(SolverLimits::default(), |s| {
            let a =
                parse_smtlib("(declare-const x Int) (assert (= (* 3 x) 7))").unwrap_or_default();
            s.check(&a)
        });
        assert_eq!(r, Outcome::Unsat);
        let tiny = SolverLimits {
            timeout_ms: 5_000,
            rlimit: 1,
        };
        let r = run(tiny, |s| {
            let a = parse_smtlib("(declare-const x Real) (declare-const y Real) (assert (= (* x x y) 7.5)) (assert (> y x))")
                .unwrap_or_default();
            s.check(&a)
        });
        assert!(matches!(r, Outcome::Unknown(_)), "{r:?}");
    }

    #[test]
    fn limits_validate() {
        assert!(SolverLimits::default().validate().is_ok());
        assert!(SolverLimits {
            timeout_ms: 0,
            rlimit: 1
        }
        .validate()
        .is_err());
        assert!(SolverLimits {
            timeout_ms: 1,
            rlimit: 0
        }
        .validate()
        .is_err());
    }
}
