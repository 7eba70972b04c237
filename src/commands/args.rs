//! A command's arguments as people type them: words, `key=value` options and "quoted text".
//!
//! Only double quotes group words (straight or the curly ones phones insert), so an apostrophe
//! in free text (`we didn't agree`) is just a letter.

use super::CommandError;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Option { key: String, value: String },
}

/// What follows the command's name, taken apart from left to right by the handler.
#[derive(Debug, Clone, Default)]
pub struct Args {
    tokens: Vec<Token>,
}

impl Args {
    pub fn parse(text: &str) -> Result<Args, CommandError> {
        let mut tokens = Vec::new();
        let mut current = String::new();
        let mut quoted = false;
        let mut started = false;
        for c in text.chars() {
            match c {
                '"' | '“' | '”' | '„' => {
                    quoted = !quoted;
                    started = true;
                }
                c if c.is_whitespace() && !quoted => {
                    if started {
                        tokens.push(token(std::mem::take(&mut current)));
                        started = false;
                    }
                }
                c => {
                    current.push(c);
                    started = true;
                }
            }
        }
        if quoted {
            return Err(CommandError::Usage("a quotation mark is not closed".into()));
        }
        if started {
            tokens.push(token(current));
        }
        Ok(Args { tokens })
    }

    /// The next word, or a usage error naming what is missing.
    pub fn word(&mut self, what: &str) -> Result<String, CommandError> {
        self.optional_word().ok_or_else(|| CommandError::Usage(format!("{what} is missing")))
    }

    /// The next word, if the next argument is one.
    pub fn optional_word(&mut self) -> Option<String> {
        let position = self.tokens.iter().position(|t| matches!(t, Token::Word(_)))?;
        match self.tokens.remove(position) {
            Token::Word(word) => Some(word),
            Token::Option { .. } => None,
        }
    }

    /// Takes `key=value` wherever it stands.
    pub fn option(&mut self, key: &str) -> Option<String> {
        let position = self.tokens.iter().position(|t| matches!(t, Token::Option { key: k, .. } if k == key))?;
        match self.tokens.remove(position) {
            Token::Option { value, .. } => Some(value),
            Token::Word(_) => None,
        }
    }

    /// Takes `key=value`, or says that it is missing.
    pub fn required_option(&mut self, key: &str) -> Result<String, CommandError> {
        self.option(key).ok_or_else(|| CommandError::Usage(format!("{key}=… is missing")))
    }

    /// Everything left, words and options alike, as text (free text such as a note).
    pub fn rest(&mut self) -> String {
        let words: Vec<String> = self
            .tokens
            .drain(..)
            .map(|t| match t {
                Token::Word(word) => word,
                Token::Option { key, value } => format!("{key}={value}"),
            })
            .collect();
        words.join(" ")
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Refuses what nobody took: a misspelt option must not be ignored silently.
    pub fn finish(self) -> Result<(), CommandError> {
        match self.tokens.first() {
            None => Ok(()),
            Some(Token::Word(word)) => Err(CommandError::Usage(format!("I did not expect {} there", crate::core::markdown::code(word)))),
            Some(Token::Option { key, .. }) => {
                Err(CommandError::Usage(format!("there is no option {} here", crate::core::markdown::code(&format!("{key}=")))))
            }
        }
    }
}

/// `key=value` when the key is a plain lower-case name; anything else is a word.
fn token(text: String) -> Token {
    if let Some((key, value)) = text.split_once('=')
        && !key.is_empty()
        && key.chars().all(|c| c.is_ascii_lowercase() || c == '-' || c == '_')
    {
        return Token::Option { key: key.to_string(), value: value.to_string() };
    }
    Token::Word(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_options_and_quotes_come_apart() {
        let mut args = Args::parse(r#"tu name="Tartu Ülikool" country=EE  domain=ut.ee,tu.ee"#).unwrap();
        assert_eq!(args.word("handle").unwrap(), "tu");
        assert_eq!(args.option("name").as_deref(), Some("Tartu Ülikool"));
        assert_eq!(args.option("domain").as_deref(), Some("ut.ee,tu.ee"));
        assert_eq!(args.required_option("country").unwrap(), "EE");
        assert!(args.finish().is_ok());
    }

    #[test]
    fn an_apostrophe_is_a_letter_and_curly_quotes_group() {
        let mut args = Args::parse("tu via=call We didn't agree “on the date”").unwrap();
        assert_eq!(args.word("handle").unwrap(), "tu");
        assert_eq!(args.option("via").as_deref(), Some("call"));
        assert_eq!(args.rest(), "We didn't agree on the date");
    }

    #[test]
    fn leftovers_and_open_quotes_are_usage_errors() {
        let args = Args::parse("x colour=red").unwrap();
        let mut args2 = args.clone();
        args2.word("x").unwrap();
        assert!(matches!(args2.finish(), Err(CommandError::Usage(m)) if m.contains("colour=")));
        assert!(matches!(Args::parse("\"open"), Err(CommandError::Usage(_))));
        assert!(matches!(Args::parse("").unwrap().word("NUMBER"), Err(CommandError::Usage(m)) if m == "NUMBER is missing"));
    }

    #[test]
    fn an_empty_quoted_value_is_an_argument() {
        let mut args = Args::parse(r#"role="""#).unwrap();
        assert_eq!(args.option("role").as_deref(), Some(""));
    }
}
