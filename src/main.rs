//! The `poolscale` binary: parse, run, print the error chain. Everything else is in the library.

fn main() -> std::process::ExitCode {
    poolscale::cli::main()
}
