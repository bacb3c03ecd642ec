//! `locate_config`: which `config.toml` applies — the one given with `--config`, else
//! `<project>/.gantry/config.toml`, else `~/.gantry/config.toml`.

use std::path::{Path, PathBuf};

/// The configuration file to read, or `None` when there is none (defaults apply). An explicit
/// file is returned even when missing, so reading it reports the error.
pub fn locate_config(
    explicit: Option<&Path>,
    project_dir: &Path,
    home: Option<&Path>,
) -> Option<PathBuf> {
    if let Some(path) = explicit {
        return Some(path.to_path_buf());
    }
    let project = project_dir.join(".gantry").join("config.toml");
    if project.is_file() {
        return Some(project);
    }
    home.map(|h| h.join(".gantry").join("config.toml"))
        .filter(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_before_home() {
        let project = tempfile::tempdir().unwrap();
        let home = tempfile::tempdir().unwrap();
        assert_eq!(locate_config(None, project.path(), Some(home.path())), None);
        std::fs::create_dir_all(home.path().join(".gantry")).unwrap();
        std::fs::write(home.path().join(".gantry/config.toml"), "").unwrap();
        assert_eq!(
            locate_config(None, project.path(), Some(home.path())),
            Some(home.path().join(".gantry/config.toml"))
        );
        std::fs::create_dir_all(project.path().join(".gantry")).unwrap();
        std::fs::write(project.path().join(".gantry/config.toml"), "").unwrap();
        assert_eq!(
            locate_config(None, project.path(), Some(home.path())),
            Some(project.path().join(".gantry/config.toml"))
        );
        let explicit = Path::new("/nowhere/config.toml");
        assert_eq!(
            locate_config(Some(explicit), project.path(), None),
            Some(explicit.to_path_buf())
        );
    }
}
