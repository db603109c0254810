// Rows and completions move between threads (allocated on one, freed on another); mimalloc
// handles that far better than glibc malloc. Only the binary sets it: the library leaves the
// choice to whoever embeds it.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(smelt::cli::main());
}
