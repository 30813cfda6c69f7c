//! The `plantview` binary: parses arguments and hands over to the library.

fn main() -> std::process::ExitCode {
    plantview::cli::main()
}
