//! Command-line flags for the examples: `--name value` or `--name=value`, and `--help`.
//! Small on purpose: the examples show the crate, not an argument parser.

#![allow(dead_code)] // Each example uses the part it needs.

use std::ffi::OsString;
use std::process::ExitCode;
use std::str::FromStr;

/// The flags given to a program, read one at a time.
pub struct Flags {
    args: std::vec::IntoIter<OsString>,
    /// The current flag's name, and its value when given after `=`.
    current: Option<(String, Option<String>)>,
}

impl Flags {
    /// The program's arguments, without its name.
    pub fn from_env() -> Self {
        Self::new(std::env::args_os().skip(1))
    }

    pub fn new(args: impl IntoIterator<Item = OsString>) -> Self {
        Self {
            args: args.into_iter().collect::<Vec<_>>().into_iter(),
            current: None,
        }
    }

    /// The next flag's name (`--help` and `-h` included), or `None` after the last.
    pub fn next_flag(&mut self) -> Result<Option<String>, String> {
        if let Some((name, Some(_))) = &self.current {
            return Err(format!("{name} takes no value"));
        }
        let Some(arg) = self.args.next() else {
            return Ok(None);
        };
        let arg = utf8(arg, "argument")?;
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => {
                (name.to_owned(), Some(value.to_owned()))
            }
            _ => (arg, None),
        };
        self.current = Some((name.clone(), inline));
        Ok(Some(name))
    }

    /// The current flag's value: after `=`, or the next argument.
    pub fn value(&mut self) -> Result<String, String> {
        let (name, inline) = self.current.take().expect("value() follows next_flag()");
        match inline {
            Some(value) => Ok(value),
            None => {
                let value = self.args.next().ok_or(format!("{name} needs a value"))?;
                utf8(value, &format!("value of {name}"))
            }
        }
    }

    /// The current flag's value as a number.
    pub fn number<T: FromStr>(&mut self) -> Result<T, String> {
        let name = self.current.as_ref().map(|(name, _)| name.clone());
        let text = self.value()?;
        text.parse().map_err(|_| {
            let name = name.unwrap_or_default();
            format!("{name} takes a decimal number, not {text:?}")
        })
    }

    /// A callback token: not empty, and without the leading or trailing whitespace that a
    /// token pasted with its line break carries (the layer refuses such a token).
    pub fn token(&mut self) -> Result<String, String> {
        checked_token(self.non_empty()?, "--token")
    }

    /// The current flag's value, which must not be empty.
    pub fn non_empty(&mut self) -> Result<String, String> {
        let name = self.current.as_ref().map(|(name, _)| name.clone());
        let value = self.value()?;
        if value.is_empty() {
            return Err(format!("{} is empty", name.unwrap_or_default()));
        }
        Ok(value)
    }
}

fn utf8(arg: OsString, what: &str) -> Result<String, String> {
    arg.into_string()
        .map_err(|arg| format!("{what} is not UTF-8: {arg:?}"))
}

/// Runs `parse` over the program's flags: `Ok(options)`, or the exit code after printing the
/// help (asked for with `--help`, `parse` returning `Ok(None)`) or the error and the usage.
pub fn parse_or_exit<T>(
    program: &str,
    usage: &str,
    parse: impl FnOnce(&mut Flags) -> Result<Option<T>, String>,
) -> Result<T, ExitCode> {
    match parse(&mut Flags::from_env()) {
        Ok(Some(options)) => Ok(options),
        Ok(None) => {
            println!("{usage}");
            Err(ExitCode::SUCCESS)
        }
        Err(message) => {
            eprintln!("{program}: {message}\n\n{usage}");
            Err(ExitCode::from(2))
        }
    }
}

/// The flags of a program that takes only `--addr HOST:PORT` (default `127.0.0.1:3000`).
pub fn addr_only(flags: &mut Flags) -> Result<Option<String>, String> {
    let mut addr = "127.0.0.1:3000".to_owned();
    while let Some(name) = flags.next_flag()? {
        match name.as_str() {
            "--help" | "-h" => return Ok(None),
            "--addr" => addr = flags.value()?,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(addr))
}

/// The environment variable a receiver example reads its callback token from when no `--token`
/// is given: unlike a command-line flag, it shows neither in `ps` nor in the shell's history.
pub const TOKEN_ENV: &str = "TIM_CALLBACK_TOKEN";

/// The callback token in [`TOKEN_ENV`], if it is set, checked as `--token` is.
pub fn env_token() -> Result<Option<String>, String> {
    match std::env::var(TOKEN_ENV) {
        Ok(token) if token.is_empty() => Err(format!("{TOKEN_ENV} is empty")),
        Ok(token) => checked_token(token, TOKEN_ENV).map(Some),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(format!("{TOKEN_ENV} is not UTF-8")),
    }
}

/// `token`, unless it starts or ends with whitespace; `source` names where it came from.
fn checked_token(token: String, source: &str) -> Result<String, String> {
    if token.trim_matches(|c: char| c.is_ascii_whitespace()) != token {
        return Err(format!("{source} must not start or end with whitespace"));
    }
    Ok(token)
}

/// Binds `addr` and prints `listening on http://ADDR` with the address actually bound, the line
/// scripts and tests wait for; on failure, says why on standard error and gives exit status 1.
pub async fn listen(
    program: &str,
    addr: &str,
) -> Result<(tokio::net::TcpListener, std::net::SocketAddr), ExitCode> {
    let bound = async {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        Ok::<_, std::io::Error>((listener, local))
    };
    match bound.await {
        Ok((listener, local)) => {
            eprintln!("listening on http://{local}");
            Ok((listener, local))
        }
        Err(error) => {
            eprintln!("{program}: cannot listen on {addr}: {error}");
            Err(ExitCode::FAILURE)
        }
    }
}
