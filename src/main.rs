//! The `poolscale` binary: the command line with the six built-in strategies. Everything else is
//! in the library; a binary of your own can be the same command line with your strategies too.

fn main() -> std::process::ExitCode {
    poolscale::main_with(&poolscale::strategy::Strategies::builtin())
}
