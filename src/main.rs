use clap::Parser;

#[tokio::main]
async fn main() {
    let cli = chancery::cli::Cli::parse();
    let code = match chancery::cli::run(cli).await {
        Ok(code) => code,
        Err(error) if is_broken_pipe(&error) => 0, // the reader (`head`, a pager) has had enough
        Err(error) => {
            eprintln!("chancery: {}", one_line(&error));
            1
        }
    };
    std::process::exit(code);
}

/// The error and its causes on one line, without repeating a cause its parent already quotes.
fn one_line(error: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in error.chain() {
        let text = cause.to_string().replace('\n', " ");
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe))
}
