fn main() -> std::process::ExitCode {
    swiss::cli::main()
}
