use clap::Parser;

#[tokio::main]
async fn main() {
    let cli = chancery::cli::Cli::parse();
    let code = match chancery::cli::run(cli).await {
        Ok(code) => code,
        Err(error) if is_broken_pipe(&error) => 0, // the reader (`head`, a pager) has had enough
        Err(error) => {
            eprintln!("chancery: {}", chancery::errors::one_line_of(&error));
            1
        }
    };
    std::process::exit(code);
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe))
}
