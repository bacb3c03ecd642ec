//! The Dockerfile parser: parser directives (`# escape=`, `# syntax=`), comments, line
//! continuations, heredocs, and each instruction's argument forms. Errors carry the file and
//! the 1-based line of the instruction.

use std::path::Path;

use super::instruction::{
    CommandForm, CopyArgs, Dockerfile, Heredoc, Instruction, InstructionKind, Stage,
};
use super::words::split_raw;
use crate::error::{ImageError, Result};

struct Ctx<'a> {
    path: &'a Path,
    escape: char,
}

impl Ctx<'_> {
    fn err(&self, line: usize, message: impl Into<String>) -> ImageError {
        ImageError::Dockerfile {
            file: self.path.to_path_buf(),
            line,
            message: message.into(),
        }
    }
}

/// Parses Dockerfile `text`; `path` names it in errors.
pub fn parse(text: &str, path: &Path) -> Result<Dockerfile> {
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let mut ctx = Ctx { path, escape: '\\' };
    let mut i = 0;
    // Parser directives: leading `# key=value` comments.
    while i < lines.len() {
        let Some(body) = lines[i].trim().strip_prefix('#') else {
            break;
        };
        let Some((k, v)) = body.split_once('=') else {
            break;
        };
        let k = k.trim().to_ascii_lowercase();
        if k.contains(char::is_whitespace) {
            break;
        }
        match k.as_str() {
            "escape" => {
                ctx.escape = match v.trim() {
                    "\\" => '\\',
                    "`" => '`',
                    other => {
                        return Err(ctx.err(
                            i + 1,
                            format!("invalid escape directive `{other}`: must be ` or \\"),
                        ));
                    }
                };
            }
            "syntax" | "check" => {}
            _ => break,
        }
        i += 1;
    }

    let mut global_args = Vec::new();
    let mut stages: Vec<Stage> = Vec::new();
    while i < lines.len() {
        let trimmed = lines[i].trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut logical = String::new();
        let mut cur = lines[i].trim_end().to_owned();
        loop {
            if let Some(stripped) = cur.strip_suffix(ctx.escape) {
                logical.push_str(stripped);
                i += 1;
                // Comment and empty lines inside a continuation are skipped.
                while i < lines.len()
                    && (lines[i].trim().starts_with('#') || lines[i].trim().is_empty())
                {
                    i += 1;
                }
                if i >= lines.len() {
                    break;
                }
                lines[i].trim_end().clone_into(&mut cur);
            } else {
                logical.push_str(&cur);
                i += 1;
                break;
            }
        }
        let logical = logical.trim().to_owned();
        let (keyword, args) = logical
            .split_once(char::is_whitespace)
            .map_or((logical.as_str(), ""), |(k, a)| (k, a.trim()));
        let keyword = keyword.to_ascii_uppercase();
        let heredocs = if matches!(keyword.as_str(), "RUN" | "COPY" | "ADD") {
            read_heredocs(&ctx, args, &lines, &mut i, start)?
        } else {
            Vec::new()
        };
        let kind = instruction(&ctx, &keyword, args, heredocs, start)?;
        let ins = Instruction {
            line: start,
            text: format!("{keyword} {args}").trim_end().to_owned(),
            kind,
        };
        match (&ins.kind, stages.last_mut()) {
            (InstructionKind::From { alias, .. }, _) => {
                let alias = alias.clone();
                if let Some(a) = &alias
                    && stages.iter().any(|s| {
                        s.alias
                            .as_deref()
                            .is_some_and(|x| x.eq_ignore_ascii_case(a))
                    })
                {
                    return Err(ctx.err(start, format!("duplicate stage name `{a}`")));
                }
                stages.push(Stage {
                    index: stages.len(),
                    from: ins,
                    alias,
                    instructions: Vec::new(),
                });
            }
            (InstructionKind::Arg(_), None) => global_args.push(ins),
            (_, None) => {
                return Err(ctx.err(
                    start,
                    format!("{keyword} before the first FROM: only ARG may come before FROM"),
                ));
            }
            (_, Some(stage)) => stage.instructions.push(ins),
        }
    }
    if stages.is_empty() {
        return Err(ctx.err(
            lines.len().max(1),
            "no FROM instruction: a Dockerfile needs at least one stage",
        ));
    }
    Ok(Dockerfile {
        path: path.to_path_buf(),
        global_args,
        stages,
    })
}

/// Finds `<<[-]["']NAME["']` markers in `args` and reads each body from the following lines.
fn read_heredocs(
    ctx: &Ctx<'_>,
    args: &str,
    lines: &[&str],
    i: &mut usize,
    start: usize,
) -> Result<Vec<Heredoc>> {
    let mut out = Vec::new();
    for word in split_raw(args, ctx.escape) {
        let Some(marker) = word.strip_prefix("<<") else {
            continue;
        };
        let (strip_tabs, marker) = marker
            .strip_prefix('-')
            .map_or((false, marker), |m| (true, m));
        let (quoted, name) = match marker.chars().next() {
            Some(q @ ('"' | '\'')) => (true, marker.trim_matches(q)),
            _ => (false, marker),
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let mut content = String::new();
        loop {
            if *i >= lines.len() {
                return Err(ctx.err(
                    start,
                    format!("unterminated heredoc: no line `{name}` closes `<<{name}`"),
                ));
            }
            let line = lines[*i];
            *i += 1;
            let line = if strip_tabs {
                line.trim_start_matches('\t')
            } else {
                line
            };
            if line == name {
                break;
            }
            content.push_str(line);
            content.push('\n');
        }
        out.push(Heredoc {
            name: name.to_owned(),
            content,
            quoted,
        });
    }
    Ok(out)
}

/// `--name=value` flags at the start of `args`; returns them and the rest.
fn flags<'a>(
    ctx: &Ctx<'_>,
    args: &'a str,
    allowed: &[&str],
    keyword: &str,
    line: usize,
) -> Result<(Vec<(String, String)>, &'a str)> {
    let mut rest = args.trim_start();
    let mut out = Vec::new();
    while let Some(f) = rest.strip_prefix("--") {
        let end = f.find(char::is_whitespace).unwrap_or(f.len());
        let flag = &f[..end];
        let (name, value) = flag.split_once('=').map_or((flag, ""), |(n, v)| (n, v));
        if !allowed.contains(&name) {
            let hint = if keyword == "RUN" && matches!(name, "mount" | "network" | "security") {
                " (RUN --mount/--network/--security are BuildKit extensions gantry does not support yet)"
            } else {
                ""
            };
            return Err(ctx.err(line, format!("{keyword}: unknown flag --{name}{hint}")));
        }
        out.push((name.to_owned(), value.to_owned()));
        rest = f[end..].trim_start();
    }
    Ok((out, rest))
}

/// Exec form when `args` is a JSON array of strings, shell form otherwise (as Docker does).
fn command_form(args: &str) -> CommandForm {
    if args.starts_with('[')
        && let Ok(v) = serde_json::from_str::<Vec<String>>(args)
    {
        return CommandForm::Exec(v);
    }
    CommandForm::Shell(args.to_owned())
}

fn pairs(
    ctx: &Ctx<'_>,
    keyword: &str,
    args: &str,
    line: usize,
    legacy: bool,
) -> Result<Vec<(String, String)>> {
    let words = split_raw(args, ctx.escape);
    if words.is_empty() {
        return Err(ctx.err(line, format!("{keyword} requires at least one argument")));
    }
    if legacy && !words[0].contains('=') {
        // `ENV KEY value with spaces`
        let (k, v) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
        if v.trim().is_empty() {
            return Err(ctx.err(
                line,
                format!("{keyword} {k}: missing value (use {keyword} {k}=value)"),
            ));
        }
        return Ok(vec![(k.to_owned(), v.trim().to_owned())]);
    }
    words
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
            _ => Err(ctx.err(line, format!("{keyword}: `{w}` is not KEY=VALUE"))),
        })
        .collect()
}

fn copy_args(
    ctx: &Ctx<'_>,
    keyword: &str,
    args: &str,
    heredocs: Vec<Heredoc>,
    line: usize,
) -> Result<CopyArgs> {
    let allowed: &[&str] = if keyword == "COPY" {
        &["from", "chown", "chmod", "link"]
    } else {
        &["chown", "chmod", "link", "checksum"]
    };
    let (flags, rest) = flags(ctx, args, allowed, keyword, line)?;
    let mut out = CopyArgs {
        heredocs,
        ..CopyArgs::default()
    };
    for (k, v) in flags {
        match k.as_str() {
            "from" => out.from = Some(v),
            "chown" => out.chown = Some(v),
            "chmod" => {
                if u32::from_str_radix(&v, 8).is_err() {
                    return Err(ctx.err(
                        line,
                        format!("{keyword} --chmod={v}: expected an octal mode such as 0755"),
                    ));
                }
                out.chmod = Some(v);
            }
            _ => {}
        }
    }
    let mut words = if rest.starts_with('[') {
        serde_json::from_str::<Vec<String>>(rest)
            .map_err(|e| ctx.err(line, format!("{keyword}: invalid JSON array: {e}")))?
    } else {
        split_raw(rest, ctx.escape)
    };
    if words.len() < 2 {
        return Err(ctx.err(
            line,
            format!("{keyword} requires at least two arguments: source(s) and destination"),
        ));
    }
    out.dest = words.pop().unwrap_or_default();
    out.sources = words;
    Ok(out)
}

fn instruction(
    ctx: &Ctx<'_>,
    keyword: &str,
    args: &str,
    heredocs: Vec<Heredoc>,
    line: usize,
) -> Result<InstructionKind> {
    let need = |what: &str| -> Result<()> {
        if args.is_empty() {
            Err(ctx.err(line, format!("{keyword} requires {what}")))
        } else {
            Ok(())
        }
    };
    Ok(match keyword {
        "FROM" => {
            let (flags, rest) = flags(ctx, args, &["platform"], keyword, line)?;
            let words: Vec<&str> = rest.split_whitespace().collect();
            let (image, alias) = match words.as_slice() {
                [image] => ((*image).to_owned(), None),
                [image, as_kw, name] if as_kw.eq_ignore_ascii_case("as") => {
                    ((*image).to_owned(), Some((*name).to_owned()))
                }
                [] => return Err(ctx.err(line, "FROM requires an image (or `scratch`)")),
                _ => return Err(ctx.err(line, "FROM takes `image [AS name]`")),
            };
            if let Some(a) = &alias
                && !a
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            {
                return Err(ctx.err(line, format!("invalid stage name `{a}`")));
            }
            InstructionKind::From {
                image,
                alias,
                platform: flags
                    .into_iter()
                    .find(|(k, _)| k == "platform")
                    .map(|(_, v)| v),
            }
        }
        "RUN" => {
            let (_, rest) = flags(ctx, args, &[], keyword, line)?;
            if rest.is_empty() {
                return Err(ctx.err(line, "RUN requires a command"));
            }
            InstructionKind::Run {
                command: command_form(rest),
                heredocs,
            }
        }
        "CMD" => {
            need("a command")?;
            InstructionKind::Cmd(command_form(args))
        }
        "ENTRYPOINT" => {
            need("a command")?;
            InstructionKind::Entrypoint(command_form(args))
        }
        "COPY" => InstructionKind::Copy(copy_args(ctx, keyword, args, heredocs, line)?),
        "ADD" => InstructionKind::Add(copy_args(ctx, keyword, args, heredocs, line)?),
        "ENV" => InstructionKind::Env(pairs(ctx, keyword, args, line, true)?),
        "LABEL" => InstructionKind::Label(pairs(ctx, keyword, args, line, false)?),
        "ARG" => {
            let words = split_raw(args, ctx.escape);
            if words.is_empty() {
                return Err(ctx.err(line, "ARG requires a name"));
            }
            InstructionKind::Arg(
                words
                    .into_iter()
                    .map(|w| match w.split_once('=') {
                        Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                        None => (w, None),
                    })
                    .collect(),
            )
        }
        "WORKDIR" => {
            need("a path")?;
            InstructionKind::Workdir(args.to_owned())
        }
        "USER" => {
            need("a user")?;
            InstructionKind::User(args.to_owned())
        }
        "EXPOSE" => {
            need("a port")?;
            InstructionKind::Expose(split_raw(args, ctx.escape))
        }
        "VOLUME" => {
            need("a path")?;
            let v = if args.starts_with('[') {
                serde_json::from_str(args)
                    .map_err(|e| ctx.err(line, format!("VOLUME: invalid JSON array: {e}")))?
            } else {
                split_raw(args, ctx.escape)
            };
            InstructionKind::Volume(v)
        }
        "STOPSIGNAL" => {
            need("a signal")?;
            InstructionKind::StopSignal(args.to_owned())
        }
        "SHELL" => {
            let v: Vec<String> = serde_json::from_str(args).map_err(|_| {
                ctx.err(
                    line,
                    "SHELL requires the JSON form: SHELL [\"executable\", \"parameters\"]",
                )
            })?;
            if v.is_empty() {
                return Err(ctx.err(line, "SHELL requires at least the executable"));
            }
            InstructionKind::Shell(v)
        }
        "MAINTAINER" => {
            need("a name")?;
            InstructionKind::Maintainer(args.to_owned())
        }
        "HEALTHCHECK" => {
            need("CMD ... or NONE")?;
            InstructionKind::Healthcheck(args.to_owned())
        }
        "ONBUILD" => return Err(ctx.err(line, "ONBUILD is not supported by gantry")),
        other => return Err(ctx.err(line, format!("unknown instruction: {other}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Dockerfile {
        parse(text, Path::new("Dockerfile")).unwrap()
    }

    fn e(text: &str) -> String {
        parse(text, Path::new("Dockerfile"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn stages_args_and_forms() {
        let d = p(
            "# syntax=docker/dockerfile:1\nARG BASE=scratch\nFROM ${BASE} AS build\nRUN echo a \\\n  # comment\n  && echo b\nCMD [\"/app\", \"-v\"]\nENTRYPOINT /bin/sh\n\nFROM --platform=linux/amd64 build\nCOPY --from=build --chown=1:2 --chmod=0755 a b /dst/\nENV A=1 B=\"two words\"\nENV LEGACY some value\n",
        );
        assert_eq!(d.global_args.len(), 1);
        assert_eq!(d.stages.len(), 2);
        assert_eq!(d.stages[0].alias.as_deref(), Some("build"));
        let run = &d.stages[0].instructions[0];
        assert_eq!(run.line, 4);
        assert_eq!(
            run.kind,
            InstructionKind::Run {
                command: CommandForm::Shell("echo a   && echo b".into()),
                heredocs: vec![]
            }
        );
        assert_eq!(
            d.stages[0].instructions[1].kind,
            InstructionKind::Cmd(CommandForm::Exec(vec!["/app".into(), "-v".into()]))
        );
        assert_eq!(
            d.stages[0].instructions[2].kind,
            InstructionKind::Entrypoint(CommandForm::Shell("/bin/sh".into()))
        );
        let InstructionKind::From { platform, .. } = &d.stages[1].from.kind else {
            panic!()
        };
        assert_eq!(platform.as_deref(), Some("linux/amd64"));
        let InstructionKind::Copy(c) = &d.stages[1].instructions[0].kind else {
            panic!()
        };
        assert_eq!(
            (c.from.as_deref(), c.chown.as_deref(), c.chmod.as_deref()),
            (Some("build"), Some("1:2"), Some("0755"))
        );
        assert_eq!(c.sources, ["a", "b"]);
        assert_eq!(c.dest, "/dst/");
        assert_eq!(
            d.stages[1].instructions[1].kind,
            InstructionKind::Env(vec![
                ("A".into(), "1".into()),
                ("B".into(), "\"two words\"".into())
            ])
        );
        assert_eq!(
            d.stages[1].instructions[2].kind,
            InstructionKind::Env(vec![("LEGACY".into(), "some value".into())])
        );
        assert_eq!(d.stage("BUILD").unwrap().index, 0);
        assert_eq!(d.stage("1").unwrap().index, 1);
    }

    #[test]
    fn heredocs_and_escape_directive() {
        let d = p(
            "FROM scratch\nRUN <<EOF\necho one\necho two\nEOF\nCOPY <<-'CONF' /etc/app.conf\n\tkey=$v\n\tCONF\nLABEL a=b\n",
        );
        let InstructionKind::Run { heredocs, .. } = &d.stages[0].instructions[0].kind else {
            panic!()
        };
        assert_eq!(heredocs[0].content, "echo one\necho two\n");
        let InstructionKind::Copy(c) = &d.stages[0].instructions[1].kind else {
            panic!()
        };
        assert_eq!(c.heredocs[0].content, "key=$v\n");
        assert!(c.heredocs[0].quoted);
        assert_eq!(d.stages[0].instructions[2].line, 9);

        let d = p("# escape=`\nFROM scratch\nENV P=C:\\dir `\n  Q=1\n");
        assert_eq!(
            d.stages[0].instructions[0].kind,
            InstructionKind::Env(vec![
                ("P".into(), "C:\\dir".into()),
                ("Q".into(), "1".into())
            ])
        );
    }

    #[test]
    fn errors_name_file_and_line() {
        assert_eq!(
            e("FROM scratch\n\nFROBNICATE x\n"),
            "Dockerfile:3: unknown instruction: FROBNICATE"
        );
        assert_eq!(
            e("RUN true\nFROM scratch\n"),
            "Dockerfile:1: RUN before the first FROM: only ARG may come before FROM"
        );
        assert_eq!(
            e("FROM scratch\nCOPY onlyone\n"),
            "Dockerfile:2: COPY requires at least two arguments: source(s) and destination"
        );
        assert!(
            e("FROM scratch\nRUN <<EOF\necho\n").starts_with("Dockerfile:2: unterminated heredoc")
        );
        assert!(e("FROM scratch\nRUN --mount=type=cache,target=/x true\n").contains("--mount"));
        assert_eq!(
            e("# just a comment\n"),
            "Dockerfile:2: no FROM instruction: a Dockerfile needs at least one stage"
        );
        assert!(e("FROM a AS x\nFROM b AS X\n").contains("duplicate stage name"));
        assert!(e("FROM scratch\nLABEL novalue\n").contains("not KEY=VALUE"));
        assert!(e("FROM scratch\nCOPY --chmod=abc a b\n").contains("octal"));
        assert!(e("FROM scratch\nENV ONLYKEY\n").contains("missing value"));
        assert!(e("FROM\n").contains("FROM requires an image"));
    }
}
