//! `USER` and `--chown` values: `user[:group]` by name (looked up in the image's
//! `/etc/passwd` and `/etc/group`) or by number.

/// Resolves `spec` to (uid, gid). `passwd`/`group` are the image's files, when it has them.
pub fn resolve(
    spec: &str,
    passwd: Option<&str>,
    group: Option<&str>,
) -> Result<(u32, u32), String> {
    let (user, grp) = spec
        .split_once(':')
        .map_or((spec, None), |(u, g)| (u, Some(g)));
    let user_line = |name: &str| {
        passwd?.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() >= 4 && f[0] == name)
                .then(|| (f[2].parse::<u32>().ok(), f[3].parse::<u32>().ok()))
        })
    };
    let (uid, primary_gid) = if let Ok(n) = user.parse::<u32>() {
        // A numeric user: its passwd entry (if any) gives the primary group.
        let gid = passwd.and_then(|p| {
            p.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() >= 4 && f[2].parse::<u32>().ok() == Some(n))
                    .then(|| f[3].parse::<u32>().ok())
                    .flatten()
            })
        });
        (n, gid.unwrap_or(n))
    } else {
        match user_line(user) {
            Some((Some(u), Some(g))) => (u, g),
            _ => {
                return Err(format!(
                    "user `{user}` not found in the image's /etc/passwd{}",
                    if passwd.is_none() {
                        " (the image has no /etc/passwd; use a numeric uid)"
                    } else {
                        ""
                    }
                ));
            }
        }
    };
    let gid = match grp {
        None | Some("") => primary_gid,
        Some(g) => match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => group
                .and_then(|gr| {
                    gr.lines().find_map(|l| {
                        let f: Vec<&str> = l.split(':').collect();
                        (f.len() >= 3 && f[0] == g)
                            .then(|| f[2].parse::<u32>().ok())
                            .flatten()
                    })
                })
                .ok_or_else(|| format!("group `{g}` not found in the image's /etc/group"))?,
        },
    };
    Ok((uid, gid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_names_and_numbers() {
        let passwd = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n";
        let group = "root:x:0:\nstaff:x:50:\n";
        assert_eq!(resolve("app", Some(passwd), Some(group)), Ok((1000, 1001)));
        assert_eq!(
            resolve("app:staff", Some(passwd), Some(group)),
            Ok((1000, 50))
        );
        assert_eq!(resolve("1000", Some(passwd), Some(group)), Ok((1000, 1001)));
        assert_eq!(resolve("42:7", None, None), Ok((42, 7)));
        assert_eq!(resolve("42", None, None), Ok((42, 42)));
        assert!(
            resolve("nobody", Some(passwd), None)
                .unwrap_err()
                .contains("not found")
        );
        assert!(
            resolve("nobody", None, None)
                .unwrap_err()
                .contains("numeric")
        );
        assert!(resolve("app:nogroup", Some(passwd), Some(group)).is_err());
    }
}
