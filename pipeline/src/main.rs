fn main() {
    std::process::exit(smelt::cli::main());
}
